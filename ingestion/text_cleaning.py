"""Every text that reaches the index goes through here: normalised, and romanised for search."""

from katha.lang import Language, detect_language, fold_romanized, normalize, romanize

# Chunks in these languages carry a romanised copy, so Singlish/Tanglish queries can match;
# chunks typed in Singlish or Tanglish get theirs folded, so spelling variants meet too.
_ROMANISED_LANGUAGES = frozenset(
    {Language.SINHALA, Language.TAMIL, Language.MIXED, Language.SINGLISH, Language.TANGLISH}
)


def clean_text(text: str) -> str:
    """NFC, the Sinhala hal + space + ra/ya repair, invisible and control characters, spaces."""
    return normalize(text, keep_newlines=True)


def clean_line(text: str) -> str:
    """`clean_text` for a title, a cell or a heading: one line."""
    return normalize(text)


def language_of(text: str) -> str:
    """The katha.lang language of an indexed text (script decides Sinhala and Tamil)."""
    return str(detect_language(text).language)


def romanized_copy(text: str, language: str) -> str:
    """The romanised column: `fold_romanized(romanize(text))` for Sinhala and Tamil text
    (and for Singlish and Tanglish, which romanize() leaves as they are); empty otherwise.

    Queries meet it through `fold_romanized` (Singlish) or `romanize` + `fold_romanized`
    (native script), see `ingestion.index.reader`.
    """
    if language not in _ROMANISED_LANGUAGES:
        return ""
    return fold_romanized(romanize(text))
