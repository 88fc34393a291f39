"""The words of a question as full-text search and the coverage check see them.

A question's word meets a passage in any of its forms: as typed, romanised and folded (so
Singlish meets Sinhala script), as the Sinhala words people type that way (the Dakshina
lexicon: "card" is කාඩ්, "nathi" is නැති), and as the same everyday meaning in the other
languages ("arinne" is "open" and විවෘත, "gedarata" is "delivery" and ඩිලිවරි; see
katha.lang.concepts), as spoken Sinhala ends a noun ("hatte" for හැට්ටය, see `colloquial`)
and with the "ae" vowel typed "a" ("hatta", see `ae_spelling`). A spreadsheet row whose name
is nothing but the words asked about is the thing asked about (`names_only_asked`).
"""

import re

from katha.lang import fold_romanized, romanize
from katha.lang.concepts import concept_of, join_phrases, same_meaning
from katha.lang.function_words import content_words
from katha.lang.romanize import romanize_ae_as_a
from katha.lang.singlish_lexicon import romanised_forms, sinhala_forms

WORD = re.compile(r"[\w\u0d80-\u0dff\u0b80-\u0bff]+")
# Words match across inflection without a stemmer for each language: a shared stem of 4
# letters or more, and endings of at most 3 ("cake"/"cakes", "deliver"/"delivered",
# "කාමරය"/"කාමරයක"). Shorter words match whole, or with a plural "s" ("car"/"cars").
_MIN_STEM = 4
_MAX_ENDING = 3
_HAL = "\u0dca"
_SINHALA_CONSONANT = re.compile("[\u0d9a-\u0dc6]")
_SINHALA_LETTER = re.compile("[\u0d80-\u0dff]")
_TAMIL_LETTER = re.compile("[\u0b80-\u0bff]")
_DIGIT = re.compile(r"\d")
_YA = "\u0dba"  # ය
_EE = "\u0dda"  # the vowel sign ේ
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
        spoken = colloquial(typed)
        extra.extend(spoken)
        extra.extend(ae_spelling(form) for form in (typed, *spoken) if ae_spelling(form))
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


def colloquial(word: str) -> list[str]:
    """A noun ending in "-aya" and its spoken form ending in "-e", each for the other: the
    price list writes හැට්ටය ("hattaya", a blouse) and people type "hatte", as කඩය ("kadaya",
    a shop) is said and typed "kade" (කඩේ). Sinhala script the same way (කඩය, කඩේ)."""
    if len(word) < (_MIN_STEM if word.isascii() else 3) or "_" in word:
        return []  # Sinhala's "කඩේ" is three characters: two letters and a vowel sign
    if word.isascii():
        if word.endswith("aya"):
            return [word[:-3] + "e"]
        spoken = word.endswith("e") and word[-2] not in "aeiouy"
        return [word[:-1] + "aya"] if spoken else []
    if not _SINHALA_CONSONANT.match(word[-2]):
        return []
    if word.endswith(_YA):
        return [word[:-1] + _EE]
    return [word[:-1] + _YA] if word.endswith(_EE) else []


def ae_spelling(word: str) -> str:
    """A typed word's first "a" as the "e" the index's romanised column spells Sinhala's
    "ae" with ("hatta" is හැට්ට, romanised "hetta"; see romanize_ae_as_a): the spelling
    full text must search the romanised column for. Two in three of the Dakshina lexicon's
    "ae" vowels are in a word's first syllable; "" for a word with no "a"."""
    if not word.isascii() or "a" not in word or "_" in word:
        return ""
    return word.replace("a", "e", 1)


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
    found.update(fold_romanized(romanize(spoken)) for spoken in colloquial(typed))
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
    romanised = {*fold_romanized(romanize(text)).split(), *_typed_ae(text)}
    return words | romanised | priced


def _typed_ae(text: str) -> list[str]:
    """The passage's Sinhala words as typed with "a" for "ae" (romanize_ae_as_a)."""
    if not _SINHALA_LETTER.search(text):
        return []
    return fold_romanized(romanize_ae_as_a(text)).split()


def names_only_asked(text: str, wanted: list[set[str]]) -> bool:
    """Whether a spreadsheet row (text "Col: value | Col: value") is named by the question
    alone: a name cell of it (the first cell, or one in another script: its translation)
    holds no word the question does not ask about. "kalisam dekak mahanna?" ("sew two
    trousers?") names the row "Trouser | කලිසම", not "Trouser hem shortening | කලිසම කොට
    කිරීම" nor "School shorts | පාසල් කොට කලිසම", though all three hold කලිසම."""
    asked = {form for each in wanted for form in each}
    return any(
        all(any(same_word(f, k) for f in asked for k in _word_keys(w)) for w in name.split())
        for name in _name_cells(text)
    )


def _name_cells(text: str) -> list[str]:
    """A row's name cells as content words (see `names_only_asked`); none when not a row."""
    cells = [part.partition(": ") for part in text.split(" | ")]
    if len(cells) < 2 or not all(separator for _, separator, _ in cells):
        return []
    first = _script(cells[0][2])
    names = [
        value
        for index, (_, _, value) in enumerate(cells)
        if not _DIGIT.search(value) and (index == 0 or _script(value) != first)
    ]
    return [words for name in names if (words := content_words(name, _script(name)))]


def _script(text: str) -> str:
    """The function-word list a cell is read against: Latin letters are read as Singlish
    (English and Sinhala lists both)."""
    if _SINHALA_LETTER.search(text):
        return "si"
    return "ta" if _TAMIL_LETTER.search(text) else "singlish"


def _word_keys(word: str) -> set[str]:
    typed = bare(word)
    return {typed, fold_romanized(romanize(typed)), *_typed_ae(typed)} - {""}


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
