"""Businesses in a cluster, through the Kubernetes API, as the console's own field manager.

Each change is a server-side apply (`application/apply-patch+yaml`, `fieldManager=
katha-console`, never forced) whose body is the console's whole intent: the fields it
already manages (read back from the Business's `managedFields`, limited to
CONSOLE_FIELDS) with the change laid over them. Sending less would drop fields another
page set (an applier's omitted fields are removed); sending more would take fields the
console never set from whoever did. The apply carries the resourceVersion it was worked
out from, so two replicas changing one Business at once cannot drop each other's change:
the later one is refused, reads again and applies again.

Never forced: a field another manager holds (a platform engineer's file applied with
`kubectl apply`, server-side or not, `kubectl create`, a GitOps controller) is theirs, and
the owner is told who holds it. That is what keeps a later `kubectl apply` from silently
undoing the owner's change: a client-side apply resets every field its file holds, so the
console only ever takes fields no file holds.
"""

import asyncio
import copy
import os
import re
import ssl
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import httpx

from console.businesses import (
    CONSOLE_FIELDS,
    FIELD_MANAGER,
    BusinessConflictError,
    BusinessesUnavailableError,
    BusinessInvalidError,
    BusinessNotFoundError,
)
from console.businesses.fields import (
    Compute,
    FieldPath,
    check_paths,
    check_valid,
    dotted,
    set_at,
    split_tenant,
    value_at,
    with_changes,
)
from katha.api import GROUP_VERSION, REFRESH_ANNOTATION
from katha.observability import get_logger

log = get_logger("console")
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
STALE_RETRIES = 5  # a Business changed by someone else between our read and our apply
_MANAGER = re.compile(r'conflict with "((?:[^"\\]|\\.)*)"')


class ServiceAccountToken(httpx.Auth):
    """The pod's service-account token, read for each request: kubelet rotates it."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._path.is_file():
            request.headers["Authorization"] = f"Bearer {self._path.read_text().strip()}"
        yield request


class KubernetesBusinesses:
    def __init__(
        self, client: httpx.AsyncClient, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._client = client
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def connect(cls, api_url: str | None = None, token: str | None = None) -> Self:
        """As this pod's service account (its token and CA, as `kubectl` in a pod would), or
        at `api_url` (tests: the emulator) with `token` if given."""
        timeout = httpx.Timeout(10.0)
        if api_url is not None:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return cls(httpx.AsyncClient(base_url=api_url, headers=headers, timeout=timeout))
        host = os.environ.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        ca = SERVICE_ACCOUNT / "ca.crt"
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(ca)) if ca.is_file() else True
        )
        client = httpx.AsyncClient(
            base_url=f"https://{host}:{port}",
            auth=ServiceAccountToken(SERVICE_ACCOUNT / "token"),
            verify=verify,
            timeout=timeout,
        )
        return cls(client)

    async def get(self, tenant: str) -> dict[str, Any]:
        response = await self._send("GET", _path(tenant))
        business: dict[str, Any] = response.json()
        if business.get("metadata", {}).get("deletionTimestamp"):
            raise BusinessNotFoundError(tenant)  # being deleted: nothing left to change
        return business

    async def apply(self, tenant: str, changes: dict[FieldPath, Any]) -> dict[str, Any]:
        check_paths(changes)
        return await self.update(tenant, lambda _spec: changes)

    async def update(self, tenant: str, compute: Compute) -> dict[str, Any]:
        lock = self._locks.setdefault(tenant, asyncio.Lock())
        async with lock:  # this replica's own changes one at a time; other replicas: below
            for _ in range(STALE_RETRIES):
                current = await self.get(tenant)
                changes = compute(copy.deepcopy(current.get("spec") or {}))
                check_paths(changes)
                body = _apply_body(current, changes)
                try:
                    response = await self._apply(tenant, body)
                except _StaleError:
                    continue
                changed: dict[str, Any] = response.json()
                return changed
        raise BusinessesUnavailableError(f"{tenant} kept changing; try again")

    async def _apply(self, tenant: str, body: dict[str, Any]) -> httpx.Response:
        return await self._send(
            "PATCH",
            _path(tenant),
            params={"fieldManager": FIELD_MANAGER, "force": "false"},
            json=body,
            headers={"Content-Type": APPLY},
        )

    async def request_refresh(self, tenant: str) -> None:
        requested = self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await self._send(
            "PATCH",
            _path(tenant),
            params={"fieldManager": FIELD_MANAGER},
            json={"metadata": {"annotations": {REFRESH_ANNOTATION: requested}}},
            headers={"Content-Type": MERGE},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            log.warning("businesses.unreachable", error=type(error).__name__)
            raise BusinessesUnavailableError("the Kubernetes API did not answer") from error
        if response.is_success:
            return response
        _raise_for(path, response)
        raise AssertionError("unreachable")  # _raise_for always raises


class _StaleError(Exception):
    """The Business changed between our read and our apply (its resourceVersion moved)."""


def _path(tenant: str) -> str:
    namespace, name = split_tenant(tenant)
    return f"/apis/{GROUP_VERSION}/namespaces/{namespace}/businesses/{name}"


def _raise_for(path: str, response: httpx.Response) -> None:
    status = _status(response)
    causes = (status.get("details") or {}).get("causes") or []
    if response.status_code == 404:
        raise BusinessNotFoundError(path.rsplit("/", 1)[-1])
    if response.status_code == 409:
        conflicts = [cause for cause in causes if cause.get("type") == "FieldManagerConflict"]
        if not conflicts:
            raise _StaleError()
        fields = [str(cause.get("field", "")).lstrip(".") for cause in conflicts]
        managers = [m for cause in conflicts for m in _MANAGER.findall(cause.get("message", ""))]
        raise BusinessConflictError(list(dict.fromkeys(fields)), list(dict.fromkeys(managers)))
    if response.status_code == 413:  # etcd keeps an object of at most ~1.5 MiB
        raise BusinessInvalidError(
            ["the Business is too large to store; shorten or remove some FAQ answers"]
        )
    if response.status_code == 422:
        problems = [
            f"{str(cause['field']).lstrip('.')}: {cause.get('message', '')}"
            if cause.get("field")
            else str(cause.get("message", ""))
            for cause in causes
        ]
        raise BusinessInvalidError(problems or [str(status.get("message", "is not valid"))])
    log.warning(
        "businesses.refused", status=response.status_code, reason=str(status.get("reason", ""))
    )
    raise BusinessesUnavailableError(f"the Kubernetes API answered {response.status_code}")


def _status(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _apply_body(current: dict[str, Any], changes: dict[FieldPath, Any]) -> dict[str, Any]:
    """The console's whole intent for `current` with `changes`; checks the result first."""
    spec = current.get("spec") or {}
    check_valid({**current, "spec": with_changes(spec, changes)})
    _refuse_removing_others_fields(current, changes)
    intent = console_intent(current)
    for path, value in changes.items():
        set_at(intent, path, value)
    metadata = current.get("metadata") or {}
    return {
        "apiVersion": current.get("apiVersion", GROUP_VERSION),
        "kind": current.get("kind", "Business"),
        "metadata": {
            "name": metadata.get("name"),
            "namespace": metadata.get("namespace"),
            # The apply holds only if nobody changed the Business since we read it.
            "resourceVersion": metadata.get("resourceVersion"),
        },
        "spec": intent,
    }


