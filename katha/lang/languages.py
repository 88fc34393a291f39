"""The languages Katha tells apart, as codes. Only the names: detecting a language is the
agent's job (`katha.lang.detect`), and a component that only speaks in a known language
(the router's own few words) imports this module, not the detector."""

from enum import StrEnum


class Language(StrEnum):
    """The language of a message, as the router, agent and index record it."""

    SINHALA = "si"
    TAMIL = "ta"
    ENGLISH = "en"
    SINGLISH = "singlish"
    TANGLISH = "tanglish"
    MIXED = "mixed"
    UNKNOWN = "unknown"
