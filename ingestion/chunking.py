"""Cut documents into chunks that follow their structure, within a size bound, with overlap."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ingestion.documents import Block, BlockKind, Document
from ingestion.graphemes import boundary_at_or_after, boundary_at_or_before

# Sentence ends in English, Sinhala (kundaliya ෴ is rare; the full stop is usual) and Tamil.
_SENTENCE_END = re.compile(r"(?<=[.!?෴।])\s+")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class ChunkingPolicy:
    """Size bound and overlap, both in characters (Unicode code points)."""

    max_chars: int = 1000
    overlap: int = 150

    def __post_init__(self) -> None:
        if self.max_chars < 50:
            raise ValueError("max_chars must be at least 50")
        if not 0 <= self.overlap < self.max_chars // 2:
            raise ValueError("overlap must be between 0 and half of max_chars")


def chunk_document(document: Document, policy: ChunkingPolicy) -> list[str]:
    """The chunk texts of one document, in order.

    Paragraphs, list items and table rows are never merged across a heading that starts a
    sizeable new section, and never split unless one alone exceeds the bound; the current
    heading is repeated at the top of every chunk of its section. Consecutive prose chunks
    share `overlap` characters; table rows do not, since each row already names its columns.
    """
    chunks: list[str] = []
    heading = ""
    body: list[str] = []
    overlap_allowed = False

    for block in document.blocks:
        if block.kind is BlockKind.HEADING and (
            not body or sum(len(part) for part in body) >= policy.max_chars // 4
        ):
            if body:
                chunks.append(_join(heading, body))
                body = []
            # A heading repeated on every chunk of its section must leave room for the body.
            heading = block.text[: boundary_at_or_before(block.text, policy.max_chars // 4)]
            continue
        # A heading after a short section stays inline, so tiny sections share a chunk.
        room = policy.max_chars - len(heading) - 1 if heading else policy.max_chars
        for piece in _pieces(block, room):
            if body and len(_join(heading, [*body, piece])) > policy.max_chars:
                chunks.append(_join(heading, body))
                tail = _tail(body[-1], policy.overlap) if overlap_allowed else ""
                body = (
                    [tail]
                    if tail and len(_join(heading, [tail, piece])) <= policy.max_chars
                    else []
                )
            body.append(piece)
            overlap_allowed = block.kind is not BlockKind.TABLE_ROW
    if body:
        chunks.append(_join(heading, body))
    elif not chunks and heading:
        chunks.append(heading)
    return chunks


def _join(heading: str, body: list[str]) -> str:
    return "\n".join([heading, *body]) if heading else "\n".join(body)


def _pieces(block: Block, limit: int) -> Iterator[str]:
    """A block as it is, or cut at sentence ends, then spaces, then grapheme boundaries."""
    if len(block.text) <= limit:
        yield block.text
        return
    current = ""
    for sentence in _SENTENCE_END.split(block.text):
        if current and len(current) + 1 + len(sentence) > limit:
            yield current
            current = ""
        current = f"{current} {sentence}" if current else sentence
        while len(current) > limit:
            cut = _cut(current, limit)
            yield current[:cut].rstrip()
            current = current[cut:].lstrip()
    if current:
        yield current


def _cut(text: str, limit: int) -> int:
    """The last space before `limit`, else the last grapheme boundary before it."""
    space = max((match.start() for match in _SPACE.finditer(text, 0, limit + 1)), default=0)
    if space > limit // 2:
        return space
    cut = boundary_at_or_before(text, limit)
    return cut if cut > 0 else boundary_at_or_after(text, limit)


def _tail(text: str, overlap: int) -> str:
    """The last `overlap` characters of `text`, starting at a word (or grapheme) boundary."""
    if overlap <= 0 or len(text) <= overlap:
        return ""
    start = len(text) - overlap
    space = text.find(" ", start)
    start = space + 1 if space != -1 else boundary_at_or_after(text, start)
    return text[start:].strip()