def console_intent(business: dict[str, Any]) -> dict[str, Any]:
    """The spec fields the console manages now (by its Apply entry in `managedFields`),
    limited to CONSOLE_FIELDS, with their current values."""
    owned = _owned_spec(business, FIELD_MANAGER, "Apply")
    spec = business.get("spec") or {}
    intent: dict[str, Any] = {}
    for path in CONSOLE_FIELDS:
        found, node = value_at(owned, tuple(f"f:{part}" for part in path))
        present, value = value_at(spec, path)
        if found and present:
            set_at(intent, path, _pruned(value, node))
    return intent


def _owned_spec(business: dict[str, Any], manager: str, operation: str) -> dict[str, Any]:
    for entry in (business.get("metadata") or {}).get("managedFields") or []:
        if (entry.get("manager"), entry.get("operation")) == (manager, operation) and not entry.get(
            "subresource"
        ):
            spec: dict[str, Any] = (entry.get("fieldsV1") or {}).get("f:spec") or {}
            return spec
    return {}


def _pruned(value: Any, fields: Any) -> Any:
    """Of a map, only the keys the manager's FieldsV1 names; anything else whole."""
    named = {key[2:]: child for key, child in (fields or {}).items() if key.startswith("f:")}
    if not isinstance(value, dict) or not named:
        return value
    return {key: _pruned(value[key], child) for key, child in named.items() if key in value}


def _refuse_removing_others_fields(current: dict[str, Any], changes: dict[FieldPath, Any]) -> None:
    """Removing a field another manager also set would leave it in place (an apply only
    gives up the console's own claim): say who holds it instead."""
    spec = current.get("spec") or {}
    fields: list[str] = []
    managers: list[str] = []
    for path, value in changes.items():
        if value is not None or not value_at(spec, path)[0]:
            continue
        for entry in (current.get("metadata") or {}).get("managedFields") or []:
            if (entry.get("manager"), entry.get("operation")) == (FIELD_MANAGER, "Apply"):
                continue
            owned = (entry.get("fieldsV1") or {}).get("f:spec") or {}
            if _claims(owned, path):
                fields.append(dotted(path))
                managers.append(str(entry.get("manager", "")))
    if fields:
        raise BusinessConflictError(list(dict.fromkeys(fields)), list(dict.fromkeys(managers)))


def _claims(fields: dict[str, Any], path: FieldPath) -> bool:
    """Whether FieldsV1 `fields` hold `path`, a field under it, or a whole value above it."""
    node: Any = fields
    for part in path:
        if not isinstance(node, dict):
            return False
        named = [key for key in node if key.startswith("f:")]
        if not named and node is not fields:
            return True  # owns the whole value above the path
        node = node.get(f"f:{part}")
        if node is None:
            return False
    return True
