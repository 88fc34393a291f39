"""A Kubernetes API on loopback for tests: kmock's emulator plus what kubectl and Kopf expect.

kmock 0.8 stores objects but leaves a few things to the caller, which this subclass adds:
uids, resourceVersions, generations and creation timestamps; names for `generateName`
(Kopf's events); `kind`/`apiVersion` on lists and the core group's discovery
`groupVersion` (kubectl refuses them otherwise); lists and watches narrowed by a
`metadata.name` field selector and by a `labelSelector`. Given a `Gate` (rbac.py), it
authenticates and authorises every request as the API server would, so a verb missing
from the chart's RBAC fails the test that needs it. Writes keep `metadata.managedFields`
and PATCH serves server-side apply with its conflicts (field_managers.py), so a
platform engineer's `kubectl apply --server-side` meets the console's field manager as it
would in a cluster. It validates no schema, runs no
controllers and collects no garbage: tests check those parts separately (kubelet.py runs
Jobs).
"""

import asyncio
import copy
import datetime
import itertools
import re
import secrets
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp.test_utils
import aiohttp.web
import attrs
import field_managers
import kmock
import yaml
from certificates import serving_certificate
from kmock._internal import dicts as kmock_dicts
from kmock._internal import rendering
from rbac import Gate, request_attributes

RESOURCES: dict[str, dict[str, Any]] = {
    "v1/namespaces": {"kind": "Namespace", "namespaced": False},
    "v1/events": {"kind": "Event"},
    "v1/configmaps": {"kind": "ConfigMap"},
    "v1/secrets": {"kind": "Secret"},
    "v1/services": {"kind": "Service"},
    "v1/serviceaccounts": {"kind": "ServiceAccount"},
    "v1/persistentvolumeclaims": {"kind": "PersistentVolumeClaim"},
    "v1/pods": {"kind": "Pod", "subresources": {"status"}},
    "apps/v1/deployments": {"kind": "Deployment", "subresources": {"status", "scale"}},
    "batch/v1/jobs": {"kind": "Job", "subresources": {"status"}},
    "networking.k8s.io/v1/networkpolicies": {"kind": "NetworkPolicy"},
    "apiextensions.k8s.io/v1/customresourcedefinitions": {
        "kind": "CustomResourceDefinition",
        "namespaced": False,
    },
    "katha.dev/v1alpha1/businesses": {
        "kind": "Business",
        "shortnames": {"biz"},
        "subresources": {"status"},
    },
    "katha.dev/v1alpha1/languagemodels": {
        "kind": "LanguageModel",
        "shortnames": {"lm"},
        "subresources": {"status"},
    },
}
KUBERAY = {"ray.io/v1/rayservices": {"kind": "RayService", "subresources": {"status"}}}
VERBS = {"get", "list", "watch", "create", "update", "patch", "delete"}
WRITES = {kmock.action.CREATE, kmock.action.UPDATE}


