"""Questions about the business itself ("where are you?", "your number?", "who are you?")
and the passages that introduce it.

"What is your address?" shares no word with "We are at 42 Peradeniya Road", and the
embedding model puts a short question like it about as close to every FAQ; it was handed
over although the answer is there. A question that asks only where the business is, how to
reach it or who it is, is answered by a passage that carries an address or a phone number,
or by the opening of a page (its text before the first heading), whatever else they share.
"""

import re
from typing import Final, Literal

from agent_runtime.retrieval_words import WORD
from katha.lang import fold_romanized, romanize
from katha.lang.function_words import ENGLISH, QUESTION_WORDS, SINHALA, SINHALA_LIGHT_VERBS

Kind = Literal["place", "contact", "about"]

# The words that ask where, how to reach or who, in English, Sinhala, Singlish (folded
# romanisation, so Sinhala script meets it too) and Tamil.
_CUES: Final[dict[Kind, frozenset[str]]] = {
    "place": frozenset(
        """where address located location locate situated directions find reach
        ලිපිනය කොහේද කොහෙද කොහේ koheda kohe lipinaya
        எங்கே எங்கு முகவரி இருக்கிறது""".split()  # noqa: SIM905 (prose reads better)
    ),
    "contact": frozenset(
        """contact phone call number telephone mobile email whatsapp
        දුරකථන ඇමතුම් ඇමතීමට කෝල් durakathana
        தொலைபேசி தொடர்பு அழைக்க எண்""".split()  # noqa: SIM905
    ),
    "about": frozenset({"who", "කවුද", "kawda", "kawuda", "யார்"}),
}
# Words that name the business itself, not a topic: a question holding only these beside
# its cue asks about the business ("where is your shop?"). "Where do you deliver?" holds
# "deliver" and stays a delivery question.
_SELF: Final = frozenset(
    """shop store business place office outlet bakery cafe restaurant pharmacy salon hotel
    guesthouse company you yourself yourselves are is the your we us kade kadeh kadaya
    කඩේ කඩය සාප්පුව ආයතනය බේකරිය තියෙන්නේ තියෙන්නෙ තියෙන්න ඔබේ ඔයාලා ඔයාලගේ ඔබ ඔබගේ
    කුමක්ද මොකක්ද දැනගන්න thiyenne oyala oyalage mokakda kumakda
    கடை உங்கள் நீங்கள் என்ன""".split()  # noqa: SIM905
)
_CUE_KEYS: Final = {
    kind: frozenset(fold_romanized(romanize(w)) for w in words) for kind, words in _CUES.items()
}
_SELF_KEYS: Final = frozenset(fold_romanized(romanize(w)) for w in _SELF)
# Search terms that find address and phone passages by full text in a large index, where
# the vector search may not reach them.
SEARCH_TERMS: Final = "road street lane mawatha avenue junction පාර මාවත හන්දිය வீதி சாலை தெரு"

_STREET = (
    r"road|rd|street|st|lane|mawatha|mw|avenue|ave|junction|place|terrace|"
    r"පාර|මාවත|හන්දිය|வீதி|சாலை|தெரு|மாவத்தை"
)
_ADDRESS = re.compile(
    rf"(?:\b(?:no\.?|අංක)\s*\d+|\b\d+[a-z]?/?\d*,?\s+(?:[\w\u0d80-\u0dff\u0b80-\u0bff]+\s+){{0,3}}"
    rf"(?:{_STREET}))\b|(?:{_STREET})\s+(?:අංක\s*)?\d+",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?:\+94|\b0)[\s-]?\d{2}[\s-]?\d{3}[\s-]?\d{4}\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")


def intro_kind(query: str) -> Kind | None:
    """What the question asks about the business, when that is all it asks."""
    found: Kind | None = None
    for word in WORD.findall(query.casefold()):
        key = fold_romanized(romanize(word))
        kind = next((k for k, cues in _CUE_KEYS.items() if key in cues), None)
        if kind is not None:
            found = found or kind
        elif key not in _SELF_KEYS and not _grammar(word):
            return None
    return found


def introduces(text: str, locator: str, kind: Kind) -> bool:
    """Whether a passage answers a question of that kind."""
    if kind == "contact" and (_PHONE.search(text) or _EMAIL.search(text)):
        return True
    if kind in ("place", "contact") and _ADDRESS.search(text):
        return True
    return (
        kind == "about" and "#" not in locator and not locator.startswith(("faq", "sheet", "page"))
    )


def _grammar(word: str) -> bool:
    key = fold_romanized(romanize(word))
    grammar = key in SINHALA or key in SINHALA_LIGHT_VERBS
    return word in ENGLISH or grammar or key in QUESTION_WORDS or word in QUESTION_WORDS
