"""The cheapest look at a tenant's table: which version is the newest committed one.

A serving replica asks every few seconds. One table handle is kept and moved to the latest
manifest (`checkout_latest`): about 0.3 ms on a local folder and a few ms against object
storage, where opening the table anew costs several times that. The handle is never
searched, so moving it cannot disturb a request.

Every version is a whole LanceDB commit, so a reader never sees a half-written one. A
writer's run commits its rows first and folds them into the full-text indexes next (in
`maintain_indexes`); a reader that looks in between serves the new rows by vector search
(and the rest as before) until the next look, a poll later, finds the finished version.
"""

from typing import Any

from ingestion.index.location import IndexLocation
from ingestion.index.schema import TABLE


class VersionProbe:
    def __init__(self, location: IndexLocation) -> None:
        self.location = location
        self._table: Any = None

    def latest(self) -> int | None:
        """The newest committed version; None while no table was ever committed there.

        Raises what the store raises (unreachable, access denied): the caller decides.
        """
        if self._table is None:
            if not self.location.has_table():
                return None
            self._table = self.location.connect().open_table(TABLE)
        else:
            self._table.checkout_latest()
        return int(self._table.version)
