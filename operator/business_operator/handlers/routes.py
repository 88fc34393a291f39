"""The routing table Secret in the platform namespace: one key per Business.

One key per tenant (katha.routing.route_key) lets every Business add or drop its own
entry with a merge patch, so concurrent reconciles never overwrite each other.
"""

from business_operator.kube import KubeApiError, KubeClient, encode
from katha.routing import Route, route_document, route_key

ROUTES_SECRET = "katha-routes"  # noqa: S105 - the Secret's name


class RoutesTable:
    def __init__(self, kube: KubeClient, namespace: str, name: str = ROUTES_SECRET) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name

    async def put(self, route: Route) -> None:
        patch = {"data": {route_key(route.tenant): encode(route_document(route))}}
        if await self.kube.merge_patch("v1", "Secret", self.namespace, self.name, patch):
            return
        table = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {
                    "app.kubernetes.io/part-of": "katha",
                    "app.kubernetes.io/managed-by": "katha-operator",
                },
            },
            **patch,
        }
        try:
            await self.kube.create(table)
        except KubeApiError as error:
            if error.status != 409:
                raise
            # Another Business created the table first: add this route to it.
            await self.kube.merge_patch("v1", "Secret", self.namespace, self.name, patch)

    async def remove(self, tenant: str) -> None:
        patch = {"data": {route_key(tenant): None}}
        await self.kube.merge_patch("v1", "Secret", self.namespace, self.name, patch)
