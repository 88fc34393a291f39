"""Sinhala, Tamil, English, Singlish and Tanglish: identified, normalised and romanised.

Used by ingestion at index time and by the agent at query time. Nothing here reads files
at import; the Latin n-gram weights load on first use.
"""

from katha.lang.detect import Detection, detect_language
from katha.lang.fold import fold_romanized
from katha.lang.languages import Language
from katha.lang.normalize import normalize
from katha.lang.romanize import romanize

__all__ = [
    "Detection",
    "Language",
    "detect_language",
    "fold_romanized",
    "normalize",
    "romanize",
]
