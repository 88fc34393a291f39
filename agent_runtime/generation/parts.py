"""Reading a message as a customer means it: two questions in one, or a short follow-up.

"What time do you open and do you deliver?" asks two things, and each is searched and
answered on its own. "and for Samsung?" after "how much is a screen replacement for an
iPhone 11?" means the same question about Samsung: it is searched with the previous
question's words plus its own, and the passages holding its own words come first.
"""

import re

from katha.lang import fold_romanized, romanize
from katha.lang.concepts import same_meaning
from katha.lang.function_words import content_words

# A clause after "and" that starts like a question of its own ("... and do you deliver?").
_ENGLISH_QUESTION_START = (
    "do|does|did|can|could|is|are|was|will|would|have|has|what|when|where|which|who|how"
)
# Where languages join two questions: English "and", Sinhala "සහ"/"හා", Singlish "saha"/"ha",
# Tamil "மற்றும்", and "?" between two questions in any of them.
_JOINERS = {
    "en": re.compile(r"\s+and\s+(?=(?:" + _ENGLISH_QUESTION_START + r")\b)", re.I),
    "si": re.compile(r"\s+(?:සහ|හා)\s+"),
    "singlish": re.compile(r"\s+(?:saha|ha)\s+", re.I),
    "ta": re.compile(r"\s+மற்றும்\s+"),
}
_QUESTION_MARK = re.compile(r"(?<=\?)\s+(?=\S)")
# A clause is a question of its own in Sinhala and Singlish when a word carries the
# question particle ("කීයද", "karanawada"); in Tamil, the "-ஆ" ending or a question word.
_SINHALA_QUESTION = re.compile(r"(?:ද|දැ|da|de|dha)\??$", re.I)
_TAMIL_QUESTION = re.compile(r"(?:ா|எப்போது|எவ்வளவு|என்ன|எங்கே|எத்தனை|யா)\??$")
# Words of a follow-up's frame that say nothing about what it asks ("ehema nam" = "then").
_FILLER = frozenset(
    ["ehema", "nam", "ehenam", "about", "also", "එහෙනම්", "එහෙම", "නම්", "ekata", "එකට"]
)
# Most content words a follow-up has: more, and it is a question of its own.
FOLLOW_UP_WORDS = 2
# How a short follow-up starts or ends in each language ("and for Samsung?", "what about",
# "ehema nam", "Samsung ekata?", "සැම්සුන් එකට?", "சாம்சங்குக்கு?").
_FOLLOW_UP = re.compile(
    r"^(?:and|what about|how about|what of|for|also|ehema nam|ehenam|එහෙනම්|එහෙම නම්)\b"
    # Tamil's dative "-க்கு" / "-க்கும்" ("for Samsung"), but not the future tense that ends
    # the same way ("திறக்கும்", "will open"): a dative follows a vowel sign, not a consonant.
    r"|(?:ekata|ekath|ekatath|එකට|එකටත්|එකත්|[\u0bbe-\u0bcc]க்கு|[\u0bbe-\u0bcc]க்கும்|பற்றி|ஆ)\s*\??$",
    re.IGNORECASE,
)


# A part that is a quantity word and one word, asking how much of something the part before
# it named: "How many hours?" after a repair's price, "How much extra?" after urgent
# stitching, "paya kiyada?", "පැය කීයද?", "எத்தனை நாள்?". "How much is the box?" names its
# thing and is a question of its own.
_WORD = r"([^\s?]+)"
_QUANTITY = {
    "en": re.compile(r"^how (?:many|much|long|far|big|old) " + _WORD + r"\s*\??$", re.I),
    "singlish": re.compile(r"^" + _WORD + r" (?:kiyada|kiyak|kochchara|kochcharada)\s*\??$", re.I),
    "si": re.compile(r"^" + _WORD + r" (?:කීයද|කීයක්|කොච්චරද|කොච්චර)\s*\??$"),
    "ta": re.compile(
        r"^(?:எத்தனை|எவ்வளவு) " + _WORD + r"\s*\??$|^" + _WORD + r" (?:எத்தனை|எவ்வளவு)\s*\??$"
    ),
}
# A number as an answer states it: digits, or an English number word ("two cars").
_AMOUNT = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half)\b", re.I
)


