"""The operator's one door to the Kubernetes API: get, apply, patch and delete by manifest.

Children are written with server-side apply (field manager `katha-operator`, forced), so
re-applying an unchanged manifest is a no-op and a field dropped from a manifest is
dropped from the object. Kopf itself keeps its own connection for watching.
"""

import base64
from dataclasses import dataclass
from typing import Any

import httpx

FIELD_MANAGER = "katha-operator"
# Asks for metadata only: a Secret's data never travels when only its labels are needed.
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"


@dataclass(frozen=True)
class ResourceType:
    group_version: str
    plural: str

    def path(self, namespace: str, name: str | None = None, subresource: str | None = None) -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        path = f"{base}/namespaces/{namespace}/{self.plural}"
        if name is not None:
            path += f"/{name}"
        if subresource is not None:
            path += f"/{subresource}"
        return path


RESOURCE_TYPES: dict[tuple[str, str], ResourceType] = {
    ("v1", "ConfigMap"): ResourceType("v1", "configmaps"),
    ("v1", "Secret"): ResourceType("v1", "secrets"),
    ("v1", "Service"): ResourceType("v1", "services"),
    ("v1", "ServiceAccount"): ResourceType("v1", "serviceaccounts"),
    ("v1", "PersistentVolumeClaim"): ResourceType("v1", "persistentvolumeclaims"),
    ("apps/v1", "Deployment"): ResourceType("apps/v1", "deployments"),
    ("batch/v1", "Job"): ResourceType("batch/v1", "jobs"),
    ("networking.k8s.io/v1", "NetworkPolicy"): ResourceType(
        "networking.k8s.io/v1", "networkpolicies"
    ),
    ("ray.io/v1", "RayService"): ResourceType("ray.io/v1", "rayservices"),
    ("katha.dev/v1alpha1", "Business"): ResourceType("katha.dev/v1alpha1", "businesses"),
    ("katha.dev/v1alpha1", "LanguageModel"): ResourceType("katha.dev/v1alpha1", "languagemodels"),
}


# Kinds the operator only reads (RBAC: get, list): the index writer's result is in its
# Pod's status.
OBSERVED_TYPES: dict[tuple[str, str], ResourceType] = {
    ("v1", "Pod"): ResourceType("v1", "pods"),
}


class KubeApiError(Exception):
    """The API server refused a request; `transient` says whether retrying may help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Kubernetes API answered {status}: {message}")
        self.status = status
        self.transient = status == 429 or status >= 500 or status == 409


def resource_type(api_version: str, kind: str) -> ResourceType:
    try:
        return RESOURCE_TYPES[api_version, kind]
    except KeyError:
        raise ValueError(f"the operator does not manage {kind} ({api_version})") from None


def decode_secret(secret: dict[str, Any]) -> dict[str, str]:
    """A Secret's data as text (stringData is only ever an input, so it is merged too)."""
    values = {
        key: base64.b64decode(value).decode("utf-8")
        for key, value in (secret.get("data") or {}).items()
        if value is not None
    }
    values.update(secret.get("stringData") or {})
    return values


def secret_has_key(secret: dict[str, Any], key: str) -> bool:
    """Whether a Secret holds a non-empty value under `key`, without decoding any value."""
    return bool((secret.get("data") or {}).get(key) or (secret.get("stringData") or {}).get(key))


def encode(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


class KubeClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._groups: dict[str, bool] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            reason = f"{type(error).__name__}: {error}".rstrip(": ")
            raise KubeApiError(503, f"cannot reach the API server ({reason})") from error
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", response.text))
            except ValueError:
                message = response.text
            raise KubeApiError(response.status_code, message[:500])
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    async def get(
        self, api_version: str, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        return await self._call("GET", resource_type(api_version, kind).path(namespace, name))

    async def get_metadata(
        self, api_version: str, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        """An object's metadata only (its labels, annotations); None when it does not exist."""
        path = resource_type(api_version, kind).path(namespace, name)
        found = await self._call("GET", path, headers={"Accept": METADATA_ONLY})
        return None if found is None else dict(found.get("metadata") or {})

    async def list_labelled(
        self, api_version: str, kind: str, namespace: str, labels: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Objects in `namespace` carrying all of `labels`."""
        selector = ",".join(f"{key}={value}" for key, value in labels.items())
        known = OBSERVED_TYPES.get((api_version, kind)) or resource_type(api_version, kind)
        path = known.path(namespace)
        found = await self._call("GET", path, params={"labelSelector": selector})
        items = (found or {}).get("items") or []
        # Checked here too: the selector is the server's filter, this is ours.
        return [
            item
            for item in items
            if labels.items() <= ((item.get("metadata") or {}).get("labels") or {}).items()
        ]

    async def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply; creates the object when the server does not have it yet."""
        kind = resource_type(manifest["apiVersion"], manifest["kind"])
        meta = manifest["metadata"]
        applied = await self._call(
            "PATCH",
            kind.path(meta["namespace"], meta["name"]),
            json=manifest,
            params={"fieldManager": FIELD_MANAGER, "force": "true"},
            headers={"Content-Type": "application/apply-patch+yaml"},
        )
        if applied is not None:
            return applied
        try:
            created = await self._call("POST", kind.path(meta["namespace"]), json=manifest)
        except KubeApiError as error:
            if error.status != 409:
                raise
            # Another reconcile (a timer beside a change handler) created it first.
            return await self.apply(manifest)
        if created is None:
            raise KubeApiError(404, f"namespace {meta['namespace']} does not exist")
        return created

    async def merge_patch(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        subresource: str | None = None,
    ) -> dict[str, Any] | None:
        return await self._call(
            "PATCH",
            resource_type(api_version, kind).path(namespace, name, subresource),
            json=patch,
            headers={"Content-Type": "application/merge-patch+json"},
        )

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any] | None:
        kind = resource_type(manifest["apiVersion"], manifest["kind"])
        return await self._call("POST", kind.path(manifest["metadata"]["namespace"]), json=manifest)

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> bool:
        """Delete an object and, in the background, what it owns (a Job's pods, which the
        API server would otherwise orphan); False when it was already gone."""
        path = resource_type(api_version, kind).path(namespace, name)
        params = {"propagationPolicy": "Background"}
        return await self._call("DELETE", path, params=params) is not None

    async def server_version(self) -> str:
        found = await self._call("GET", "/version")
        return str((found or {}).get("gitVersion", "unknown"))

    async def serves(self, group_version: str) -> bool:
        """Whether the cluster serves an API group version (e.g. KubeRay's ray.io/v1)."""
        if group_version not in self._groups:
            found = await self._call("GET", f"/apis/{group_version}")
            self._groups[group_version] = found is not None
        return self._groups[group_version]
