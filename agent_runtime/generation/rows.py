"""Spreadsheet rows and priced menu lines said as sentences a customer would write.

Ingestion stores a row as "Item: Fish bun | සිංහල නම: මාළු බනිස් | Price (Rs.): 120" and
a two-column menu line as "Butter cake, 1 kg | Rs. 2,600". A customer should read neither
the column names nor the other language's column: the name comes from the column in the
reply's language (found by a header hint such as "name_si", "Sinhala", "සිංහල", "Tamil",
"தமிழ்", or by the script of its cells), prices as `Rs. 4,500`, and the other columns
under a human label, or not at all when no label in the reply's language exists.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from agent_runtime.generation.arithmetic import (
    Amount,
    asked_count,
    counted_price,
    listed_amount,
    scaled_price,
)
from agent_runtime.generation.frames import DAYS, HOURS, LABELS, PRICE, frame
from agent_runtime.generation.money import marked_as_price, price_value, rupees
from agent_runtime.generation.parts import holds, skeleton
from agent_runtime.languages import language_family, readable_by
from katha.lang import romanize
from katha.lang.script import count_letters

# Header words: split at spaces and punctuation, Sinhala and Tamil vowel signs kept inside.
_HEADER_WORD = re.compile(r"[^\s_()\[\]/.,:;|-]+")
_LANGUAGE_HINTS = {
    "si": {"si", "sin", "sinhala", "sinhalese", "සිංහල", "සිංහලෙන්"},
    "ta": {"ta", "tam", "tamil", "தமிழ்", "தமிழில்"},
    "en": {"en", "eng", "english", "ඉංග්‍රීසි", "ஆங்கிலம்"},
}
_PRICE_HINTS = {"price", "prices", "rs", "lkr", "cost", "rate", "fee", "charge", "මිල", "ගාස්තුව"}
_PRICE_HINTS |= {"விலை", "ரூ", "கட்டணம்", "amount", "rupees"}
_NAME_HINTS = {"name", "item", "items", "product", "service", "model", "dish", "description"}
_NAME_HINTS |= {"නම", "අයිතමය", "භාණ්ඩය", "සේවාව", "பெயர்", "பொருள்", "சேவை"}
# Header words that only say a column is a price or in a language: dropped from a label.
_NOISE = {word for hints in _LANGUAGE_HINTS.values() for word in hints} | _PRICE_HINTS


@dataclass(frozen=True)
class Cell:
    header: str
    value: str


@dataclass
class Row:
    """A row's cells sorted by what they say: names by language, prices, everything else."""

    names: dict[str, str] = field(default_factory=dict)  # "en" | "si" | "singlish" | "ta"
    prices: list[tuple[str, Decimal]] = field(default_factory=list)  # (qualifier, amount)
    others: list[Cell] = field(default_factory=list)


def row_cells(line: str) -> list[Cell] | None:
    """The labelled cells of a row line ("Col: value | Col: value"), else None."""
    parts = [part.strip() for part in line.split(" | ") if part.strip()]
    cells = [part.partition(": ") for part in parts]
    if len(parts) < 2 or not all(separator for _, separator, _ in cells):
        return None
    return [Cell(header.strip(), value.strip()) for header, _, value in cells]


def read_row(cells: list[Cell]) -> Row:
    row = Row()
    for index, cell in enumerate(cells):
        words = _header_words(cell.header)
        amount = price_value(cell.value)
        if amount is not None and (words & _PRICE_HINTS or marked_as_price(cell.value)):
            row.prices.append((_qualifier(cell.header), amount))
            continue
        language = _cell_language(words, cell.value)
        named = bool(words & _NAME_HINTS) or _hinted_language(words) is not None
        # A name in another script is the name's translation ("සිංහලෙන්", "Tamil")
        is_name = index == 0 or named or (language in {"si", "ta"} and bool(row.names))
        if is_name and amount is None and language not in row.names:
            row.names[language] = cell.value
        else:
            row.others.append(cell)
    return row


def say_row(row: Row, language: str, question: str, asked: Amount | None) -> str | None:
    """The row as a sentence in `language`, or None when it has no name the reader can read."""
    name = _name_for(row, language, question)
    if name is None:
        return None
    scaled = _scaled(row, name, language, question, asked)
    if scaled is not None:
        return scaled
    others = [said for cell in row.others if (said := _other(cell, language, row))]
    if not row.prices:
        return f"{name}: {', '.join(others)}" if others else None
    prices = ", ".join(_price_text(qualifier, amount, language) for qualifier, amount in row.prices)
    said = frame(PRICE, language, name=name, prices=prices)
    return ". ".join([said, *others]) + "." if others else said


