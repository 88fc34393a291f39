"""PDF text layers, page by page, with table rows kept readable and textless pages reported."""

import ctypes
import itertools
import unicodedata
from dataclasses import dataclass

import pypdfium2  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

from ingestion.documents import Block, BlockKind, Document, Loaded
from ingestion.errors import FailureReason, SourceError
from ingestion.text_cleaning import clean_line, language_of

# Horizontal gap (points) between text runs on one line that makes them separate cells.
_CELL_GAP = 12.0
# A gap below this share of the line's height is no space at all (a word space is ~0.25 em).
_TOUCHING = 0.08
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
    opens_spaced: bool = False  # the run begins with a space in the PDF
    ends_spaced: bool = False  # the run ends with one


def load_pdf(data: bytes, source_uri: str) -> Loaded:
    """One document per page with a text layer; pages without one are skipped as "needs OCR"."""
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        message = f"not a readable PDF ({error})"
        raise SourceError(message, FailureReason.CORRUPT) from error
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
        return Loaded(documents, skipped, pages=len(pdf))
    finally:
        pdf.close()


def _page_lines(pdf: pypdfium2.PdfDocument, number: int) -> list[str]:
    page = pdf[number]
    textpage = page.get_textpage()
    try:
        runs = [run for run in _runs(textpage) if run.text]
        return [_line_text(line) for line in _group_lines(runs)]
    finally:
        textpage.close()
        page.close()


def _runs(textpage: pypdfium2.PdfTextPage) -> list[_Run]:
    """The page's characters in content order, one run per text object, as pdfium's rects are.

    A run's text is made of its own characters. Asking for the text inside a run's rectangle
    instead (FPDFText_GetBoundedText) also returns every glyph whose box reaches into it:
    Sinhala vowel signs such as ෝ are wide, so "කිලෝ 1" came out as "කිලෝ ෝ 1".
    """
    handle = textpage.raw
    box = pdfium_c.FS_RECTF()
    runs: list[_Run] = []
    current: object = None
    chars: list[str] = []
    pending = ""  # spaces pdfium generated between this run's characters
    left = bottom = float("inf")
    right = top = float("-inf")
    for index in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(handle, index))
        if pdfium_c.FPDFText_IsGenerated(handle, index):
            if char in "\r\n":  # a line ends: the next character starts a new run
                current, pending = None, ""
            elif char == " " and chars:
                pending += " "
            continue
        obj = ctypes.cast(pdfium_c.FPDFText_GetTextObject(handle, index), ctypes.c_void_p).value
        if obj != current or not chars:
            if chars:
                runs.append(_run(left, right, top, bottom, chars))
            current, chars, pending = obj, [], ""
            left = bottom = float("inf")
            right = top = float("-inf")
        chars.append(pending + char)
        pending = ""
        if pdfium_c.FPDFText_GetLooseCharBox(handle, index, box) and box.right > box.left:
            left, right = min(left, box.left), max(right, box.right)
            top, bottom = max(top, box.top), min(bottom, box.bottom)
    if chars:
        runs.append(_run(left, right, top, bottom, chars))
    return [run for run in runs if run.left <= run.right]


def _run(left: float, right: float, top: float, bottom: float, chars: list[str]) -> _Run:
    # pdfium hands out UTF-16 code units; characters beyond the BMP come as surrogate pairs.
    text = "".join(chars).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    opens, ends = text[:1].isspace(), text[-1:].isspace()
    return _Run(left, right, top, bottom, clean_line(text), opens, ends)


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
    """Runs far apart on one line are table cells: " | " keeps the columns readable. Runs
    that touch are one word split by a font change (Sinhala letters, then a full stop in a
    Latin font): no space goes between them."""
    parts = [line[0].text]
    for before, run in itertools.pairwise(line):
        gap = run.left - before.right
        height = max(before.top - before.bottom, run.top - run.bottom, 1.0)
        if gap > _CELL_GAP:
            parts.append(" | ")
        elif before.ends_spaced or run.opens_spaced or gap > _TOUCHING * height:
            parts.append(" ")
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
