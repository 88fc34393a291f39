"""Typed Singlish words meet their Sinhala-script forms where romanisation alone misses them.

`katha.lang.romanize` spells Sinhala after its letters, and most typed Singlish folds onto
the same key ("thiyenawa" and තියෙනවා). People spell loanwords after English ("card" for
කාඩ්, "cake" for කේක්) and some vowels after sound ("nathi" for නැති, romanised "nethi"); the
lexicon holds those pairs, learnt from what native speakers typed in the Dakshina data
(data/singlish_lexicon.json.gz, its source named inside; scripts/build_singlish_lexicon.py
rebuilds it). It loads on first use.
"""

import gzip
import json
from functools import cache
from importlib.resources import files
from typing import Final

from katha.lang.fold import fold_romanized
from katha.lang.romanize import romanize

LEXICON_FILE: Final = "singlish_lexicon.json.gz"


@cache
def _entries() -> dict[str, tuple[str, ...]]:
    raw = files("katha.lang").joinpath("data", LEXICON_FILE).read_bytes()
    entries: dict[str, list[str]] = json.loads(gzip.decompress(raw))["entries"]
    return {key: tuple(natives) for key, natives in entries.items()}


def sinhala_forms(word: str) -> tuple[str, ...]:
    """The Sinhala words people type as `word` (Latin letters, any spelling variant) where
    their romanisation is spelled differently; most often typed first, empty when none."""
    return _entries().get(fold_romanized(word), ())


@cache
def romanised_forms(word: str) -> tuple[str, ...]:
    """The folded romanisations (the index's romanised column) of `sinhala_forms(word)`."""
    forms = (fold_romanized(romanize(native)) for native in sinhala_forms(word))
    return tuple(dict.fromkeys(form for form in forms if form))
