"""A document's paragraph answered by its relevant sentences, not the whole paragraph.

An about page's first paragraph holds the address, the founding year and the owner's name;
"where are you?" should get the sentence with the address. FAQ answers are never cut:
each is one answer already.
"""

import re
from collections.abc import Callable

# A sentence ends at ". ", "! " or "? " before a capital, a digit-free letter of another
# script, or a quote; "Rs. 250", "No. 42" and "6.30 am" never end one.
_END = re.compile(r"(?<=[.!?।])\s+(?=[A-Z\"'“\u0d80-\u0dff\u0b80-\u0bff])")
_ABBREVIATIONS = ("rs.", "no.", "st.", "dr.", "mr.", "mrs.", "ms.", "lkr.", "p.", "a.", "රු.")


def sentences(paragraph: str) -> list[str]:
    """A paragraph split into sentences (abbreviations such as "Rs." kept inside)."""
    pieces = _END.split(paragraph.strip())
    joined: list[str] = []
    for piece in pieces:
        if joined and joined[-1].casefold().endswith(_ABBREVIATIONS):
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return [piece for piece in joined if piece]


def relevant_sentences(line: str, score: Callable[[str], int]) -> str:
    """The sentences of `line` the question names (by `score`), in their order; the whole
    line when it is one sentence or no statement is named. A question the page asks itself
    ("Coming by train?") is never the answer: the sentence after it is kept instead."""
    parts = sentences(line)
    if len(parts) < 2:
        return line
    kept = []
    for index, part in enumerate(parts):
        if score(part) <= 0:
            continue
        if part.rstrip().endswith("?"):
            if index + 1 < len(parts):
                kept.append(index + 1)
            continue
        kept.append(index)
    if not kept:
        return line
    return " ".join(parts[index] for index in sorted(set(kept)))
