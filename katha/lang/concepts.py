"""Everyday shop words in English, Sinhala, Singlish and Tamil, so a question meets the
knowledge's wording in another language or register.

A customer asks "kade arinne kiyatada?" ("when does the shop open?") and the FAQ says
"විවෘත" (formal "open"); "ගෙදරට ගෙනත් දෙනවද?" ("do you bring it home?") and the FAQ says
"ඩිලිවරි"; "irida" and the hours say "Sunday". Neither romanisation nor the Dakshina
lexicon (katha.lang.singlish_lexicon) bridges a synonym, and the embedding model scores
romanised Sinhala low. Each group below is one meaning: the forms that write it in each
language (Singlish as people type it; matching folds spelling variants). Only words a
customer-service question turns on are listed: delivery, opening and closing, orders,
payment, price, place and contact, days of the week, and words for time and duration;
and the garments (and their sleeves) that tailors and clothes shops are asked about, whose
Tamil words meet a price list written in English and Sinhala only this way (a Tamil
"நீண்ட கை சட்டை", "long-sleeve shirt", shares no letters with "Gents shirt (long sleeve)").
"""

from functools import cache
from typing import Final

from katha.lang.fold import fold_romanized
from katha.lang.romanize import romanize

# One meaning per group, groups ending with ";" (a long group runs on over lines). Two
# words joined by "_" are one form: "gedarata genath" ("bring it home") is delivery, while
# "gedarata" alone ("to the house") is not ("measurements at home").
GROUPS: Final[tuple[tuple[str, ...], ...]] = tuple(
    tuple(group.split())
    for group in """
    deliver delivery delivers delivered deliveries ඩිලිවරි ඩිලිවර් diliwari டெலிவரி
    gedarata_genath ගෙදරට_ගෙනත් gedarata_genawa ගෙදරට_ගේනවා வீட்டுக்கு_கொண்டு ;
    open opens opening විවෘත ඇරෙන්නේ අරින්නේ ඇරලා ඇරලද arinne arinawa arina arinna
    arinawada arala ඕපන් திறக்கும் திறந்திருக்கும் திறந்திருக்கிறதா திறந்திருக்கிறது திறப்பு
    திறப்பீர்கள் திறக்கிறீர்கள் திறந்திருப்பீர்கள் ;
    close closes closing closed වහන්නේ වසා වහනවා wahanne wahanawa மூடும் மூடப்படும்
    மூடுவீர்கள் மூடுகிறீர்கள் ;
    hours time welawa වෙලාව වේලාව වෙලාවන් වේලාවන් நேரம் மணிநேரம் ;
    pay payment gewanna ගෙවන්න ගෙවීම් ගෙවීම gewima செலுத்த செலுத்தலாமா ;
    card කාඩ් kard கார்டு அட்டை ;
    price cost charge fee මිල ගාස්තුව ගාස්තු gasthuwa mila விலை கட்டணம் ;
    address located location ලිපිනය lipinaya முகவரி இடம் ;
    phone contact call number දුරකථන අංකය කෝල් kol தொலைபேசி தொடர்பு அழைக்க ;
    sunday ඉරිදා irida ஞாயிறு ;
    monday සඳුදා sanduda திங்கள் ;
    tuesday අඟහරුවාදා angaharuwada செவ்வாய் ;
    wednesday බදාදා badada புதன் ;
    thursday බ්‍රහස්පතින්දා brahaspathinda வியாழன் ;
    friday සිකුරාදා sikurada வெள்ளி ;
    saturday සෙනසුරාදා senasurada சனி ;
    poya පෝය போயா ;
    today අද ada இன்று ;
    tomorrow හෙට heta நாளை ;
    morning උදේ ude udee காலை ;
    evening හවස hawasa மாலை ;
    night රෑ රාත්‍රී rathri இரவு ;
    hour පැය paya peya மணி ;
    minute minutes විනාඩි winadi நிமிடம் நிமிடங்கள் ;
    day days දින දවස dina dawasa dawas நாள் நாட்கள் ;
    week weeks සතිය සති sathiya sathi வாரம் ;
    month months මාසය මාස masaya masa மாதம் ;
    egg eggs බිත්තර biththara முட்டை ;
    order orders ordered ඇණවුම් ඇණවුම anawum anawuma ஆர்டர் ;
    shirt shirts ෂර්ට් ෂර්ට சட்டை ஷர்ட் ;
    trouser trousers pants කලිසම කලිසම් kalisama kalisam காற்சட்டை கால்சட்டை ;
    saree sarees sari සාරිය සාරි சேலை புடவை ;
    blouse blouses බ්ලවුස් ரவிக்கை பிளவுஸ் ;
    frock frocks gown ගවුම gawuma கவுன் ;
    sleeve sleeves අත් අත ath atha கை ;
    long දිග diga நீண்ட ;
    """.split(";")  # noqa: SIM905 (a word list reads better as prose than as quoted strings)
    if group.strip()
)
# A form matches a typed word that starts with it and adds at most this many letters of
# ending: "arinne" meets "arinneda", "ඩිලිවරි" meets "ඩිලිවරිය", "delivery" is its own form.
_MAX_ENDING = 4
_MIN_STEM = 4


def _key(word: str) -> str:
    return " ".join(fold_romanized(romanize(part.casefold())) for part in word.split("_"))


def join_phrases(words: list[str]) -> list[str]:
    """`words` with each two-word form of a meaning joined by "_" into one word."""
    joined: list[str] = []
    index = 0
    while index < len(words):
        pair = "_".join(words[index : index + 2])
        if index + 1 < len(words) and concept_of(pair) is not None:
            joined.append(pair)
            index += 2
        else:
            joined.append(words[index])
            index += 1
    return joined


@cache
def _index() -> dict[str, int]:
    keys: dict[str, int] = {}
    for number, group in enumerate(GROUPS):
        for form in group:
            keys.setdefault(_key(form), number)
    return keys


def concept_of(word: str) -> int | None:
    """The group `word` (as typed, any script) belongs to, or None."""
    key = _key(word)
    if not key.strip():
        return None
    index = _index()
    if key in index:
        return index[key]
    for cut in range(1, _MAX_ENDING + 1):
        if " " in key[-cut:]:
            break  # an ending belongs to the last word: "நீண்ட கை" is not "நீண்ட" plus one
        stem = key[:-cut]
        if len(stem) >= _MIN_STEM and stem in index:
            return index[stem]
    return None


def same_meaning(word: str) -> tuple[str, ...]:
    """Every form of the meaning `word` belongs to (itself included), or () when none."""
    group = concept_of(word)
    return GROUPS[group] if group is not None else ()
