"""What a customer wants, from the words they use in Sinhala, Singlish, Tamil or English.

Rules, not a model: every intent here has a cheap, reviewable trigger, and a message
that matches none is a question, which retrieval then answers or hands over.
"""

import re
from enum import StrEnum

from katha.lang import normalize


class Intent(StrEnum):
    GREETING = "greeting"
    QUESTION = "question"
    THANKS = "thanks"
    HUMAN = "human"  # asks for a person
    COMPLAINT = "complaint"
    OUT_OF_SCOPE = "out_of_scope"
    ABUSE = "abuse"  # abuse or spam
    # When the business opens or closes, asked of a business that stated its hours
    # (agent_runtime.hours; `classify` never says it: it does not know the Business).
    HOURS = "hours"


# Latin phrases are matched as whole words; Sinhala and Tamil ones as substrings, since
# their vowel signs are not word characters to a regular expression.
_GREETINGS = (
    "hi", "hii", "hello", "helo", "hey", "good morning", "good afternoon", "good evening",
    "good day", "ayubowan", "ayubowan", "kohomada", "kohomd", "vanakkam", "hai", "halo",
    "ආයුබෝවන්", "හලෝ", "කොහොමද", "සුභ උදෑසනක්", "வணக்கம்", "ஹலோ",
)  # fmt: skip
_THANKS = (
    "thanks", "thank you", "thank you so much", "thank you very much", "thanks so much",
    "thank u", "thx", "ty", "tnx", "sthuthi", "sthuthiyi", "stuti",
    "isthuthi", "isthuthiyi", "thanks a lot", "ok thanks", "ස්තූතියි", "ස්තුතියි", "ස්තූති",
    "நன்றி",
)  # fmt: skip
_HUMAN = (
    "talk to a person", "speak to a person", "real person", "a human", "talk to someone",
    "speak to someone", "call me", "manager", "the owner", "customer service", "agent please",
    "manussayek", "manusseyek", "kenek ekka katha", "kenekta kathakaranna", "owner ekka",
    "මනුස්සයෙක්", "කෙනෙක් එක්ක කතා", "අයිතිකරු", "කළමනාකරු", "மனிதர்", "மேலாளர்",
)  # fmt: skip
_COMPLAINT = (
    "complaint", "complain", "terrible", "worst", "stale", "rotten", "refund", "never arrived",
    "not delivered", "wrong order", "very bad", "disappointed", "food poisoning", "still waiting",
    "naraka", "narakai", "kalakirenawa", "parakku", "වැරදි ඇණවුම", "පැමිණිලි", "නරකයි",
    "කල් ඉකුත්", "මුදල් ආපසු", "புகார்", "மோசம்",
)  # fmt: skip
_ABUSE = (
    "fuck", "shit", "bitch", "bastard", "idiot", "stupid bot", "pakaya", "huththa", "hutta",
    "ponnaya", "paraya", "පකයා", "හුත්ත", "පොන්නයා", "පරයා", "crypto investment",
    "guaranteed profit", "click this link", "you have won",
)  # fmt: skip
_OUT_OF_SCOPE = (
    "weather", "cricket score", "who won", "election", "president", "capital of", "homework",
    "write code", "write a poem", "horoscope", "lottery", "bitcoin price",
)  # fmt: skip

_NON_LATIN = re.compile(r"[^\x00-\x7f]")
_LEFTOVER = re.compile(r"[\w\u0d80-\u0dff\u0b80-\u0bff]+")


def classify(text: str) -> Intent:
    """The intent of one message (a greeting or thanks only when it says nothing more)."""
    folded = normalize(text).casefold()
    if _found(folded, _ABUSE):
        return Intent.ABUSE
    if _found(folded, _HUMAN):
        return Intent.HUMAN
    if _found(folded, _COMPLAINT):
        return Intent.COMPLAINT
    if _only(folded, _THANKS):
        return Intent.THANKS
    if _only(folded, _GREETINGS):
        return Intent.GREETING
    if _found(folded, _OUT_OF_SCOPE):
        return Intent.OUT_OF_SCOPE
    return Intent.QUESTION


def _pattern(phrase: str) -> str:
    if _NON_LATIN.search(phrase):
        return re.escape(phrase)
    return rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])"


def _found(text: str, phrases: tuple[str, ...]) -> bool:
    return any(re.search(_pattern(phrase), text) for phrase in phrases)


def _only(text: str, phrases: tuple[str, ...]) -> bool:
    """True when `text` is these phrases and at most one other word ("hi nila", "thanks!")."""
    if not _found(text, phrases):
        return False
    rest = text
    for phrase in sorted(phrases, key=len, reverse=True):
        rest = re.sub(_pattern(phrase), " ", rest)
    return len(_LEFTOVER.findall(rest)) <= 1
