"""What Meta said about a tenant's number and account, written where people look: the
Business's `status.whatsapp` (the operator turns it into conditions and Events).

The router may only `patch` `businesses/status` (DESIGN.md's call edge "router →
Kubernetes API: status"), and patches only `status.whatsapp`, as a JSON merge patch, so it
never touches what the operator writes. On one machine there is no Business object: the
same facts go to the log.

A patch that fails is retried with back-off for a couple of minutes and counted
(`katha_router_business_status_writes_total`); the router's own behaviour rests on the
records it keeps in the inbox (router.account), not on the status.
"""

from typing import Any, Protocol

import httpx

from katha.observability import get_logger
from router.routes_kubernetes import kubernetes_client
from router.settings import RouterSettings

log = get_logger("router")
GROUP_VERSION = "katha.dev/v1alpha1"
MERGE_PATCH = "application/merge-patch+json"


class StatusWriter(Protocol):
    async def write(self, tenant: str, whatsapp: dict[str, Any]) -> bool:
        """Merge `whatsapp` into the tenant's `status.whatsapp`; True when it was written."""
        ...

    async def aclose(self) -> None: ...


class KubernetesStatusWriter:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @classmethod
    def in_cluster(cls, settings: RouterSettings) -> "KubernetesStatusWriter":
        return cls(kubernetes_client(settings, timeout=httpx.Timeout(5.0)))

    async def write(self, tenant: str, whatsapp: dict[str, Any]) -> bool:
        namespace, name = tenant.split("/", 1)
        path = f"/apis/{GROUP_VERSION}/namespaces/{namespace}/businesses/{name}/status"
        try:
            response = await self._client.patch(
                path,
                json={"status": {"whatsapp": whatsapp}},
                headers={"Content-Type": MERGE_PATCH},
            )
        except httpx.HTTPError as error:
            log.warning("business_status.unreachable", tenant=tenant, reason=type(error).__name__)
            return False
        if not response.is_success:
            log.warning("business_status.refused", tenant=tenant, status=response.status_code)
            return False
        return True

    async def aclose(self) -> None:
        await self._client.aclose()


class LoggedStatusWriter:
    """One machine: there is no Business object to write; the log says it instead."""

    async def write(self, tenant: str, whatsapp: dict[str, Any]) -> bool:
        log.warning("business_status.whatsapp", tenant=tenant, whatsapp=whatsapp)
        return True

    async def aclose(self) -> None:
        return None


def status_writer(settings: RouterSettings) -> StatusWriter:
    """Kubernetes when the routes come from the cluster, else the log."""
    if settings.routes_file is not None:
        return LoggedStatusWriter()
    return KubernetesStatusWriter.in_cluster(settings)
