"""Counting letters by Unicode script: the first and cheapest signal of a message's language."""

import unicodedata
from typing import NamedTuple


class LetterCounts(NamedTuple):
    sinhala: int
    tamil: int
    latin: int
    other: int


def count_letters(text: str) -> LetterCounts:
    """Letters (not digits, marks, punctuation or emoji) of each script in `text`."""
    sinhala = tamil = latin = other = 0
    for char in text:
        if char.isascii():
            if char.isalpha():
                latin += 1
            continue
        code = ord(char)
        if 0x0D80 <= code <= 0x0DFF:
            sinhala += unicodedata.category(char) == "Lo"
        elif 0x0B80 <= code <= 0x0BFF:
            tamil += unicodedata.category(char) == "Lo"
        elif char.isalpha():
            if code <= 0x024F or 0x1E00 <= code <= 0x1EFF:
                latin += 1
            else:
                other += 1
    return LetterCounts(sinhala, tamil, latin, other)
