"""Function words of customer questions, so full-text search matches what a question is about.

A tenant's index is small: "eka" and "kiyada" occur in one Singlish FAQ question, so BM25
gives them a high IDF and "butter cake eka kiyada?" finds "delivery charge eka kiyada?".
IDF learnt from a few dozen chunks cannot know which words are grammar; these lists do.
Words that carry a topic ("price", "open", "delivery", "welawa") are never listed.
"""

import re
from typing import Final

from katha.lang.fold import fold_romanized
from katha.lang.romanize import romanize

# English: articles, pronouns, auxiliaries, prepositions, conjunctions, question words and
# the politeness around a question ("please", "tell me"). Compared lower-cased.
ENGLISH: Final = frozenset(
    """
    a an the this that these those there here it its i me my we us our you your yours
    they them their he him his she her is are was were be been being am do does did
    have has had can could will would should shall may might must to of in on at for
    from with by about as into onto than and or but if so also just much many any some
    please tell know want need like get
    """.split()  # noqa: SIM905 (a word list reads better as prose than as quoted strings)
)

# Singlish and Sinhala: particles, pronouns, question words and light verbs, as typed in
# chat ("eka kiyada", "thiyenawada", "puluwanda") and as formal Sinhala writes them
# ("සහ", "සඳහා"). Compared after `fold_romanized`, so spelling variants ("tiyenavada",
# "thiyanawada") and Sinhala script (romanised first) meet the same key.
SINHALA: Final = frozenset(
    fold_romanized(word)
    for word in """
    eka ekak eke ekata eken ekka ekath meka mekata me mema e ema ara oya oyage oyala
    oyalage oyata oba obe obage obata api apita apige apage mama mata mage ape
    da de ne neda nedda ha saha ho hari
    thiyenawada thiyanawada thiyenawa thiyanawa thiyenne thiyana thiyeda thiyeno
    puluwanda puluwan puluwand
    karanawada karanawa karanna karanne karoth karala kiyanna
    ona onada oneda one sandaha gana gena walata wala
    """.split()  # noqa: SIM905
)

# Question words say what kind of answer is wanted, not about what: dropped while other
# words remain, kept when they are all a message has ("oyala koheda thiyenne" is a
# question about the address, and "koheda" is the only word that says so).
QUESTION_WORDS: Final = frozenset(
    """
    what which who whom whose when where why how
    """.split()  # noqa: SIM905
) | frozenset(
    fold_romanized(word)
    for word in """
    kiyada kiyak kiyatada kiyata kochchara kochcharada kopamana kopamanada
    mokakda mokadda mokak monawada monawa mona kumakda kumak koheda kohe kohomada
    kohoma kawadada kawada kawda kawuda ai ayi
    """.split()  # noqa: SIM905
)

_LETTER = r"\w\u0d80-\u0dff\u0b80-\u0bff"  # Sinhala and Tamil vowel signs are not \w
_EDGE_PUNCTUATION = re.compile(rf"^[^{_LETTER}]+|[^{_LETTER}]+$")
# Which lists a message in each language is read against. Singlish borrows English
# nouns, not English grammar, so it is read against both; Tamil has no list yet.
_LISTS_BY_LANGUAGE: Final = {
    "en": ("en",),
    "singlish": ("en", "si"),
    "si": ("si",),
    "mixed": ("si",),
}


def is_function_word(word: str, language: str) -> bool:
    """Whether `word` (as typed, punctuation allowed) is grammar in a `language` message."""
    return _kind(word, language) != "content"


def content_words(text: str, language: str) -> str:
    """`text` without its function words (see the lists above); words keep their spelling.

    When nothing but grammar and question words remain, the question words stay ("kiyada?"
    alone stays as it is). Languages without a list (Tamil, Tanglish) come back unchanged.
    """
    if language not in _LISTS_BY_LANGUAGE:
        return text
    kinds = [(word, _kind(word, language)) for word in text.split()]
    content = [word for word, kind in kinds if kind == "content"]
    return " ".join(content or [word for word, kind in kinds if kind == "question"])


def _kind(word: str, language: str) -> str:
    """ "content", "question" (a question word) or "grammar"."""
    bare = _EDGE_PUNCTUATION.sub("", word).casefold()
    if not bare:
        return "grammar"  # punctuation or an emoji on its own says nothing either
    lists = _LISTS_BY_LANGUAGE.get(language, ())
    folded = fold_romanized(romanize(bare)) if "si" in lists else ""
    if ("en" in lists and bare in ENGLISH) or folded in SINHALA:
        return "grammar"
    if ("en" in lists and bare in QUESTION_WORDS) or (folded and folded in QUESTION_WORDS):
        return "question"
    return "content"
