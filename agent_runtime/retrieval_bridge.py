"""English as the bridge for a Tamil customer of a business that writes Sinhala and English.

multilingual-e5-small puts a Tamil question closer to the Sinhala version of an FAQ or a
menu than to its English twin (a Tamil "delivery?" reaches the Sinhala FAQ at 0.83, the
English one at 0.77), and a Tamil reader must never get Sinhala script. Whether there is an
answer is decided on the closest passage; which passage the answer is read from is then
the English (or Tamil) twin of it, where retrieval found one. Such a Sinhala passage
decides only where full text found a word asked about in it (agent_runtime.retrieval's
WORDS_ACROSS_SCRIPTS): its closeness alone is no evidence for a Tamil question.
"""

import re
from collections.abc import Sequence
from typing import TypeVar

from ingestion.index.reader import Found

P = TypeVar("P", bound=Found)
# The languages a Tamil reader reads, best first; and those that must not reach them.
READABLE = {"ta": ("ta", "en")}
UNREADABLE = {"ta": ("si", "singlish", "mixed")}
_NUMBER = re.compile(r"\d[\d,.]*")
_LONG_NUMBER = 3
_NAME = re.compile(r"\b[A-Z][A-Za-z]{2,}\b")  # a capitalised Latin word: a brand or place


def bridged(passages: Sequence[P], language: str | None) -> list[P]:
    """`passages` with the top one's twin in a language the customer reads moved first,
    when the top one is in a script they cannot read (see `twins`: the English page of the
    menu, the English FAQ of the pair)."""
    ranked = list(passages)
    readable = READABLE.get(language or "")
    if not ranked or readable is None or ranked[0].language not in UNREADABLE[language or ""]:
        return ranked
    top = ranked[0]
    for index, passage in enumerate(ranked[1:], start=1):
        if passage.language in readable and twins(top, passage):
            return [passage, *ranked[:index], *ranked[index + 1 :]]
    return ranked


def twins(top: Found, other: Found) -> bool:
    """The same fact: from the same source, stating the same numbers, or, where the top
    passage states none, the same names ("Visa", "LankaQR"); or from another source (the
    English about page of the Sinhala one) stating the same long number ("118/2")."""
    shared = numbers(top.text) & numbers(other.text)
    if other.source != top.source:
        return any(len(number) >= _LONG_NUMBER for number in shared)
    if numbers(top.text):
        return bool(shared)
    return bool(names(top.text) & names(other.text))


def names(text: str) -> set[str]:
    return {word.casefold() for word in _NAME.findall(text)}


def numbers(text: str) -> set[str]:
    return {number.rstrip(".,") for number in _NUMBER.findall(text)}
