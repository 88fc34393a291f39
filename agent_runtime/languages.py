"""Which language the customer writes in, and which one the reply should be in.

Language is respect: the reply is in the customer's language and script when the business
serves it. When it does not, English is the bridge: a Tamil speaker is never answered in
Sinhala script because the owner listed Sinhala first, nor a Sinhala speaker in Tamil.
Sinhala script and Singlish are one language in two scripts, so each stands in for the other.
"""

from katha.api.business import Persona
from katha.lang import Language, detect_language
from katha.lang.script import count_letters

_REPLYABLE = ("en", "si", "singlish", "ta")
# The same language in the other script: who reads one reads the other.
_SIBLING = {"si": "singlish", "singlish": "si"}
BRIDGE = "en"


def customer_language(text: str, previous: str | None) -> tuple[str, float]:
    """The message's language; one- or two-word messages keep the conversation's language."""
    try:
        detection = detect_language(text, previous)
    except ValueError:  # a language code the detector does not know: detect without it
        detection = detect_language(text)
    return str(detection.language), detection.confidence


def reply_language(customer: str, persona: Persona) -> str:
    """The customer's language, within the persona's languages and its Singlish setting;
    English when the business serves neither it nor its other script."""
    try:
        language = {Language.TANGLISH: "ta", Language.MIXED: "si"}.get(Language(customer), customer)
    except ValueError:  # a code the detector never gives: the bridge
        language = BRIDGE
    if language not in _REPLYABLE:
        language = BRIDGE
    if language == "singlish" and persona.singlish_replies == "sinhala":
        language = "si"
    served = persona.languages
    if not served or language in served:
        return language
    sibling = _SIBLING.get(language)
    if sibling is not None and sibling in served:
        return sibling
    return BRIDGE


def language_family(language: str) -> str:
    """The script family of a reply or a chunk: Singlish replies draw on Sinhala knowledge."""
    return {"singlish": "si", "mixed": "si", "tanglish": "ta"}.get(language, language)


def readable_by(text: str, language: str) -> bool:
    """Whether a reader of `language` can read `text`: no Sinhala script for a Tamil reader,
    no Tamil script for a Sinhala or Singlish reader, and English readers read Latin letters
    (a Sinhala greeting beside an English one is still read; a Tamil-only one is not)."""
    letters = count_letters(text)
    family = language_family(language)
    if family == "ta":
        return letters.sinhala == 0
    if family == "si":
        return letters.tamil == 0
    return letters.latin > 0 or (letters.sinhala == 0 and letters.tamil == 0)
