"""The reader side of bench/knowledge_refresh.py: one process searching a tenant's index at a
steady rate while an index writer commits the next version, as an agent replica does.

Each query is the index part of the agent's hybrid search (agent_runtime.retrieval): full
text on the question's content words over the text and the romanised column, in two
threads, while the vector search runs in the caller, at the agent's depths. The question's
vector is embedded once, before the run: the model's CPU time per question is the same
before and during a refresh, and what this measures is the index under a writer.
"""

from __future__ import annotations

import json
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import numpy as np

from agent_runtime.retrieval import SEARCH_DEPTH, SIMILARITY_DEPTH
from ingestion.embedding import Vectors
from ingestion.index.reader import IndexReader

# How often a reader moves on to the latest committed version (the agent's follower polls).
REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class Question:
    text: str
    words: str  # content words, what the agent's full-text searches look for
    vector: list[float]


class PreparedEmbedder:
    """The index's model as far as a search needs it (a QueryEmbedder): its name, and the
    vectors of the questions embedded before the run."""

    def __init__(self, model: str, dimension: int, questions: list[Question]) -> None:
        self._model, self._dimension = model, dimension
        self._vectors = {q.text: np.asarray(q.vector, dtype=np.float32) for q in questions}

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_query(self, text: str) -> Vectors:
        return self._vectors[text]


@dataclass(frozen=True)
class ReaderJob:
    index: Path  # the tenant's LanceDB folder
    questions: Path  # JSON written by the benchmark: model, dimension, questions
    rate: float  # questions per second
    seed: int  # which question comes first, so two readers do not ask in lockstep
    out: Path  # JSON with every sample, written when the reader stops


def run_reader(job: ReaderJob, ready: Event, stop: Event, seen: Synchronized[int]) -> None:
    """Ask questions at `job.rate` until `stop`; `seen` is the newest version served."""
    prepared = json.loads(job.questions.read_text(encoding="utf-8"))
    questions = [Question(**item) for item in prepared["questions"]]
    embedder = PreparedEmbedder(prepared["model"], prepared["dimension"], questions)
    reader = IndexReader(job.index)
    samples: list[tuple[float, float, float, int]] = []  # due, started, ended, version
    refreshes: list[tuple[float, float, int]] = []  # started, seconds, version after
    errors: list[str] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for question in questions[:10]:  # warm: open the index files, fill the caches
            _ask(reader, embedder, pool, question)
        seen.value = reader.version
        ready.set()
        period = 1.0 / job.rate
        due = last_refresh = time.time()
        number = job.seed
        while not stop.is_set():
            now = time.time()
            if now - last_refresh >= REFRESH_SECONDS:
                last_refresh = now
                reader.refresh()
                refreshes.append((now, time.time() - now, reader.version))
                seen.value = reader.version
            if due > time.time():
                time.sleep(due - time.time())
            question = questions[number % len(questions)]
            number += 1
            started = time.time()
            version = reader.version
            try:
                _ask(reader, embedder, pool, question)
                samples.append((due, started, time.time(), version))
            except Exception as error:  # a failed search is a result, not the end of the run
                errors.append(f"{type(error).__name__}: {str(error)[:200]}")
            due += period
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"samples": samples, "refreshes": refreshes, "errors": errors, "peak_mib": peak}
    job.out.write_text(json.dumps(result), encoding="utf-8")


def _ask(
    reader: IndexReader, embedder: PreparedEmbedder, pool: ThreadPoolExecutor, question: Question
) -> Any:
    """The agent's three searches for one question (see agent_runtime.retrieval)."""
    text = pool.submit(reader.search_text, question.words, SEARCH_DEPTH)
    romanized = pool.submit(reader.search_romanized, question.words, SEARCH_DEPTH)
    vector = reader.search_vector(question.text, embedder, limit=SIMILARITY_DEPTH)
    return vector, text.result(), romanized.result()
