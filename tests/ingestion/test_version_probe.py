"""Readers move only to finished versions: a writer's rows before they are in the full-text
indexes are a run in the middle, and a run that dies there leaves readers where they were."""

from pathlib import Path

import lancedb
import pyarrow as pa

from ingestion.index.location import index_location
from ingestion.index.maintenance import maintain_indexes
from ingestion.index.probe import VersionProbe
from ingestion.index.schema import TABLE


def rows(*texts: str) -> pa.Table:
    return pa.table({"text": list(texts), "romanized": [text.lower() for text in texts]})


def test_the_probe_skips_versions_whose_rows_are_not_all_in_the_full_text_indexes(
    tmp_path: Path,
) -> None:
    table = lancedb.connect(tmp_path).create_table(TABLE, rows("Kottu Rs. 1200", "Hoppers"))
    probe = VersionProbe(index_location(tmp_path))
    assert probe.latest() is None  # rows, but no full-text index yet: not a finished run
    maintain_indexes(table)
    first = probe.latest()
    assert first == table.version
    table.add(rows("Lamprais Rs. 1500"))  # a run's rows, committed ...
    assert probe.latest() == first  # ... but not yet searchable by their words
    maintain_indexes(table)  # ... and now they are
    assert probe.latest() == table.version
    assert table.version > first


def test_a_reader_that_starts_beside_a_run_that_died_serves_the_last_finished_version(
    tmp_path: Path,
) -> None:
    table = lancedb.connect(tmp_path).create_table(TABLE, rows("Kottu Rs. 1200"))
    maintain_indexes(table)
    finished_version = table.version
    table.add(rows("Lamprais Rs. 1500"))  # the run died before its indexes
    assert VersionProbe(index_location(tmp_path)).latest() == finished_version
