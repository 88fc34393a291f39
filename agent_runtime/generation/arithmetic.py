"""Quantities: "how much for 2 kg?" priced from a listed unit price, when the units match.

The customer writes the amount as people do in chat: "2 kg", "3 packs", "kilo 2",
"කිලෝ 2ක්", "2 கிலோ", "packs 3k". A listed price names its unit ("Butter cake, 1 kg",
"Love cake, 500 g", a column "Price (Rs.) Pack of 10"). Grams and kilograms convert;
anything else is multiplied only for the very unit it is listed in, and a question whose
unit the price is not listed in gets the listed price as it is.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from agent_runtime.generation.frames import COUNTED, SCALED, amount_text, frame, per_unit_text
from agent_runtime.generation.money import rupees
from agent_runtime.generation.parts import holds, skeleton
from katha.lang.function_words import content_words

# The words for each unit in English, Singlish, Sinhala and Tamil, as customers type them.
_UNIT_WORDS = {
    "kg": "kg kgs kilo kilos kilogram kilograms kiloo කිලෝ කිලෝග්‍රෑම් கிலோ",
    "g": "g gram grams gramme grammes ග්‍රෑම් ග්රෑම් கிராம்",
    "l": "l litre litres liter liters ලීටර් லிட்டர்",
    "ml": "ml millilitre millilitres மி.லி",
    "pack": "pack packs packet packets pkt pkts පැකට් පැකට්ටු පැකට්ටුවක් பாக்கெட் பொதி",
}
_UNITS = {word: unit for unit, words in _UNIT_WORDS.items() for word in words.split()}
_UNIT = "|".join(sorted((re.escape(word) for word in _UNITS), key=len, reverse=True))
_NUMBER = r"\d+(?:\.\d+)?"
# A Singlish or Sinhala count suffix ("3k", "2ක්", "2යි") and a Tamil case ending.
_AFTER = r"(?:k|ක්|ක|යි)?"
_NUMBER_UNIT = re.compile(rf"(?<![\w.])({_NUMBER})\s*({_UNIT})(?![a-z])", re.IGNORECASE)
# Before its number a unit is a whole word ("kilo 2", "grams 500"): a lone letter there is
# part of a name ("Moto g 5"), not grams.
_WORD_UNIT = "|".join(sorted((re.escape(w) for w in _UNITS if len(w) > 1), key=len, reverse=True))
_UNIT_NUMBER = re.compile(rf"(?<![\w])({_WORD_UNIT})\s*({_NUMBER}){_AFTER}(?![\w.])", re.IGNORECASE)
# "5G" after a number is the network ("Galaxy A52 5G"); grams are written "g".
_NOT_UNITS = frozenset({"G"})
_PACK_OF = re.compile(r"\b(?:pack|packet)\s+of\s+\d+\b", re.IGNORECASE)
# How many of the smaller unit one of the larger is.
_CONVERSIONS = {("kg", "g"): Decimal(1000), ("l", "ml"): Decimal(1000)}


@dataclass(frozen=True)
class Amount:
    quantity: Decimal
    unit: str  # "kg" | "g" | "l" | "ml" | "pack"

    def text(self, language: str) -> str:
        return amount_text(_plain(self.quantity), self.unit, language)


def asked_amount(question: str) -> Amount | None:
    """The amount a question asks the price of, if it names one with a unit."""
    found = _find(question)
    return found if found is not None and found.quantity > 0 else None


def listed_amount(text: str) -> Amount | None:
    """The amount a listed price is for: "1 kg" in a name, "Pack of 10" in a column."""
    if _PACK_OF.search(text):
        return Amount(Decimal(1), "pack")
    return _find(text)


def factor(asked: Amount, listed: Amount) -> Decimal | None:
    """How many listed amounts the asked one is, when both are in units that convert."""
    if listed.quantity <= 0:
        return None
    if asked.unit == listed.unit:
        return asked.quantity / listed.quantity
    for (large, small), ratio in _CONVERSIONS.items():
        if (asked.unit, listed.unit) == (large, small):
            return asked.quantity * ratio / listed.quantity
        if (asked.unit, listed.unit) == (small, large):
            return asked.quantity / (listed.quantity * ratio)
    return None


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Counts written as words in Singlish, Sinhala and Tamil ("kalisam dekak", "කලිසම් දෙකක්").
_COUNT_WORDS = {
    2: "deka dekak dekka දෙක දෙකක් இரண்டு ரெண்டு",
    3: "thuna thunak thunaka තුන තුනක් மூன்று",
    4: "hathara hatharak හතර හතරක් நான்கு",
    5: "paha pahak පහ පහක් ஐந்து",
}
_COUNTS = {word: count for count, words in _COUNT_WORDS.items() for word in words.split()}
# A number as a count is written: "3", "3k", "3ක්" (a Singlish or Sinhala count suffix).
_DIGIT_COUNT = re.compile(r"(\d{1,2})(?:k|ක්|ක)?")
# Words after which a number is a size, an age, a time or a price, never how many items:
# "waist 34", "size 36", "age 12", "till 8", "at 5", "from 9", "Rs. 500".
_NOT_A_COUNT_AFTER = _words(
    "size sizes waist chest length collar neck height width year years age aged till until "
    "untill upto up at from by before after around about rs lkr no number room grade class "
    "model version gen"
)
# Words that count whatever they stand after or before ("3 pieces", "items 3").
_COUNT_NOUNS = _words("piece pieces pcs pc items item nos units unit ekak kalli kalla")
# Whatever a token carries around it in chat: punctuation, quotes, brackets.
_EDGES = ".,;:!?()[]\"'"
# The most items a count is taken for: a bigger number is a model or a size, not a count.
MAX_COUNT = 50


def asked_count(question: str, item: str) -> int | None:
    """How many items a question asks the price of, when that is 2 or more: a number right
    next to the item's own word ("3 shirts", "shirt 4k", "kalisam 2k") or a count word
    ("kalisam dekak", "කලිසම් දෙකක්"). A number anywhere else is something else: a size
    ("waist 34"), an age ("a 12 year old"), a time ("open till 8"), a weight in a unit we do
    not convert ("2 lbs"), or part of the item's name ("iPhone 11")."""
    if _find(question) is not None:
        return None  # "2 kg" is an amount, not a count
    tokens = [token.strip(_EDGES) for token in question.split()]
    tokens = [token for token in tokens if token]
    named = set(re.findall(r"\d+", item))
    for index, token in enumerate(tokens):
        before = tokens[index - 1].casefold() if index else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if before in _NOT_A_COUNT_AFTER:
            continue
        count = _count_of(token, named)
        if count is None:
            continue
        if token.casefold() in _COUNTS or _counts(after, item) or _counts(before, item):
            return count
    return None


