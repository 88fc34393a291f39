"""Build katha/lang/data/singlish_lexicon.json.gz: typed Singlish words -> Sinhala-script words.

    .venv/bin/python scripts/build_singlish_lexicon.py           # write the file
    .venv/bin/python scripts/build_singlish_lexicon.py --check   # exit 1 when it differs

Source: the Dakshina dataset v1.0 (Roark et al., LREC 2020, Google, CC BY-SA 4.0), the
Sinhala lexicon `si.translit.sampled.train.tsv` (native word, a romanisation a native
speaker typed for it, how many annotators typed it) and the 5,000 Wikipedia sentences
`si.romanized.rejoined.test.native.txt` / `.roman.txt` that native speakers romanised
freely (paired word by word where both sides have as many words), read from
../shared/data/dakshina. The dev split (`si.translit.sampled.dev.tsv`) stays out, so
tests can measure the lexicon on words it never saw.

The index's romanised column spells Sinhala the way `katha.lang.romanize` does, and most
typed Singlish folds onto the same key. What it misses are the words people spell after
English or after sound rather than after the letters: loanwords ("card" for කාඩ්, "cake"
for කේක්) and the vowels romanisation writes one way and people another ("nathi" for නැති,
which romanises "nethi"). Only those pairs are kept: the typed spelling's folded key maps
to the native words whose own folded romanisation differs from it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from katha.lang import fold_romanized, romanize  # noqa: E402
from katha.lang.singlish_lexicon import LEXICON_FILE  # noqa: E402

DAKSHINA = REPO / ".." / "shared" / "data" / "dakshina"
SOURCE = DAKSHINA / "si.translit.sampled.train.tsv"
SENTENCES = (
    DAKSHINA / "si.romanized.rejoined.test.native.txt",
    DAKSHINA / "si.romanized.rejoined.test.roman.txt",
)
TARGET = REPO / "katha" / "lang" / "data" / LEXICON_FILE
ATTRIBUTION = (
    "Dakshina dataset v1.0 (Roark et al., LREC 2020, Google), CC BY-SA 4.0: "
    "si.translit.sampled.train.tsv and si.romanized.rejoined.test.native.txt/.roman.txt; "
    "built by scripts/build_singlish_lexicon.py"
)
# Keys shorter than this are particles or fragments ("da", "ne"), ambiguous across many
# words; the function-word lists handle them.
MIN_KEY = 3
# A word pair from the sentences counts once it was seen this often: a sentence whose
# romaniser split or joined a word pairs its neighbours wrongly, and that rarely repeats.
MIN_SENTENCE_PAIRS = 2
_PUNCTUATION = re.compile(r"^[^\w\u0d80-\u0dff]+|[^\w\u0d80-\u0dff]+$")
# Native words kept per typed key, most often typed first: a few cover the real
# ambiguity ("paya"/"peya" for පැය and පය), more only add noise to full-text search.
MAX_NATIVE = 3


def build(source: Path, sentences: tuple[Path, Path]) -> dict[str, object]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with source.open(encoding="utf-8", newline="") as rows:
        for native, typed, annotators in csv.reader(rows, delimiter="\t"):
            if kept(native, typed):
                counts[fold_romanized(typed)][native] += int(annotators)
    for (native, typed), seen in sentence_pairs(*sentences).items():
        if seen >= MIN_SENTENCE_PAIRS and kept(native, typed):
            counts[fold_romanized(typed)][native] += seen
    entries = {
        key: [native for native, _ in sorted(natives.items(), key=lambda n: (-n[1], n[0]))][
            :MAX_NATIVE
        ]
        for key, natives in sorted(counts.items())
    }
    return {"source": ATTRIBUTION, "entries": entries}


def kept(native: str, typed: str) -> bool:
    """A pair the romanised column would miss, with a key long enough to mean one word."""
    key = fold_romanized(typed)
    if len(key) < MIN_KEY or " " in key or not any("\u0d80" <= c <= "\u0dff" for c in native):
        return False
    return key != fold_romanized(romanize(native))


def sentence_pairs(native: Path, roman: Path) -> dict[tuple[str, str], int]:
    """(native word, typed word) pairs of the line-aligned sentences, counted."""
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    natives = native.read_text(encoding="utf-8").splitlines()
    romans = roman.read_text(encoding="utf-8").splitlines()
    for sinhala, typed in zip(natives, romans, strict=True):
        words, spelled = sinhala.split(), typed.split()
        if len(words) != len(spelled):
            continue
        for word, spelling in zip(words, spelled, strict=True):
            word, spelling = _PUNCTUATION.sub("", word), _PUNCTUATION.sub("", spelling.lower())
            if word and spelling:
                pairs[(word, spelling)] += 1
    return pairs


def encoded(lexicon: dict[str, object]) -> bytes:
    """Byte-for-byte the same on every run (gzip's header carries no time or name)."""
    text = json.dumps(lexicon, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    options = parser.parse_args()
    data = encoded(build(SOURCE, SENTENCES))
    if options.check:
        same = TARGET.is_file() and TARGET.read_bytes() == data
        print("up to date" if same else f"{TARGET} differs from what the script builds")
        return 0 if same else 1
    TARGET.write_bytes(data)
    print(f"wrote {TARGET} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