def _scaled(row: Row, name: str, language: str, question: str, asked: Amount | None) -> str | None:
    """The price of the amount or count asked ("2 kg", "3 shirts"), from a unit price."""
    if asked is not None:
        for qualifier, amount in row.prices:
            listed = listed_amount(qualifier) or listed_amount(name)
            scaled = scaled_price(name, amount, listed, asked, language) if listed else None
            if scaled is not None:
                return scaled
        return None
    count = asked_count(question, " ".join(row.names.values()))
    if count is None or not row.prices:
        return None
    qualifier, amount = row.prices[0]
    if listed_amount(qualifier) or listed_amount(name):
        return None  # a price per kg or per pack is not a price per item
    return counted_price(name, amount, count, language)


def say_priced_line(line: str, language: str, asked: Amount | None) -> str | None:
    """A two-cell menu line ("Butter cake, 1 kg | Rs. 2,600") as a sentence in `language`,
    the name copied (romanised for a Singlish reader); None for any other line."""
    cells = [cell.strip() for cell in line.split(" | ")]
    if len(cells) != 2 or ": " in cells[0]:
        return None
    name, amount = cells[0], price_value(cells[1])
    if amount is None or not marked_as_price(cells[1]) or not name:
        return None
    if language == "singlish" and count_letters(name).sinhala:
        name = romanize(name)
    if not readable_by(name, language):
        return None
    listed = listed_amount(name)
    if asked is not None and listed is not None:
        scaled = scaled_price(name, amount, listed, asked, language)
        if scaled is not None:
            return scaled
    return frame(PRICE, language, name=name, prices=rupees(amount))


def _name_for(row: Row, language: str, question: str) -> str | None:
    names = row.names
    if language == "singlish":
        sinhala = names.get("singlish") or (romanize(names["si"]) if "si" in names else None)
        if sinhala and (_asks_for(question, sinhala) or "en" not in names):
            return sinhala
        return names.get("en") or sinhala
    order = {"en": ["en", "singlish"], "si": ["si", "en", "singlish"], "ta": ["ta", "en"]}
    for each in order.get(language, ["en"]):
        if each in names and readable_by(names[each], language):
            return names[each]
    return None


def _price_text(qualifier: str, amount: Decimal, language: str) -> str:
    if qualifier and readable_by(qualifier, language) and not _foreign(qualifier, language):
        return f"{rupees(amount)} ({qualifier})"
    return rupees(amount)


def _other(cell: Cell, language: str, row: Row) -> str | None:
    """A column besides name and price under a label in the reply's language, or nothing."""
    words = _header_words(cell.header)
    hinted = _hinted_language(words)
    if hinted is not None and hinted != language_family(language) and hinted != "en":
        return None  # "notes_si" is for Sinhala readers
    if not readable_by(cell.value, language) or _foreign(cell.value, language):
        return None
    label = next((LABELS[word] for word in words if word in LABELS), None)
    value = cell.value
    if value.isdigit() and words & {"days", "day", "dawas", "දින", "நாட்கள்"}:
        value = frame(DAYS, language, n=value)
    elif value.isdigit() and words & {"hours", "hour", "hrs", "පැය"}:
        value = frame(HOURS, language, n=value)
    if label is not None:
        return frame(label, language, value=value).rstrip(".")
    human = " ".join(w for w in _HEADER_WORD.findall(cell.header) if w.casefold() not in _NOISE)
    if human.casefold() == cell.header.casefold() or _foreign(human, language):
        return None  # a prose header is the sheet's own label, not ours to repeat
    if not human or not readable_by(human, language):
        return None
    return f"{human[0].upper()}{human[1:]}: {value}"


def _foreign(text: str, language: str) -> bool:
    """Text in a script a reader of Latin letters does not read: Sinhala or Tamil script for
    English and Singlish readers (Tamil and Sinhala ones are guarded by `readable_by`)."""
    letters = count_letters(text)
    return language in {"en", "singlish"} and bool(letters.sinhala or letters.tamil)


def _header_words(header: str) -> set[str]:
    return {word.casefold() for word in _HEADER_WORD.findall(header)}


def _hinted_language(words: set[str]) -> str | None:
    return next((lang for lang, hints in _LANGUAGE_HINTS.items() if words & hints), None)


def _cell_language(words: set[str], value: str) -> str:
    """A column's language: by its cells' script, a hint settling Latin cells ("name_si"
    holding Latin letters is Singlish)."""
    letters = count_letters(value)
    if letters.sinhala > letters.latin:
        return "si"
    if letters.tamil > letters.latin:
        return "ta"
    hinted = _hinted_language(words)
    return "singlish" if hinted == "si" else "en"


def _qualifier(header: str) -> str:
    """What a price column adds to "price": "Each", "Pack of 10" ("Price (Rs.) Pack of 10")."""
    return " ".join(w for w in _HEADER_WORD.findall(header) if w.casefold() not in _NOISE)


def _asks_for(question: str, name: str) -> bool:
    """Whether the question names the item as the romanised name does ("kalisam" for
    "kalisama"): a word of four consonants or more in both (Singlish readers)."""
    words = re.findall(r"[^\W\d_]+", question)
    return any(holds(name, word) for word in words if len(skeleton(word)) >= _MIN_NAMED)


_MIN_NAMED = 4