def _count_of(token: str, named: set[str]) -> int | None:
    """The count a token writes ("3", "3k", "dekak"), unless it is in the item's name."""
    word = _COUNTS.get(token.casefold())
    digits = _DIGIT_COUNT.fullmatch(token)
    count = word if word is not None else int(digits.group(1)) if digits else None
    if count is None or str(count) in named or not 2 <= count <= MAX_COUNT:
        return None
    return count


def _counts(word: str, item: str) -> bool:
    """Whether a word next to a number names what is counted: a word of the item's name in
    any script and in the plural ("shirts" for "Gents shirt", "kalisam" for "කලිසම"), or a
    word that counts anything ("pieces")."""
    folded = word.casefold()
    if folded in _COUNT_NOUNS:
        return True
    if len(folded) < _MIN_NOUN or not content_words(folded, "en").strip():
        return False  # "a", "for", "the": next to anything
    for each in _LETTERS.findall(content_words(item.casefold(), "en")):
        if len(each) < _MIN_NOUN:
            continue
        if folded.startswith(each) or (len(folded) > _MIN_NOUN and each.startswith(folded)):
            return True
    # In another script or romanised: consonants agreeing ("kalisam" and "කලිසම").
    return len(skeleton(word)) >= _MIN_SKELETON and holds(item, word)


# A word's letters in any script, Sinhala and Tamil vowel signs kept inside.
_LETTERS = re.compile(r"(?:[^\W\d_]|[\u0d80-\u0dff\u0b80-\u0bff])+")
# The fewest letters a word needs to be taken as the item's noun ("pen", not "a"), and the
# fewest consonants a romanised word needs to be matched across scripts.
_MIN_NOUN = 3
_MIN_SKELETON = 4


def counted_price(name: str, price: Decimal, count: int, language: str) -> str:
    """ "3 × Gents shirt: Rs. 6,600 (Rs. 2,200 each)." in `language`."""
    return frame(
        COUNTED,
        language,
        name=name,
        count=str(count),
        total=rupees(price * count),
        unit_price=rupees(price),
    )


def scaled_price(
    name: str, price: Decimal, listed: Amount, asked: Amount, language: str
) -> str | None:
    """ "Butter cake, 2 kg: Rs. 5,600 (Rs. 2,800 per kg)." in `language`, or None when the
    asked amount is not in the listed price's unit or is the listed amount itself."""
    times = factor(asked, listed)
    if times is None or times == 1:
        return None
    return frame(
        SCALED,
        language,
        name=name,
        asked=asked.text(language),
        total=rupees(price * times),
        unit_price=rupees(price),
        listed=per_unit_text(_plain(listed.quantity), listed.unit, language),
    )


def _find(text: str) -> Amount | None:
    for pattern, number_first in ((_NUMBER_UNIT, True), (_UNIT_NUMBER, False)):
        for match in pattern.finditer(text):
            number, word = match.groups() if number_first else reversed(match.groups())
            if word not in _NOT_UNITS:
                return Amount(Decimal(number), _UNITS[word.casefold()])
    return None


def _plain(quantity: Decimal) -> str:
    """2 for 2.0, 1.5 for 1.50: an amount as a person writes it."""
    normal = quantity.normalize()
    return f"{normal:f}"
