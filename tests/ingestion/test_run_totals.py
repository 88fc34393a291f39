"""Each refresh adds itself to totals kept beside the index, which serving replicas export."""

from pathlib import Path

from peers.openai_compatible import EmbeddingsApi
from prometheus_client import CollectorRegistry, generate_latest

from ingestion.index.location import index_location
from ingestion.index.runs import KEEP, RUNS_TABLE, RunLog, RunTotals, record_run
from ingestion.metrics import TotalsCollector
from ingestion.refresh import Refresh, refresh_business
from ingestion.report import Report, SourceReport, SourceStatus

from .conftest import business

TENANT = "tenants/ceylon-spice"
FAQ = {"type": "faq", "name": "faq", "items": [{"q": "Do you deliver?", "a": "Yes, within 5 km."}]}


def _report(**fields: object) -> Report:
    source = SourceReport(source="menu", type="pdf", status=SourceStatus.INDEXED, pages=3, added=4)
    return Report(**{"tenant": TENANT, "index_path": "x", "sources": [source], **fields})  # type: ignore[arg-type]


def test_totals_add_up_runs_and_a_failed_run_changes_no_chunk_count() -> None:
    good = RunTotals(tenant=TENANT).add(_report(embedded=4, chunks=4, embedding_seconds=1.5), 10)
    assert (good.runs, good.chunks["added"], good.pages) == ({"succeeded": 1}, 4, {"pdf": 3})
    assert (good.index_chunks, good.last_success, good.finished_at) == (4, 10, 10)
    broken = SourceReport(source="web", type="web", status=SourceStatus.FAILED, reason="robots")
    failed = good.add(
        Report(tenant=TENANT, index_path="x", error="embedder down", sources=[broken]), 20
    )
    assert failed.runs == {"succeeded": 1, "failed": 1}
    assert failed.chunks == good.chunks
    assert (failed.index_chunks, failed.last_success, failed.finished_at) == (4, 10, 20)
    assert failed.source_failures == [("web", "robots", 1)]
    assert RunTotals.from_json(failed.to_json()) == failed


def test_a_refresh_records_itself_and_a_reader_sees_each_new_run(
    refresh_with_api: Refresh, embeddings_api: EmbeddingsApi
) -> None:
    location = index_location(refresh_with_api.index_root).child("tenants", "ceylon-spice")
    log = RunLog(location)
    assert log.newest() is None
    assert not location.path.exists()  # looking never creates the tenant's folder
    refresh_business(business(FAQ), refresh_with_api)
    first = log.newest()
    assert first is not None
    assert (first.runs, first.chunks["embedded"], first.index_chunks) == ({"succeeded": 1}, 1, 1)
    embeddings_api.fail = True
    changed = {**FAQ, "items": [{"q": "Open on Poya?", "a": "No."}]}
    refresh_business(business(changed), refresh_with_api)
    second = log.newest()
    assert second is not None
    assert second.runs == {"succeeded": 1, "failed": 1}
    assert second.source_failures == [("faq", "embedding", 1)]
    assert second.index_chunks == 1


def test_only_the_newest_runs_are_kept_and_the_totals_go_on(tmp_path: Path) -> None:
    location = index_location(tmp_path / "db")
    for run in range(KEEP + 5):
        record_run(location, _report(embedded=1, chunks=1), now=1000.0 + run)
    table = location.connect().open_table(RUNS_TABLE)
    assert table.count_rows() == KEEP
    totals = RunLog(location).newest()
    assert totals is not None
    assert totals.runs == {"succeeded": KEEP + 5}
    assert totals.finished_at == 1000.0 + KEEP + 4


def test_the_collector_exports_counters_and_leaves_out_a_success_never_seen() -> None:
    failed = RunTotals(tenant=TENANT).add(_report(error="embedder down"), 5)
    registry = CollectorRegistry()
    registry.register(TotalsCollector(lambda: [failed]))
    text = generate_latest(registry).decode()
    assert 'katha_ingestion_runs_total{outcome="failed",tenant="tenants/ceylon-spice"} 1.0' in text
    assert (
        'katha_ingestion_pages_parsed_total{tenant="tenants/ceylon-spice",type="pdf"} 3.0' in text
    )
    assert "katha_ingestion_last_run_timestamp_seconds" in text
    assert "katha_ingestion_last_success_timestamp_seconds{" not in text
    assert "katha_ingestion_index_chunks{" not in text
