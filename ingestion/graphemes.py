"""Where Sinhala and Tamil text may be cut without breaking a letter apart."""

import unicodedata

_ZWJ = "\u200d"
_ZWNJ = "\u200c"
_MARK_CATEGORIES = frozenset({"Mn", "Mc", "Me"})


def is_boundary(text: str, index: int) -> bool:
    """True if cutting `text` at `index` keeps every grapheme cluster whole.

    A cluster is a base letter with its vowel signs, virama and joiners; "ශ්‍රී" (sha +
    hal + ZWJ + ra + ii) is one cluster, so nothing may separate ZWJ from what follows.
    """
    if index <= 0 or index >= len(text):
        return True
    char = text[index]
    if char in (_ZWJ, _ZWNJ) or unicodedata.category(char) in _MARK_CATEGORIES:
        return False
    return text[index - 1] not in (_ZWJ, _ZWNJ)


def boundary_at_or_before(text: str, index: int) -> int:
    """The nearest safe cut at or before `index` (0 at worst)."""
    index = min(max(index, 0), len(text))
    while not is_boundary(text, index):
        index -= 1
    return index


def boundary_at_or_after(text: str, index: int) -> int:
    """The nearest safe cut at or after `index` (len(text) at worst)."""
    index = min(max(index, 0), len(text))
    while not is_boundary(text, index):
        index += 1
    return index
