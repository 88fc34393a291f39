"""The words of a question as full-text search and the coverage check see them.

A question's word meets a passage in any of its forms: as typed, romanised and folded (so
Singlish meets Sinhala script), as the Sinhala words people type that way (the Dakshina
lexicon: "card" is කාඩ්, "nathi" is නැති), and as the same everyday meaning in the other
languages ("arinne" is "open" and විවෘත, "gedarata" is "delivery" and ඩිලිවරි; see
katha.lang.concepts).
"""

import re

from katha.lang import fold_romanized, romanize
from katha.lang.concepts import concept_of, join_phrases, same_meaning
from katha.lang.singlish_lexicon import romanised_forms, sinhala_forms

WORD = re.compile(r"[\w\u0d80-\u0dff\u0b80-\u0bff]+")
# Words match across inflection without a stemmer for each language: a shared stem of 4
# letters or more, and endings of at most 3 ("cake"/"cakes", "deliver"/"delivered",
# "කාමරය"/"කාමරයක"). Shorter words match whole, or with a plural "s" ("car"/"cars").
_MIN_STEM = 4
_MAX_ENDING = 3
_HAL = "\u0dca"
_SINHALA_CONSONANT = re.compile("[\u0d9a-\u0dc6]")
# Two Latin consonants are an acronym ("qr", "kg"), which also ends a brand's compound
# name; a two-letter word with a vowel ("da", "ne") is a particle and must match whole.
_ACRONYM = re.compile(r"[b-df-hj-np-tv-z]{2}")


def bare(word: str) -> str:
    return "".join(WORD.findall(word.casefold()))


# "How much", "price", "charge", "ගාස්තුව", "கட்டணம்" ask for an amount: a passage that
# states one ("Rs. 250", "රු. 250", "ரூ. 250") answers that part of the question even when it
# never writes the word.
PRICE = "price"
_PRICE_GROUP = concept_of(PRICE)
_AMOUNT = re.compile(r"(?:\brs|\blkr|රු|ரூ)\.?\s*\d", re.IGNORECASE)


# A question names a few things ("delivery charge", "kalisam"); a longer text is a
# sentence, where the everyday words ("day", "time") are many and their other forms match
# every passage: on 250 FLoRes sentences, expanding them cost English -> Sinhala P@1
# 1.6 points.
MAX_EXPANDED = 5


def expanded(words: str) -> str:
    """`words` and, after them, their other forms: the query full-text search runs.

    BM25 adds up the terms a passage holds, so a passage that writes the customer's word
    another way ("ඩිලිවරි" for "delivery") now scores as one that writes it alike.
    """
    extra: list[str] = []
    if len(words.split()) > MAX_EXPANDED:
        return words
    for word in join_phrases(words.split()):
        typed = bare(word)
        extra.extend(form for form in other_forms(typed) if "_" not in form)
        extra.extend(endings(typed))
    seen = set(words.split())
    return " ".join([*words.split(), *(w for w in dict.fromkeys(extra) if w not in seen)])


def endings(word: str) -> list[str]:
    """A noun with and without the "-a" ending it is often written with: people type
    "kalisam" and write "කලිසම්" for the price list's කලිසම ("kalisama"). Full text matches
    whole words only."""
    if len(word) < _MIN_STEM or "_" in word:
        return []
    if not word.isascii():
        if word.endswith(_HAL):
            return [word[:-1]]
        return [word + _HAL] if _SINHALA_CONSONANT.match(word[-1]) else []
    if word.endswith("a"):
        return [word[:-1]]
    return [word + "a"] if word[-1] not in "eiou" else []


def other_forms(word: str) -> list[str]:
    """The Sinhala words typed as `word` and the forms of its meaning in other languages."""
    if not word:
        return []
    latin = word.isascii()
    lexicon = [*sinhala_forms(word)] if latin else []
    return [form for form in (*lexicon, *same_meaning(word)) if form != word]


def forms(word: str) -> set[str]:
    """A query word's keys: as typed (lower case), romanised and folded, and the keys of its
    other forms (`other_forms`), compared with a passage's `keys`."""
    typed = bare(word)
    found = {typed, fold_romanized(romanize(typed))} if "_" not in typed else set()
    if typed.isascii():
        found.update(romanised_forms(typed))
    for other in other_forms(typed):
        if "_" not in other:  # a two-word form never equals one word of a passage
            found.update((other.casefold(), fold_romanized(romanize(other.casefold()))))
    if _PRICE_GROUP is not None and concept_of(typed) == _PRICE_GROUP:
        found.add(PRICE)
    return {form for form in found if form}


def keys(text: str) -> set[str]:
    """A passage's words, as written (lower case) and romanised and folded; a passage that
    states an amount of money also holds the word "price" (see `PRICE`)."""
    words = set(WORD.findall(text.casefold()))
    priced = {PRICE} if _AMOUNT.search(text) else set()
    return words | set(fold_romanized(romanize(text)).split()) | priced


def same_word(asked: str, held: str) -> bool:
    """Whether a question's word (one of its `forms`) is a passage's word (one of its `keys`)."""
    if _ACRONYM.fullmatch(asked) and len(held) > _MIN_STEM:
        return held.endswith(asked)  # "qr" is the QR of "LankaQR"
    short, long = sorted((asked, held), key=len)
    if len(short) < _MIN_STEM:
        return long in (short, short + "s")
    stem = next(
        (n for n, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short)
    )
    return stem >= _MIN_STEM and len(long) - stem <= _MAX_ENDING
