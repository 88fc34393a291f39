"""The cheapest look at a tenant's table: which version is the newest *finished* one.

A serving replica asks every few seconds. One table handle is kept and moved to the latest
manifest (`checkout_latest`): about 0.3 ms on a local folder and a few ms against object
storage, where opening the table anew costs several times that. The handle is never
searched, so moving it cannot disturb a request.

Every version is a whole LanceDB commit, but a writer's run makes several: its rows first,
then it folds them into the full-text indexes (`maintain_indexes`). A version whose rows
are not all in the full-text indexes yet is a run in the middle: readers are not moved to
it (the words of its new chunks would not be found), only to the one after, where every
row is indexed. A run that dies in between leaves the readers on the last finished
version, as a failed run should. Checking costs about a millisecond, and only when the
latest version changed.
"""

from typing import Any

from ingestion.index.location import IndexLocation
from ingestion.index.schema import TABLE

FULL_TEXT_COLUMNS = {"text", "romanized"}  # as maintain_indexes indexes them
# A run commits a handful of versions; compaction keeps a week of them.
LOOK_BACK = 20


def finished(table: Any) -> bool:
    """Whether every row of the table's checked-out version is in its full-text indexes
    (a table with no rows has none and is finished too)."""
    if table.count_rows() == 0:
        return True
    full_text = [index for index in table.list_indices() if index.index_type == "FTS"]
    covered = {column for index in full_text for column in index.columns}
    return covered >= FULL_TEXT_COLUMNS and all(
        index.num_unindexed_rows == 0 for index in full_text
    )


class VersionProbe:
    def __init__(self, location: IndexLocation) -> None:
        self.location = location
        self._table: Any = None
        self._seen: int | None = None  # the newest version looked at
        self._finished: int | None = None  # the newest finished version found

    def latest(self) -> int | None:
        """The newest finished version; None while no finished version was ever committed.

        Raises what the store raises (unreachable, access denied): the caller decides.
        """
        if self._table is None:
            if not self.location.has_table():
                return None
            self._table = self.location.connect().open_table(TABLE)
        else:
            self._table.checkout_latest()
        version = int(self._table.version)
        if version != self._seen:
            first_look = self._seen is None
            self._seen = version
            if finished(self._table):
                self._finished = version
            elif first_look:  # started beside a run that died (or is going on)
                self._finished = self._newest_finished_before(version)
        return self._finished

    def _newest_finished_before(self, version: int) -> int | None:
        """Looks back through at most LOOK_BACK earlier versions (once, at start)."""
        try:
            for earlier in range(version - 1, max(0, version - LOOK_BACK), -1):
                self._table.checkout(earlier)
                if finished(self._table):
                    return earlier
            return None
        finally:
            self._table.checkout_latest()
