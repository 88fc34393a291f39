"""Folding of romanised spellings, so index-side and query-side Singlish/Tanglish meet."""

import re
import unicodedata

# Order matters: digraphs are reduced before doubled letters are collapsed.
_RULES = (
    (re.compile(r"[^a-z0-9]+"), " "),
    (re.compile(r"(?<=[bcdgjkpqst])h"), ""),  # aspiration and th/t, dh/d, sh/s, ch/c
    (re.compile(r"ae"), "e"),
    (re.compile(r"v"), "w"),
    (re.compile(r"z"), "l"),  # Tamil ழ, typed "zh" or "l"
    (re.compile(r"q|c"), "k"),
    (re.compile(r"ee"), "i"),
    (re.compile(r"oo"), "u"),
    (re.compile(r"([a-z])\1+"), r"\1"),
)


def fold_romanized(text: str) -> str:
    """Map spelling variants of romanised Sinhala/Tamil onto one key.

    Vowel length, aspiration (th/t, dh/d, bh/b), w/v and doubled letters vary freely in
    how people type, so "thiyenawa", "tiyenava" and "thiyennawa" all become "tiyenawa".
    Apply it to `romanize()` output at index time and to queries at search time; it
    keeps only Latin letters and digits, so pass native-script text through `romanize()`
    first.
    """
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    # One pass can make a new match ("aae" -> "ae", "qh" -> "kh"); repeat until stable so
    # folding a folded key changes nothing.
    folded = None
    while folded != text:
        folded = text
        for pattern, replacement in _RULES:
            text = pattern.sub(replacement, text)
    return text.strip()
