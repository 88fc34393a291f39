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
_UNIT_NUMBER = re.compile(rf"(?<![\w])({_UNIT})\s*({_NUMBER}){_AFTER}(?![\w.])", re.IGNORECASE)
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


# Counts written as words in Singlish, Sinhala and Tamil ("kalisam dekak", "කලිසම් දෙකක්").
_COUNT_WORDS = {
    2: "deka dekak dekka දෙක දෙකක් இரண்டு ரெண்டு",
    3: "thuna thunak thunaka තුන තුනක් மூன்று",
    4: "hathara hatharak හතර හතරක් நான்கு",
    5: "paha pahak පහ පහක් ஐந்து",
}
_COUNTS = {word: count for count, words in _COUNT_WORDS.items() for word in words.split()}
_DIGIT_COUNT = re.compile(r"(?<![\w.,])(\d{1,2})(?:k|ක්)?(?=\s+[^\W\d]|\s*$|\s*\?)")
# The most items a count is taken for: a bigger number is a model or a size, not a count.
MAX_COUNT = 50


def asked_count(question: str, item: str) -> int | None:
    """How many items a question asks the price of ("3 shirts", "shirt 4k", "කලිසම් දෙකක්"),
    when that is 2 or more and the number is not part of the item's own name ("iPhone 11")."""
    if _find(question) is not None:
        return None  # "2 kg" is an amount, not a count
    found = [int(number) for number in _DIGIT_COUNT.findall(question)]
    found += [
        _COUNTS[word]
        for word in re.findall(r"[\w\u0d80-\u0dff\u0b80-\u0bff]+", question.casefold())
        if word in _COUNTS
    ]
    named = set(re.findall(r"\d+", item))
    counts = [count for count in found if str(count) not in named and 2 <= count <= MAX_COUNT]
    return counts[0] if counts else None


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
        match = pattern.search(text)
        if match is not None:
            number, word = match.groups() if number_first else reversed(match.groups())
            return Amount(Decimal(number), _UNITS[word.casefold()])
    return None


def _plain(quantity: Decimal) -> str:
    """2 for 2.0, 1.5 for 1.50: an amount as a person writes it."""
    normal = quantity.normalize()
    return f"{normal:f}"
