"""`katha ingest` and `python -m ingestion` as an operator's Job or a developer runs them."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from peers.openai_compatible import EmbeddingsApi

from ingestion.index.reader import IndexReader
from ingestion.refresh import Refresh, refresh_business

from .conftest import business, business_file

REPO_ROOT = Path(__file__).resolve().parents[2]


def _api_environment(embeddings_api: EmbeddingsApi) -> dict[str, str]:
    return {
        **os.environ,
        "KATHA_INGEST_EMBEDDER": "openai",
        "KATHA_INGEST_EMBEDDINGS_URL": f"{embeddings_api.base}/v1",
        "KATHA_INGEST_LOG_FORMAT": "json",
    }


def test_katha_ingest_indexes_files_next_to_the_yaml_with_the_bundled_model(
    tmp_path: Path,
    make_pdf: Callable[..., Path],
    make_price_list: Callable[[Path], Path],
) -> None:
    make_pdf(tmp_path / "menu.pdf", [["චිකන් කොත්තු අපේ විශේෂ කෑමයි.", ("Chicken Kottu", "Rs. 1,200")]])
    make_price_list(tmp_path / "prices.xlsx")
    path = business_file(
        tmp_path,
        [
            {"type": "pdf", "name": "menu", "file": "menu.pdf"},
            {"type": "spreadsheet", "name": "prices", "file": "prices.xlsx", "sheets": ["Prices"]},
        ],
    )
    katha = Path(sys.executable).parent / "katha"
    result = subprocess.run(
        [str(katha), "ingest", str(path), "--index-dir", str(tmp_path / "index")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "menu" in result.stdout
    assert "tenants/ceylon-spice: version" in result.stdout
    reader = IndexReader(tmp_path / "index" / "tenants" / "ceylon-spice")
    assert reader.count() == 4
    assert reader.search_romanized("elawalu kottu")[0].source == "prices"


def test_python_m_ingestion_prints_json_and_exits_3_when_a_source_fails(
    tmp_path: Path, embeddings_api: EmbeddingsApi
) -> None:
    path = business_file(
        tmp_path,
        [
            {"type": "faq", "name": "faq", "items": [{"q": "Do you deliver?", "a": "Yes."}]},
            {"type": "pdf", "name": "menu", "configMapRef": {"name": "menus", "key": "menu.pdf"}},
        ],
    )
    environment = _api_environment(embeddings_api)
    result = subprocess.run(
        [sys.executable, "-m", "ingestion", str(path), "--index-dir", str(tmp_path / "index"),
         "--configmap-dir", str(tmp_path / "configmaps")],
        capture_output=True, text=True, cwd=REPO_ROOT, env=environment,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert [(s["source"], s["status"]) for s in report["sources"]] == [
        ("faq", "indexed"),
        ("menu", "failed"),
    ]
    assert "menus/menu.pdf cannot be read" in report["sources"][1]["failures"][0]
    logs = [json.loads(line) for line in result.stderr.splitlines()]
    events = [log["event"] for log in logs if log.get("component") == "ingestion"]
    assert events == ["source.failed", "source.indexed", "index.refreshed"]
    assert "Yes." not in result.stderr  # document text never reaches the logs


def test_a_job_killed_half_way_leaves_the_previous_version_searchable(
    tmp_path: Path, embeddings_api: EmbeddingsApi, refresh_with_api: Refresh
) -> None:
    def faq(answers: int) -> dict[str, object]:
        items = [{"q": f"Question {n}?", "a": f"Answer {n}."} for n in range(answers)]
        return {"type": "faq", "name": "faq", "items": items}

    refresh_business(business(faq(1)), refresh_with_api)
    index = refresh_with_api.index_root / "tenants" / "ceylon-spice"
    committed = IndexReader(index).version
    embeddings_api.delay = 30
    path, root = business_file(tmp_path, [faq(40)]), refresh_with_api.index_root
    job = subprocess.Popen(
        [sys.executable, "-m", "ingestion", str(path), "--index-dir", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
        env=_api_environment(embeddings_api),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not _embedding_chunks(embeddings_api) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the job is busy embedding its new chunks
    job.kill()
    job.communicate()
    reader = IndexReader(index)
    assert (reader.version, reader.count()) == (committed, 1)
    embeddings_api.delay = 0
    refresh_business(business(faq(40)), refresh_with_api)
    reader.refresh()
    assert reader.count() == 40


def _embedding_chunks(embeddings_api: EmbeddingsApi) -> bool:
    return any(len(call["input"]) > 1 for call in embeddings_api.calls)
