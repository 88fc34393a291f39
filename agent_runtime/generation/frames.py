"""The sentence frames the built-in responder says facts in, in each reply language.

Only the frame is ours: every name, price and value put into it is copied from a source.
A row or a priced menu line needs no "(these details are only in English)" note when a
frame can carry its values in the customer's language.
"""

# "Fish bun: Rs. 120", "මාළු බනිස් මිල Rs. 120" (a sentence of its own follows with ". ").
PRICE = {
    "en": "{name}: {prices}",
    "si": "{name} මිල {prices}",
    "singlish": "{name} mila {prices}",
    "ta": "{name} விலை {prices}",
}
# A quantity priced from the unit price: "Butter cake, 2 kg: Rs. 5,600 (Rs. 2,800 per kg)."
SCALED = {
    "en": "{name}, {asked}: {total} ({unit_price} per {listed}).",
    "si": "{name}, {asked}: {total} ({listed} {unit_price} බැගින්).",
    "singlish": "{name}, {asked}: {total} ({listed} {unit_price} gane).",
    "ta": "{name}, {asked}: {total} ({listed} {unit_price} வீதம்).",
}
# A part of a two-part question that nothing in the knowledge answers.
PART_UNANSWERED = {
    "en": 'I\'ll ask a person from {business} about "{part}".',
    "si": '"{part}" ගැන {business} හි කෙනෙක් ඔබට පිළිතුරු දෙනු ඇත.',
    "singlish": '"{part}" gana {business} eke kenek oyata reply karai.',
    "ta": '"{part}" பற்றி {business} இலிருந்து ஒருவர் பதிலளிப்பார்.',
}

# Units as each language writes an amount of them; "{n}" is the number.
UNITS = {
    "kg": {"en": "{n} kg", "si": "කිලෝ {n}", "singlish": "kilo {n}", "ta": "{n} கிலோ"},
    "g": {"en": "{n} g", "si": "ග්‍රෑම් {n}", "singlish": "gram {n}", "ta": "{n} கிராம்"},
    "l": {"en": "{n} l", "si": "ලීටර් {n}", "singlish": "litar {n}", "ta": "{n} லிட்டர்"},
    "ml": {"en": "{n} ml", "si": "මිලි ලීටර් {n}", "singlish": "ml {n}", "ta": "{n} மி.லி"},
    "pack": {
        "en": "{n} packs",
        "si": "පැකට් {n}",
        "singlish": "packet {n}",
        "ta": "{n} பாக்கெட்",
    },
}
# One unit, as "per kg" says it.
ONE_UNIT = {"en": {"kg": "kg", "g": "g", "l": "l", "ml": "ml", "pack": "pack"}}

# Columns a price list commonly has besides name and price, said as a short sentence in
# each language; the key is a word of the header (lower case), "{value}" the cell copied.
# A header is never repeated as the label ("Ready in: 1 day" reads as a database).
_TAKES = {
    "en": "It takes {value}.",
    "si": "ගතවන කාලය {value}.",
    "singlish": "kalaya {value}.",
    "ta": "ஆகும் நேரம் {value}.",
}
_WARRANTY = {
    "en": "Warranty {value}.",
    "si": "වගකීම {value}.",
    "singlish": "warranty eka {value}.",
    "ta": "உத்தரவாதம் {value}.",
}
_SIZE = {
    "en": "Size {value}.",
    "si": "ප්‍රමාණය {value}.",
    "singlish": "size eka {value}.",
    "ta": "அளவு {value}.",
}
_WEIGHT = {
    "en": "Weight {value}.",
    "si": "බර {value}.",
    "singlish": "bara {value}.",
    "ta": "எடை {value}.",
}
_PACK = {
    "en": "Pack of {value}.",
    "si": "පැකට්ටුවක {value}.",
    "singlish": "packet eke {value}.",
    "ta": "பொதியில் {value}.",
}
LABELS: dict[str, dict[str, str]] = {
    "time": _TAKES,
    "duration": _TAKES,
    "ready": _TAKES,
    "days": _TAKES,
    "hours": _TAKES,
    "කාලය": _TAKES,
    "நேரம்": _TAKES,
    "warranty": _WARRANTY,
    "guarantee": _WARRANTY,
    "වගකීම": _WARRANTY,
    "size": _SIZE,
    "weight": _WEIGHT,
    "pack": _PACK,
}
# A bare number under a header counting days or hours: "5" is "5 days" in each language.
DAYS = {"en": "{n} days", "si": "දින {n}", "singlish": "dawas {n}", "ta": "{n} நாட்கள்"}
HOURS = {"en": "{n} hours", "si": "පැය {n}", "singlish": "paya {n}", "ta": "{n} மணி நேரம்"}
# A count of items priced from the price of one: "3 × Gents shirt: Rs. 6,600 (Rs. 2,200 each)."
COUNTED = {
    "en": "{count} × {name}: {total} ({unit_price} each).",
    "si": "{name} {count}ක්: {total} (එකක් {unit_price} බැගින්).",
    "singlish": "{name} {count}k: {total} (ekak {unit_price} gane).",
    "ta": "{name} {count}: {total} (ஒன்று {unit_price} வீதம்).",
}


def frame(table: dict[str, str], language: str, **values: str) -> str:
    """`table`'s frame in `language` (English where it has none), filled with `values`."""
    return table.get(language, table["en"]).format(**values)


def amount_text(quantity: str, unit: str, language: str) -> str:
    """`2 kg` / `කිලෝ 2` / `2 கிலோ`; one pack is "1 pack" in English, not "1 packs"."""
    forms = UNITS[unit]
    text = forms.get(language, forms["en"]).format(n=quantity)
    return text[:-1] if language == "en" and unit == "pack" and quantity == "1" else text


def per_unit_text(quantity: str, unit: str, language: str) -> str:
    """What a unit price is per: "kg" for one kg in English ("Rs. 2,800 per kg"), else the
    amount as the language writes it ("කිලෝ 1", "500 g")."""
    if language == "en" and quantity == "1":
        return ONE_UNIT["en"][unit]
    return amount_text(quantity, unit, language)
