"""Which language the customer writes in, and which one the reply should be in."""

from katha.api.business import Persona
from katha.lang import Language, detect_language

_REPLYABLE = {"en", "si", "singlish", "ta"}


def customer_language(text: str, previous: str | None) -> tuple[str, float]:
    """The message's language; one- or two-word messages keep the conversation's language."""
    try:
        detection = detect_language(text, previous)
    except ValueError:  # a language code the detector does not know: detect without it
        detection = detect_language(text)
    return str(detection.language), detection.confidence


def reply_language(customer: str, persona: Persona) -> str:
    """The customer's language, within the persona's languages and its Singlish setting."""
    language = {Language.TANGLISH: "ta", Language.MIXED: "si"}.get(Language(customer), customer)
    if language == "singlish" and persona.singlish_replies == "sinhala":
        language = "si"
    if persona.languages and language not in persona.languages:
        if language == "singlish" and "si" in persona.languages:
            return "si"
        return persona.languages[0]
    return language if language in _REPLYABLE else (persona.languages or ["en"])[0]


def language_family(language: str) -> str:
    """The script family of a reply or a chunk: Singlish replies draw on Sinhala knowledge."""
    return {"singlish": "si", "mixed": "si", "tanglish": "ta"}.get(language, language)