def leaning_word(part: str, language: str) -> str | None:
    """The one thing a part leaning on the part before it asks the amount of ("hours" of
    "How many hours?"), or None for a question of its own."""
    pattern = _QUANTITY.get(language)
    found = pattern.match(part.strip()) if pattern is not None else None
    if found is None:
        return None
    word = next(group for group in found.groups() if group)
    return word if word in new_words(part, language) else None


def states_amount_of(text: str, word: str) -> bool:
    """Whether a sentence of `text` names `word` (see `mentions`) with an amount beside it:
    "It takes 2 hours", "costs 50% extra", "parking for two cars"."""
    sentences = re.split(r"(?<=[.!?;:])\s+|\n", text)
    return any(_AMOUNT.search(each) and mentions(each, word) for each in sentences)


def mentions(text: str, word: str) -> bool:
    """Whether `text` names `word` or a word of its meaning in another language ("පැය" is
    "hour"): a long word as `holds` matches it, a short one only at a word's start ("AC" is
    not in "back")."""
    for form in (word, *same_meaning(word)):
        if len(skeleton(form)) >= _MIN_SKELETON:
            if holds(text, form):
                return True
        elif re.search(rf"(?<![\w\u0d80-\u0dff\u0b80-\u0bff]){re.escape(form)}", text, re.I):
            return True
    return False


def question_parts(text: str, language: str) -> list[str]:
    """The questions a message asks, each with its own question mark; one part for most."""
    parts = [part.strip() for part in _QUESTION_MARK.split(text.strip()) if part.strip()]
    joiner = _JOINERS.get(language)
    if joiner is not None:
        parts = [piece for part in parts for piece in _split_clauses(part, joiner, language)]
    return parts if len(parts) > 1 and all(_asks(part, language) for part in parts) else [text]


def _split_clauses(part: str, joiner: re.Pattern[str], language: str) -> list[str]:
    pieces = [piece.strip(" ,") for piece in joiner.split(part)]
    if len(pieces) < 2 or not all(_asks(piece, language) for piece in pieces):
        return [part]
    return [piece if piece.endswith("?") else f"{piece}?" for piece in pieces]


def _asks(clause: str, language: str) -> bool:
    """Whether a clause is a question on its own: content words, and (in Sinhala, Singlish
    and Tamil) a word carrying the question particle."""
    if not content_words(clause, language).strip():
        return False
    last_words = clause.rstrip("? ").split()
    if language in {"si", "singlish"}:
        return any(_SINHALA_QUESTION.search(word) for word in last_words[-2:])
    if language == "ta":
        return any(_TAMIL_QUESTION.search(word) for word in last_words[-2:])
    return True


def is_follow_up(text: str, language: str) -> bool:
    """A short message that leans on the previous question: few content words and a
    follow-up word ("and for Samsung?", "ehema nam Samsung ekata?")."""
    words = new_words(text, language)
    return 0 < len(words) <= FOLLOW_UP_WORDS and _FOLLOW_UP.search(text.strip()) is not None


def new_words(text: str, language: str) -> list[str]:
    """The words a follow-up brings (the thing it asks about now)."""
    words = [word.strip("?.,!") for word in content_words(text, language).split()]
    return [word for word in words if word and word.casefold() not in _FILLER]


def skeleton(word: str) -> str:
    """A word's consonants after romanising and folding: "Samsung", "සැම්සුන්" and
    "சாம்சங்குக்கு" all begin "smsn", which is enough to tell a follow-up's brand or model
    apart from the previous question's."""
    folded = fold_romanized(romanize(word.casefold()))
    return re.sub(r"[^b-df-hj-np-tv-z0-9]", "", folded)


def holds(text: str, word: str) -> bool:
    """Whether `text` has `word` in any script: consonant skeletons agreeing over the
    shorter one, at least 4 consonants long (a shorter word must match whole)."""
    wanted = skeleton(word)
    if len(wanted) < _MIN_SKELETON:
        return word.casefold() in text.casefold()
    for each in re.findall(r"[\w\u0d80-\u0dff\u0b80-\u0bff]+", text):
        found = skeleton(each)
        shorter = min(len(found), len(wanted))
        if shorter >= _MIN_SKELETON and found[:shorter] == wanted[:shorter]:
            return True
    return False


_MIN_SKELETON = 4
