"""PDF text layers, page by page, with table rows kept readable and textless pages reported."""

import itertools
import unicodedata
from dataclasses import dataclass

import pypdfium2  # type: ignore[import-untyped]

from ingestion.documents import Block, BlockKind, Document, Loaded
from ingestion.errors import SourceError
from ingestion.text_cleaning import clean_line, language_of

# Horizontal gap (points) between text runs on one line that makes them separate cells.
_CELL_GAP = 12.0
# A page with fewer letters than this has no usable text layer (a scan or a photo).
_MIN_LETTERS = 12
# Share of letters and digits below which extracted text is font-encoding garbage.
_MIN_READABLE_SHARE = 0.6


@dataclass(frozen=True)
class _Run:
    left: float
    right: float
    top: float
    bottom: float
    text: str


def load_pdf(data: bytes, source_uri: str) -> Loaded:
    """One document per page with a text layer; pages without one are skipped as "needs OCR"."""
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        raise SourceError(f"not a readable PDF ({error})") from error
    try:
        title = clean_line(str(pdf.get_metadata_dict().get("Title", "")))
        documents: list[Document] = []
        skipped: list[str] = []
        for number in range(len(pdf)):
            lines = _page_lines(pdf, number)
            if not _readable(lines):
                skipped.append(f"page {number + 1}: no text layer, needs OCR")
                continue
            page_title = title or lines[0][:100]
            blocks = _blocks(lines)
            text = "\n".join(lines)
            documents.append(
                Document(source_uri, f"page {number + 1}", page_title, language_of(text), blocks)
            )
        return Loaded(documents, skipped)
    finally:
        pdf.close()


def _page_lines(pdf: pypdfium2.PdfDocument, number: int) -> list[str]:
    page = pdf[number]
    textpage = page.get_textpage()
    try:
        runs = []
        for index in range(textpage.count_rects()):
            left, bottom, right, top = textpage.get_rect(index)
            text = clean_line(textpage.get_text_bounded(left, bottom, right, top))
            if text:
                runs.append(_Run(left, right, top, bottom, text))
        return [_line_text(line) for line in _group_lines(runs)]
    finally:
        textpage.close()
        page.close()


def _group_lines(runs: list[_Run]) -> list[list[_Run]]:
    """Runs whose vertical extents overlap sit on one line; lines run top to bottom."""
    lines: list[list[_Run]] = []
    for run in sorted(runs, key=lambda run: -run.top):
        middle = (run.top + run.bottom) / 2
        for line in lines:
            if line[0].bottom <= middle <= line[0].top:
                line.append(run)
                break
        else:
            lines.append([run])
    return [sorted(line, key=lambda run: run.left) for line in lines]


def _line_text(line: list[_Run]) -> str:
    """Runs far apart on one line are table cells: " | " keeps the columns readable."""
    parts = [line[0].text]
    for before, run in itertools.pairwise(line):
        parts.append(" | " if run.left - before.right > _CELL_GAP else " ")
        parts.append(run.text)
    return "".join(parts)


def _blocks(lines: list[str]) -> tuple[Block, ...]:
    blocks: list[Block] = []
    paragraph: list[str] = []
    for line in lines:
        if " | " in line:
            if paragraph:
                blocks.append(Block(BlockKind.PARAGRAPH, " ".join(paragraph)))
                paragraph = []
            blocks.append(Block(BlockKind.TABLE_ROW, line))
        else:
            paragraph.append(line)
    if paragraph:
        blocks.append(Block(BlockKind.PARAGRAPH, " ".join(paragraph)))
    return tuple(blocks)


def _readable(lines: list[str]) -> bool:
    text = "".join(lines).replace(" ", "").replace("|", "")
    letters = sum(unicodedata.category(char)[0] in "LMN" for char in text)
    return letters >= _MIN_LETTERS and letters >= _MIN_READABLE_SHARE * len(text)
