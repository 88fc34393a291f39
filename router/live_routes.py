"""The router's live view of the routing table (katha.contracts.routing.RoutingTable),
and the file source that keeps it current (the Secret source: router.routes_kubernetes).

The table is swapped whole on each change, so a request sees one consistent table. What
goes in is decided entry by entry (katha.contracts.routing): a broken or conflicting entry
is dropped, logged with its tenant's name and counted, and every other tenant keeps its
route. A stale table is never kept instead: a replica started later would not have it, and
replicas that disagree on who answers a number are worse than one tenant being unrouted.
"""

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

from prometheus_client import Gauge

from katha.contracts.routing import (
    DroppedRoute,
    LoadedRoutes,
    Route,
    RoutingTable,
    load_document,
    load_secret_data,
)
from katha.observability import Metrics, get_logger

log = get_logger("router")

DROP_REASONS = ("invalid", "conflict")


class LiveRoutes:
    """The `RoutingTable` in use now plus what the webhook needs from it at hand; the
    operator writes the table (business_operator.routing_table), the router only reads it."""

    def __init__(self, table: RoutingTable | None = None) -> None:
        self.loaded = False
        self.app_secrets: tuple[bytes, ...] = ()
        self.verify_tokens: frozenset[str] = frozenset()
        self.dropped: tuple[DroppedRoute, ...] = ()
        self._table = RoutingTable()
        self._listeners: list[Callable[[RoutingTable], None]] = []
        self._dropped_gauge: Gauge | None = None
        if table is not None:
            self.replace(table)

    @property
    def table(self) -> RoutingTable:
        return self._table

    def route_for(self, phone_number_id: str) -> Route | None:
        return self._table.route_for(phone_number_id)

    def routes_for_account(self, business_account_id: str) -> list[Route]:
        """The routes of every Business that declares this WhatsApp Business Account (what
        Meta's account-wide webhooks name instead of a number)."""
        return [
            route
            for route in self._table.routes
            if route.business_account_id == business_account_id
        ]

    def count_into(self, metrics: Metrics) -> None:
        """Export `katha_router_routes_dropped{reason}`: entries the current table left out."""
        self._dropped_gauge = metrics.gauge(
            "routes_dropped",
            "Routing-table entries not in use, by reason (invalid, conflict).",
            ["reason"],
        )
        self._count_dropped()

    def replace(self, table: RoutingTable, dropped: tuple[DroppedRoute, ...] = ()) -> None:
        self._table = table
        secrets = {route.credentials.app_secret.get_secret_value() for route in table.routes}
        self.app_secrets = tuple(secret.encode() for secret in sorted(secrets))
        self.verify_tokens = frozenset(
            route.credentials.verify_token.get_secret_value() for route in table.routes
        )
        self.dropped = dropped
        self.loaded = True
        self._count_dropped()
        log.info("routes.loaded", routes=len(table.routes), dropped=len(dropped))

    def apply(self, loaded: LoadedRoutes, source: str) -> None:
        """Use the usable part of a table and say what was left out, and why."""
        for entry in loaded.dropped:
            # Names the tenant, the key and the fields; never values: the table holds secrets.
            log.error(
                "routes.entry_dropped",
                source=source,
                entry=entry.source,
                tenant=entry.tenant,
                reason=entry.reason,
                detail=entry.detail,
            )
        self.replace(loaded.table, loaded.dropped)

    def replace_from_json(self, text: str | bytes, source: str) -> bool:
        """Apply a `{"routes": [...]}` document; one that is not a table at all (a file
        caught half-written) is refused and the current table kept."""
        try:
            loaded = load_document(text, source)
        except (ValueError, RecursionError) as error:
            log.error("routes.unreadable", source=source, problem=type(error).__name__)
            return False
        self.apply(loaded, source)
        return True

    def replace_from_secret(self, data: Mapping[str, str | None], source: str) -> bool:
        """Apply the table held in a Secret's data (per-tenant keys and/or routes.json)."""
        self.apply(load_secret_data(data), source)
        return True

    def _count_dropped(self) -> None:
        if self._dropped_gauge is None:
            return
        for reason in DROP_REASONS:
            count = sum(1 for entry in self.dropped if entry.reason == reason)
            self._dropped_gauge.labels(reason=reason).set(count)


class FileRouteSource:
    """Polls a routes.json file (inode, mtime, size) and applies a change within
    `poll_seconds`."""

    def __init__(self, path: Path, live_routes: LiveRoutes, poll_seconds: float = 0.5) -> None:
        self._path = path
        self._live_routes = live_routes
        self._poll = poll_seconds
        self._seen: tuple[int, int, int] | None = None

    def load(self) -> None:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            if self._seen is not None or not self._live_routes.loaded:
                log.warning("routes.missing", source=str(self._path))
            self._seen = None
            return
        # A file replaced by a rename (how katha up writes it) is a new inode even when a
        # rewrite of the same length lands within the filesystem's clock tick.
        marker = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if marker == self._seen:
            return
        self._seen = marker
        self._live_routes.replace_from_json(self._path.read_bytes(), str(self._path))

    async def run(self) -> None:
        while True:
            self.load()
            await asyncio.sleep(self._poll)