class KubeEmulator(kmock.KubernetesEmulator):
    _versions = itertools.count(1)
    gate: Gate | None = None  # None: every request is served, as kmock does
    http_url = ""  # where it is served (`url` may name either server once there are two)
    https_url: str | None = None  # with a TLS folder: the same API over HTTPS
    certificate: Path | None = None  # the certificate to trust for https_url
    # Each refused request as "403 User ... cannot ...": tests assert there were none.
    refusals: list[str]

    def authorise_with(self, gate: Gate) -> None:
        self.gate = gate

    def declare(self, resources: dict[str, dict[str, Any]]) -> None:
        self.refusals = []
        for key, info in resources.items():
            singular = info["kind"].lower()
            self.resources[key] = kmock.ResourceInfo(
                kind=info["kind"],
                namespaced=info.get("namespaced", True),
                singular=singular,
                verbs=VERBS,
                shortnames=info.get("shortnames", set()),
                subresources=info.get("subresources", set()),
            )

    async def _handle(self, request: rendering.Request) -> Any:
        if self.gate is not None:
            refusal = self.gate.check(
                request.method.value, request.url.path, request.params, request.headers
            )
            if refusal is not None:
                self.refusals.append(f"{refusal['code']} {refusal['message']}")
                return aiohttp.web.json_response(refusal, status=refusal["code"])
        # kmock keeps every request for assertions and re-filters that whole history to
        # route each new one, so requests slow down as they accumulate. Nothing here
        # asserts on old requests: keep only the recent ones.
        active: set[int] = self.__dict__.setdefault("_active", set())
        active.add(id(request))
        if len(self._requests) > len(active):
            self._requests[:] = [seen for seen in self._requests if id(seen) in active]
        received = request
        try:
            if request.resource is None or request.action not in WRITES:
                return await super()._handle(request)
            # One write at a time: each reads the stored object to work out its fields'
            # owners, and must not interleave with another write to the same object.
            async with self.__dict__.setdefault("_writes", asyncio.Lock()):
                try:
                    request = self._replaced(request, self._owned(request))
                except (field_managers.ApplyConflictError, field_managers.StaleError) as conflict:
                    return aiohttp.web.json_response(conflict.status(), status=409)
                except ValueError as error:
                    status = field_managers.invalid_status(str(error))
                    return aiohttp.web.json_response(status, status=422)
                if isinstance(request.data, dict):
                    if request.action == kmock.action.CREATE:
                        self._stamp_new(request.data)
                    elif request.action == kmock.action.UPDATE:
                        self._stamp_update(request)
                return await super()._handle(request)
        finally:
            active.discard(id(received))
            active.discard(id(request))

    def _replaced(self, old: rendering.Request, new: rendering.Request) -> rendering.Request:
        """`new` in `old`'s place: kmock routes a request by finding it in its history."""
        if new is not old:
            active: set[int] = self.__dict__["_active"]
            active.add(id(new))
            self._requests[:] = [new if seen is old else seen for seen in self._requests]
        return new

    def _owned(self, request: rendering.Request) -> rendering.Request:
        """The write with its field ownership worked out (see field_managers): a server-side
        apply becomes the merge patch (or create) of its result; a create or merge patch
        carries the `managedFields` it leaves."""
        resource = request.resource
        assert resource is not None
        api_version = f"{resource.group}/{resource.version}".lstrip("/")
        manager = field_managers.manager_of(dict(request.params), dict(request.headers))
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        key = (resource, request.namespace, request.name)
        stored = self.objects[key] if key in self.objects else None  # noqa: SIM401 - no .get
        current = None if stored is None or stored.deleted else copy.deepcopy(stored.raw)
        headers = {name.lower(): value for name, value in request.headers.items()}
        content_type = headers.get("content-type", "").split(";")[0].strip()
        if content_type == field_managers.APPLY_CONTENT_TYPE:
            return self._applied(request, current, api_version, now)
        if request.action == kmock.action.CREATE and isinstance(request.data, dict):
            new = request.data
        elif current is None or not isinstance(request.data, dict | list):
            return request  # kmock answers 404, or refuses the body
        else:
            new = dict(kmock_dicts.patch_dict(current, request.data))  # merge or JSON patch
        owners = field_managers.record_update(
            current, new, manager, api_version, now, request.subresource
        )
        data = copy.deepcopy(request.data)
        if isinstance(data, list):
            data.append({"op": "add", "path": "/metadata/managedFields", "value": owners})
        else:
            data.setdefault("metadata", {})["managedFields"] = owners
        return attrs.evolve(request, data=data)

    def _applied(
        self,
        request: rendering.Request,
        current: dict[str, Any] | None,
        api_version: str,
        now: str,
    ) -> rendering.Request:
        if request.subresource is not None or not request.params.get("fieldManager"):
            raise ValueError("fieldManager is required for apply requests (and no subresource)")
        body = request.data if isinstance(request.data, dict) else yaml.safe_load(request.text)
        if not isinstance(body, dict):
            raise ValueError("an apply request's body must be an object")
        expected = (body.get("metadata") or {}).get("resourceVersion")
        stored_version = (current or {}).get("metadata", {}).get("resourceVersion")
        if expected and current is not None and expected != stored_version:
            raise field_managers.StaleError(request.name or "")
        force = request.params.get("force") == "true"
        manager = request.params["fieldManager"]
        new = field_managers.apply(current, body, manager, api_version, now, force)
        if current is None:  # applying what is not there creates it
            new.setdefault("metadata", {}).setdefault("namespace", request.namespace)
            return attrs.evolve(request, action=kmock.action.CREATE, data=new)
        return attrs.evolve(request, data=field_managers.merge_patch(current, new))

    def _stamp_new(self, data: dict[str, Any]) -> None:
        meta = data.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta["resourceVersion"] = str(next(self._versions))
        meta.setdefault("generation", 1)
        meta.setdefault(
            "creationTimestamp",
            datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def _stamp_update(self, request: rendering.Request) -> None:
        meta = request.data.setdefault("metadata", {})
        meta["resourceVersion"] = str(next(self._versions))
        key = (request.resource, request.namespace, request.name)
        if request.subresource is None and "spec" in request.data and key in self.objects:
            stored = self.objects[key]
            if not stored.deleted:
                old = stored.raw
                if _merged(old.get("spec"), request.data["spec"]) != old.get("spec"):
                    meta["generation"] = int(old.get("metadata", {}).get("generation", 1)) + 1
        for immutable in ("uid", "creationTimestamp", "name", "namespace"):
            meta.pop(immutable, None)

    # kmock finds objects by scanning all of them on every request; with hundreds of
    # tenants that scan, not the operator, would be what a benchmark measured. These
    # look objects up by key instead, with the same answers.
    def _get_resources(self) -> list[Any]:
        return list(self.resources)

    def _lookup(self, request: rendering.Request, name: str | None = None) -> Any:
        key = (request.resource, request.namespace, name or request.name)
        if key not in self.objects or self.objects[key].empty:
            raise kmock.KubernetesObjectNotFoundError()
        return self.objects[key]

    async def _serve_fetch(self, request: rendering.Request) -> Any:
        found = self._lookup(request)
        if found.deleted:
            raise kmock.KubernetesObjectNotFoundError()
        return found.raw

    async def _serve_create(self, request: rendering.Request) -> Any:
        namespace = request.namespace or request.data.get("metadata", {}).get("namespace")
        name = request.data.get("metadata", {}).get("name")
        key = (request.resource, namespace, name)
        return self.objects[key].last.raw

    async def _serve_update(self, request: rendering.Request) -> Any:
        return self._lookup(request).last.raw

    async def _serve_delete(self, request: rendering.Request) -> Any:
        return self._lookup(request).last.raw

    async def _serve_version(self, request: rendering.Request) -> Any:
        payload = await super()._serve_version(request)
        if payload.get("groupVersion") == "/v1":
            payload["groupVersion"] = "v1"
        for entry in payload.get("resources", []):
            if "/" in entry["name"]:  # subresources carry no short names or categories
                entry["shortNames"], entry["categories"] = [], []
        return payload

    def open_watches(self) -> list[str]:
        """The paths of the watches being served now (e.g. to know a client is following)."""
        active: set[int] = self.__dict__.get("_active", set())
        watches = [r for r in self._requests if r.action == kmock.action.WATCH]
        return [r.url.path for r in watches if id(r) in active]

    async def _serve_watch(self, request: rendering.Request) -> Any:
        selector = label_selector(request.params.get("labelSelector", ""))
        async for event in super()._serve_watch(_narrowed(request)):
            if not isinstance(event, dict) or selector(_labels(event.get("object"))):
                yield event

    async def _serve_list(self, request: rendering.Request) -> Any:
        payload = await super()._serve_list(_narrowed(request))
        selector = label_selector(request.params.get("labelSelector", ""))
        payload["items"] = [item for item in payload["items"] if selector(_labels(item))]
        resource = request.resource
        if resource is not None:
            info = self.resources[resource]
            group_version = (
                resource.version if not resource.group else f"{resource.group}/{resource.version}"
            )
            payload["apiVersion"] = group_version
            payload["kind"] = f"{info.kind}List"
        return payload


def _narrowed(request: rendering.Request) -> rendering.Request:
    """A list or watch with `fieldSelector=metadata.name=x` as a request for x alone."""
    if request.name is None and "fieldSelector" in request.params:
        name = request_attributes("GET", request.url.path, request.params).name
        if name:
            return attrs.evolve(request, name=name)
    return request


def _labels(obj: Any) -> dict[str, str]:
    labels: dict[str, str] = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return labels


def label_selector(text: str) -> Callable[[Mapping[str, str]], bool]:
    """The test a `labelSelector` query parameter puts to an object's labels: comma-separated
    requirements `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` and `!k`, all of
    which must hold (apimachinery's labels.Parse)."""
    tests: list[Callable[[Mapping[str, str]], bool]] = []
    for requirement in re.findall(r"(?:[^,(]|\([^)]*\))+", text):
        tests.append(_requirement(requirement.strip()))
    return lambda labels: all(test(labels) for test in tests)


def _requirement(text: str) -> Callable[[Mapping[str, str]], bool]:
    if match := re.fullmatch(r"(\S+)\s+(in|notin)\s*\((.*)\)", text):
        key, operator, listed = match.groups()
        values = {value.strip() for value in listed.split(",")}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := re.fullmatch(r"([^!=\s]+)\s*(==|=|!=)\s*(\S*)", text):
        key, operator, value = match.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if text.startswith("!"):
        return lambda labels: text[1:].strip() not in labels
    return lambda labels: text in labels


def _tls_server(context: ssl.SSLContext) -> type[aiohttp.test_utils.RawTestServer]:
    class TlsServer(aiohttp.test_utils.RawTestServer):
        async def start_server(
            self, loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any
        ) -> None:
            await super().start_server(loop=loop, ssl=context, **kwargs)

    return TlsServer


def _merged(old: Any, patch: Any) -> Any:
    if not isinstance(old, dict) or not isinstance(patch, dict):
        return patch
    result = dict(old)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merged(old.get(key), value)
    return result


@contextmanager
def running_emulator(
    kuberay: bool = True, gate: Gate | None = None, tls_folder: Path | None = None
) -> Iterator[tuple[KubeEmulator, str]]:
    """Serve an emulator on 127.0.0.1 from a background thread; yields it and its URL.
    With a gate, requests are authorised (see chart_rbac.chart_gate for the chart's).
    With a folder, it is served over HTTPS as well, at `https_url` with `certificate`."""
    ready = threading.Event()
    stop: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    holder: dict[str, Any] = {}

    async def serve() -> None:
        nonlocal stop, loop
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        emulator = KubeEmulator()
        emulator.declare(RESOURCES | (KUBERAY if kuberay else {}))
        if gate is not None:
            emulator.authorise_with(gate)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(emulator)
            server = await stack.enter_async_context(kmock.Server(emulator))
            if tls_folder is not None:
                emulator.certificate, context = serving_certificate(tls_folder)
                tls = kmock.Server(emulator, server_cls=_tls_server(context))
                secure = await stack.enter_async_context(tls)
                emulator.https_url = str(secure.url).rstrip("/")
            emulator.http_url = str(server.url).rstrip("/")
            holder["emulator"], holder["url"] = emulator, emulator.http_url
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(15):
        raise RuntimeError("the Kubernetes emulator did not start")
    try:
        yield holder["emulator"], holder["url"]
    finally:
        assert loop is not None
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
