"""The routing table Secret in the platform namespace: one key per Business.

One key per tenant (katha.contracts.routing.route_key) lets every Business add or drop its own
entry with a merge patch, so concurrent reconciles never overwrite each other. A number
goes to the first Business that claims it (business_operator.claims).
"""

from datetime import UTC, datetime
from typing import Any

from business_operator.claims import Claim, claim, creation_time
from business_operator.kube import KubeApiError, KubeClient, encode
from katha.api import GROUP_VERSION
from katha.contracts.routing import Route, read_secret_data, route_document, route_key
from katha.observability import get_logger

log = get_logger("operator")
Data = dict[str, str | None]  # a Secret's base64 `data`

ROUTES_SECRET = "katha-routes"  # noqa: S105 - the Secret's name


class RoutingTableWriter:
    """The operator's writer of the routing table (katha.contracts.routing.RoutingTable) Secret; the
    router reads it (router.live_routes)."""

    def __init__(self, kube: KubeClient, namespace: str, name: str = ROUTES_SECRET) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name

    async def put(self, route: Route) -> Data:
        """Write a Business's entry; returns the table's data as stored after the write."""
        patch = {"data": {route_key(route.tenant): encode(route_document(route))}}
        written = await self.kube.merge_patch("v1", "Secret", self.namespace, self.name, patch)
        if written is not None:
            return _data(written)
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
            written = await self.kube.create(table)
        except KubeApiError as error:
            if error.status != 409:
                raise
            # Another Business created the table first: add this route to it.
            written = await self.kube.merge_patch("v1", "Secret", self.namespace, self.name, patch)
        return _data(written)

    async def remove(self, tenant: str) -> None:
        patch = {"data": {route_key(tenant): None}}
        await self.kube.merge_patch("v1", "Secret", self.namespace, self.name, patch)

    async def read(self) -> Data:
        return _data(await self.kube.get("v1", "Secret", self.namespace, self.name))

    async def claim(self, route: Route, created: datetime | None) -> str | None:
        """Put a Business's route unless another Business holds its number first.

        Returns the holder (`namespace/name`) when refused; this Business's entry is then
        removed, so a number it held before is released too. `created` is the Business's
        creationTimestamp (for entries written before claim times existed).
        """
        created = created or datetime.now(UTC)
        decided = await self._decide(route, created, await self.read())
        if decided.route is not None:
            written = await self.put(decided.route)
            # Two first claims can race (reconciles run side by side): look at the table
            # as written, and the later claim yields. Both sides decide in the same order.
            decided = await self._decide(decided.route, created, written)
        if decided.route is None:
            await self.remove(route.tenant)
            log.warning("route.number_claimed", tenant=route.tenant, owner=decided.owner)
            return decided.owner
        return None

    async def _decide(self, wanted: Route, created: datetime, data: Data) -> Claim:
        table = []
        valid, _ = read_secret_data(data, wanted.phone_number_id)  # the router logs the rest
        for _, route in valid:
            if route.tenant == wanted.tenant:
                table.append(route)
            elif (rival := await self._rival(route)) is not None:
                table.append(rival)
        return claim(wanted, table, created, datetime.now(UTC))

    async def _rival(self, route: Route) -> Route | None:
        """Another Business's entry for the same number, with a claim time; None when that
        Business is gone (its entry was left behind, say by a finalizer removed by hand)."""
        namespace, name = route.tenant.split("/", 1)
        business = await self.kube.get(GROUP_VERSION, "Business", namespace, name)
        if business is None:
            log.warning("route.stale_removed", tenant=route.tenant)
            await self.remove(route.tenant)
            return None
        if route.claimed_at is not None:
            return route
        # Written before claim times: count from that Business's creation.
        since = creation_time(business) or datetime.min.replace(tzinfo=UTC)
        return route.model_copy(update={"claimed_at": since})


def _data(secret: dict[str, Any] | None) -> Data:
    data: Data = (secret or {}).get("data") or {}
    return data
