"""The routing table the router is using now, and the file source that keeps it current.

The table is swapped whole on each change, so a request sees one consistent table.
"""

import asyncio
import json
from collections.abc import Callable, Mapping
from pathlib import Path

from pydantic import ValidationError

from katha.observability import get_logger
from katha.routing import Route, RoutingTable, table_from_secret_data

log = get_logger("router")


class RouteBook:
    """The current `RoutingTable` plus what the webhook needs from it at hand."""

    def __init__(self, table: RoutingTable | None = None) -> None:
        self.loaded = False
        self.app_secrets: tuple[bytes, ...] = ()
        self.verify_tokens: frozenset[str] = frozenset()
        self._table = RoutingTable()
        self._listeners: list[Callable[[RoutingTable], None]] = []
        if table is not None:
            self.replace(table)

    @property
    def table(self) -> RoutingTable:
        return self._table

    def route_for(self, phone_number_id: str) -> Route | None:
        return self._table.route_for(phone_number_id)

    def replace(self, table: RoutingTable) -> None:
        self._table = table
        secrets = {route.credentials.app_secret.get_secret_value() for route in table.routes}
        self.app_secrets = tuple(secret.encode() for secret in sorted(secrets))
        self.verify_tokens = frozenset(
            route.credentials.verify_token.get_secret_value() for route in table.routes
        )
        self.loaded = True
        log.info("routes.loaded", routes=len(table.routes))

    def replace_from_json(self, text: str | bytes, source: str) -> bool:
        """Apply a new table; a broken one is refused and the current one kept."""
        try:
            table = RoutingTable.model_validate(json.loads(text))
        except (ValueError, ValidationError) as error:
            # The message names fields, never values: the table holds secrets.
            log.error("routes.invalid", source=source, problems=_problems(error))
            return False
        self.replace(table)
        return True

    def replace_from_secret(self, data: Mapping[str, str | None], source: str) -> bool:
        """Apply the table held in a Secret's data (per-tenant keys and/or routes.json)."""
        try:
            table = table_from_secret_data(data)
        except (ValueError, ValidationError) as error:
            log.error("routes.invalid", source=source, problems=_problems(error))
            return False
        self.replace(table)
        return True


def _problems(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [".".join(str(part) for part in item["loc"]) for item in error.errors()]
    return [type(error).__name__]


class FileRouteSource:
    """Polls a routes.json file's mtime and applies a change within `poll_seconds`."""

    def __init__(self, path: Path, book: RouteBook, poll_seconds: float = 0.5) -> None:
        self._path = path
        self._book = book
        self._poll = poll_seconds
        self._seen: tuple[float, int] | None = None

    def load(self) -> None:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            if self._seen is not None or not self._book.loaded:
                log.warning("routes.missing", source=str(self._path))
            self._seen = None
            return
        marker = (stat.st_mtime, stat.st_size)
        if marker == self._seen:
            return
        self._seen = marker
        self._book.replace_from_json(self._path.read_bytes(), str(self._path))

    async def run(self) -> None:
        while True:
            self.load()
            await asyncio.sleep(self._poll)
