"""Ingestion's Prometheus metrics: what a refresh did, per tenant, and the Job's push of them."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from peers.openai_compatible import EmbeddingsApi
from peers.pushgateway import Pushgateway
from peers.web_site import Site

from ingestion.metrics import IngestionMetrics, push_reports
from ingestion.refresh import Refresh, refresh_business
from ingestion.report import Report

from .conftest import business, write_pdf

REPO_ROOT = Path(__file__).resolve().parents[2]
TENANT = "tenants/ceylon-spice"
API_VERSION = "katha.dev/v1alpha1"
FAQ = {"type": "faq", "name": "faq", "items": [{"q": "Do you deliver?", "a": "Yes, within 5 km."}]}


def _sample(metrics: IngestionMetrics, name: str, **labels: str) -> float | None:
    return metrics.sample(name, **labels)


def test_python_m_ingestion_pushes_the_tenants_metrics_to_a_pushgateway(
    tmp_path: Path, embeddings_api: EmbeddingsApi, pushgateway: Pushgateway
) -> None:
    write_pdf(tmp_path / "menu.pdf", [["Ceylon Spice menu", ("Chicken Kottu", "Rs. 1,200")], None])
    manifest = business(
        FAQ,
        {"type": "pdf", "name": "menu", "file": "menu.pdf"},
        {"type": "pdf", "name": "old-menu", "configMapRef": {"name": "menus", "key": "m.pdf"}},
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    path = tmp_path / "business.yaml"  # JSON is YAML
    path.write_text(json.dumps({"apiVersion": API_VERSION, "kind": "Business", **manifest}))
    environment = {
        **os.environ,
        "KATHA_INGEST_EMBEDDER": "openai",
        "KATHA_INGEST_EMBEDDINGS_URL": f"{embeddings_api.base}/v1",
        "KATHA_INGEST_PUSHGATEWAY_URL": pushgateway.base,
    }
    result = subprocess.run(
        [sys.executable, "-m", "ingestion", str(path), "--index-dir", str(tmp_path / "index"),
         "--configmap-dir", str(tmp_path / "configmaps")],
        capture_output=True, text=True, cwd=REPO_ROOT, env=environment,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert [(s["source"], s["pages"], s["reason"]) for s in report["sources"]] == [
        ("faq", 0, ""),
        ("menu", 2, ""),
        ("old-menu", 0, "missing"),
    ]
    # PUT: the tenant's previous run is replaced, not merged into.
    assert pushgateway.methods == ["PUT"], result.stderr
    samples = pushgateway.samples(job="katha_ingestion", tenant=TENANT)
    tenant = ("tenant", TENANT)

    def value(name: str, *labels: tuple[str, str]) -> float:
        return samples[(f"katha_ingestion_{name}", tuple(sorted([tenant, *labels])))]

    assert value("chunks_total", ("outcome", "embedded")) == report["embedded"] == 2
    assert value("chunks_total", ("outcome", "added")) == 2
    assert value("chunks_total", ("outcome", "kept")) == 0
    assert value("pages_parsed_total", ("type", "pdf")) == 2
    assert value("source_failures_total", ("type", "pdf"), ("reason", "missing")) == 1
    assert value("index_chunks") == 2
    assert value("embedding_seconds_total") == report["embedding_seconds"] > 0
    assert value("last_success_timestamp_seconds") > 0


def test_a_second_run_counts_chunks_kept_instead_of_embedded(refresh_with_api: Refresh) -> None:
    refresh_business(business(FAQ), refresh_with_api)
    smaller = {**FAQ, "items": [{"q": "Open on Poya?", "a": "No."}]}
    report = refresh_business(business(FAQ, {**smaller, "name": "poya"}), refresh_with_api)
    metrics = IngestionMetrics()
    metrics.observe(report)
    counts = {
        outcome: _sample(metrics, "chunks_total", tenant=TENANT, outcome=outcome)
        for outcome in ("embedded", "added", "kept", "removed")
    }
    assert counts == {"embedded": 1, "added": 1, "kept": 1, "removed": 0}


def test_failures_are_counted_by_source_type_and_reason(
    refresh_with_api: Refresh, site: Site
) -> None:
    site.file("/robots.txt", "text/plain", b"User-agent: *\nDisallow: /private\n")
    site.file("/page.pdf", "text/html", b"<p>not a pdf</p>")
    (refresh_with_api.places.base_dir / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage")
    (refresh_with_api.places.base_dir / "empty.md").write_text("   \n", encoding="utf-8")
    secret = refresh_with_api.places.base_dir.parent / "secret.md"
    secret.write_text("not knowledge", encoding="utf-8")
    (refresh_with_api.places.base_dir / "outside.md").symlink_to(secret)
    report = refresh_business(
        business(
            FAQ,
            {"type": "web", "name": "gone", "url": f"{site.base}/gone"},
            {"type": "web", "name": "private", "url": f"{site.base}/private/x"},
            {"type": "pdf", "name": "page", "url": f"{site.base}/page.pdf"},
            {"type": "pdf", "name": "broken", "file": "broken.pdf"},
            {"type": "text", "name": "empty", "file": "empty.md"},
            {"type": "text", "name": "outside", "file": "outside.md"},
        ),
        refresh_with_api,
    )
    assert [(source.source, source.reason) for source in report.sources] == [
        ("faq", ""),
        ("gone", "http_status"),
        ("private", "robots"),
        ("page", "content_type"),
        ("broken", "corrupt"),
        ("empty", "no_text"),
        ("outside", "refused"),
    ]
    metrics = IngestionMetrics()
    metrics.observe(report)
    assert _sample(metrics, "source_failures_total", tenant=TENANT, type="web",
                   reason="http_status") == 1  # fmt: skip
    assert _sample(metrics, "source_failures_total", tenant=TENANT, type="pdf",
                   reason="corrupt") == 1  # fmt: skip


def test_an_embeddings_outage_is_a_failure_and_not_a_success(
    refresh_with_api: Refresh, embeddings_api: EmbeddingsApi
) -> None:
    embeddings_api.fail = True
    report = refresh_business(business(FAQ), refresh_with_api)
    metrics = IngestionMetrics()
    metrics.observe(report)
    assert _sample(metrics, "source_failures_total", tenant=TENANT, type="faq",
                   reason="embedding") == 1  # fmt: skip
    assert _sample(metrics, "last_success_timestamp_seconds", tenant=TENANT) is None
    assert _sample(metrics, "chunks_total", tenant=TENANT, outcome="embedded") is None


def test_a_pushgateway_that_is_down_costs_the_metrics_not_the_run() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    report = Report(tenant=TENANT, index_path="/index", chunks=3)
    assert push_reports([report], f"http://127.0.0.1:{port}", timeout_seconds=2) is False


def test_katha_ingest_pushes_too(
    tmp_path: Path, embeddings_api: EmbeddingsApi, pushgateway: Pushgateway
) -> None:
    manifest = business(FAQ).model_dump(mode="json", by_alias=True, exclude_none=True)
    path = tmp_path / "business.yaml"
    path.write_text(json.dumps({"apiVersion": API_VERSION, "kind": "Business", **manifest}))
    environment = {
        **os.environ,
        "KATHA_INGEST_EMBEDDER": "openai",
        "KATHA_INGEST_EMBEDDINGS_URL": f"{embeddings_api.base}/v1",
        "KATHA_INGEST_PUSHGATEWAY_URL": pushgateway.base,
    }
    katha = Path(sys.executable).parent / "katha"
    result = subprocess.run(
        [str(katha), "ingest", str(path), "--index-dir", str(tmp_path / "index")],
        capture_output=True, text=True, cwd=REPO_ROOT, env=environment,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert pushgateway.methods == ["PUT"]
    samples = pushgateway.samples(job="katha_ingestion", tenant=TENANT)
    key = ("katha_ingestion_index_chunks", (("tenant", TENANT),))
    assert samples[key] == 1
