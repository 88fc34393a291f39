"""`python -m ingestion --summary-file`: the one index writer of a Business in a cluster.

It runs as a Kubernetes Job; its summary becomes the container's termination message (at
most 4 KiB, read by the operator). It exits 0 when the run committed the knowledge (a
source it could not read is named, not fatal) and non-zero when no new version could be
written, so the Job retries and then shows Failed while the last good version serves.
"""

import json
from pathlib import Path

import pytest
from peers.openai_compatible import EmbeddingsApi

from ingestion.__main__ import main
from ingestion.job import EXIT_INDEX_NOT_WRITTEN, EXIT_OK
from ingestion.report import Report, SourceReport, SourceStatus
from ingestion.summary import MAX_SUMMARY_BYTES, summary_json, writer_result

from .conftest import business_file

FAQ = {"type": "faq", "name": "faq", "items": [{"q": "Open?", "a": "7am to 8pm, Poya days too."}]}
MISSING_FILE = {"type": "text", "name": "notes", "file": "notes-that-are-not-there.txt"}


@pytest.fixture
def api_embedder(embeddings_api: EmbeddingsApi, monkeypatch: pytest.MonkeyPatch) -> EmbeddingsApi:
    monkeypatch.setenv("KATHA_INGEST_EMBEDDER", "openai")
    monkeypatch.setenv("KATHA_INGEST_EMBEDDINGS_URL", f"{embeddings_api.base}/v1")
    monkeypatch.setenv("KATHA_INGEST_LOG_FORMAT", "json")
    return embeddings_api


def _write(folder: Path, sources: list[dict[str, object]]) -> tuple[int, dict[str, object]]:
    summary = folder / "termination-log"
    code = main(
        [
            str(business_file(folder, sources)),
            "--index-dir",
            str(folder / "index"),
            "--summary-file",
            str(summary),
        ]
    )
    text = summary.read_text(encoding="utf-8")
    assert len(text.encode()) <= MAX_SUMMARY_BYTES
    document: dict[str, object] = json.loads(text)
    return code, document


def test_a_failing_source_is_in_the_summary_and_the_run_still_succeeds(
    tmp_path: Path, api_embedder: EmbeddingsApi
) -> None:
    code, summary = _write(tmp_path, [FAQ, MISSING_FILE])
    assert code == EXIT_OK
    assert summary["state"] == "ready"
    assert (summary["documents"], summary["chunks"]) == (1, 1)
    assert summary["indexVersion"] >= 1  # type: ignore[operator]
    assert str(summary["lastIndexed"]).startswith("20")
    failed = summary["failedSources"]
    assert isinstance(failed, list)
    assert len(failed) == 1
    assert failed[0].startswith("notes: ")


def test_a_failed_refresh_keeps_serving_the_last_good_version(
    tmp_path: Path, api_embedder: EmbeddingsApi
) -> None:
    _, first = _write(tmp_path, [FAQ])
    api_embedder.fail = True
    changed = {**FAQ, "items": [{"q": "Delivery?", "a": "Within 5 km of Galle Fort."}]}
    code, summary = _write(tmp_path, [changed])
    assert code == EXIT_INDEX_NOT_WRITTEN  # the run failed; the version before still serves
    assert summary["state"] == "failed"
    assert summary["indexVersion"] == first["indexVersion"]
    assert summary["chunks"] == 1
    message = str(summary["message"])
    assert message.startswith("index not written: ")
    assert message.endswith(f"serving version {first['indexVersion']}")


def test_without_any_committed_version_the_writer_fails(
    tmp_path: Path, api_embedder: EmbeddingsApi
) -> None:
    api_embedder.fail = True
    code, summary = _write(tmp_path, [FAQ])
    assert code == EXIT_INDEX_NOT_WRITTEN
    assert summary["state"] == "failed"
    assert "index not written" in str(summary["message"])


def test_the_summary_fits_a_termination_message_however_many_sources_fail() -> None:
    sources = [
        SourceReport(
            f"page-{number}",
            "web",
            SourceStatus.FAILED,
            failures=[f"https://example.lk/{'very-long-path/' * 40}{number}: timed out"],
        )
        for number in range(300)
    ]
    report = Report(tenant="tenants/ceylon-spice", index_path="/nowhere", sources=sources)
    text = summary_json(writer_result(report, None))
    assert len(text.encode()) <= MAX_SUMMARY_BYTES
    document = json.loads(text)
    assert document["failedSources"][0].startswith("page-0: https://example.lk/")
    assert document["failedSources"][-1].startswith("... and ")
    assert document["message"] == "300 of 300 sources failed"
