"""A customer's document (PDF, CSV, xlsx, text) read for the question at hand only: the
ingestion loaders read it in memory, the lines that bear on the question are kept with it,
and nothing is written to the business's knowledge or to disk."""

import re
from pathlib import PurePosixPath

from agent_runtime.languages import customer_language
from agent_runtime.media.errors import MediaReadError
from ingestion.loaders.text import load_text
from ingestion.uploads import KINDS, check_upload
from katha.contracts.messages import Media
from katha.lang import normalize
from katha.lang.function_words import content_words

# The types a customer's document is read as, by the type WhatsApp reports.
_SUFFIXES = {
    "application/pdf": ".pdf",
    "text/csv": ".csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
LINES_KEPT = 3
MAX_LINE_CHARS = 160
_WORD = re.compile(r"[\w\u0d80-\u0dff\u0b80-\u0bff]+")


class DocumentError(MediaReadError):
    """The document could not be read (not what its type says, or corrupt)."""


def document_suffix(media: Media) -> str | None:
    """The loader's extension for this document (".pdf", ".csv", ...), None if not read."""
    suffix = PurePosixPath(media.filename or "").suffix.lower()
    if suffix in KINDS:
        return suffix
    return _SUFFIXES.get((media.mime_type or "").split(";")[0].strip().lower())


def relevant_lines(data: bytes, suffix: str, question: str, previous: str | None) -> list[str]:
    """The document's lines that share words with the question (its first lines when none
    do), at most LINES_KEPT, in the document's order."""
    lines = document_lines(data, suffix)
    if not lines:
        raise DocumentError("unreadable", "no text")
    wanted = question_words(question, previous)
    # Highest scores first, the earlier line first among equals.
    ranked = sorted((-_shared(_words(line), wanted), index) for index, line in enumerate(lines))
    chosen = sorted(index for negated, index in ranked[:LINES_KEPT] if negated < 0)
    chosen = chosen or list(range(min(LINES_KEPT, len(lines))))
    return [_cut(lines[index]) for index in chosen]


def document_lines(data: bytes, suffix: str) -> list[str]:
    """Every non-empty line the ingestion loaders find in the document."""
    # The PDF and spreadsheet parsers load with the first document a customer sends, not
    # with every replica (most shops never receive one).
    from ingestion.loaders.pdf import load_pdf
    from ingestion.loaders.spreadsheet import load_spreadsheet

    name = f"document{suffix}"
    try:
        text = check_upload(name, data)  # refuses a file that is not what its type says
        if suffix == ".pdf":
            loaded = load_pdf(data, name)
        elif suffix in (".csv", ".xlsx"):
            loaded = load_spreadsheet(data, name, name, ())
        else:
            loaded = load_text(text or "", name, name)
    # Not only the loaders' SourceError: a crafted file raises the parsers' own errors (an
    # xlsx with broken sheet XML, ElementTree's ParseError), and any of them is unreadable.
    except Exception as error:
        raise DocumentError("unreadable", type(error).__name__) from error
    return [
        line.strip()
        for document in loaded.documents
        for block in document.blocks
        for line in block.text.splitlines()
        if line.strip()
    ]


def question_words(question: str, previous: str | None) -> set[str]:
    text = normalize(question)
    language, _ = customer_language(text, previous)
    return _words(content_words(text, language))


def _words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(text) if len(word) >= 2}


def _shared(line: set[str], wanted: set[str]) -> int:
    """Words of the question the line holds; a word and its inflection ("cakes") count."""
    return sum(
        1
        for word in wanted
        if any(w.startswith(word) or (len(w) >= 3 and word.startswith(w)) for w in line)
    )


def _cut(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    return line[:MAX_LINE_CHARS].rsplit(" ", 1)[0] + "…"
