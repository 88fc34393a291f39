"""Plain text and Markdown as headings, paragraphs, list items and table rows."""

import re

from ingestion.documents import Block, BlockKind, Document, Loaded, sections
from ingestion.text_cleaning import clean_line, clean_text, language_of

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d{1,3}[.)])\s+(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_MARKDOWN_NOISE = re.compile(r"(\*\*|__|`)|!?\[([^\]]*)\]\([^)]*\)")


def parse_text(text: str) -> list[Block]:
    """Markdown structure where there is some; plain text is paragraphs split at blank lines."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    header: list[str] = []

    def end_paragraph() -> None:
        if paragraph:
            blocks.append(Block(BlockKind.PARAGRAPH, clean_line(" ".join(paragraph))))
            paragraph.clear()

    for raw in clean_text(text).split("\n"):
        line = _MARKDOWN_NOISE.sub(lambda match: match.group(2) or "", raw).strip()
        if not line or _TABLE_SEPARATOR.match(line):
            end_paragraph()
            continue
        if heading := _HEADING.match(line):
            end_paragraph()
            blocks.append(Block(BlockKind.HEADING, heading.group(2), len(heading.group(1))))
        elif item := _LIST_ITEM.match(line):
            end_paragraph()
            blocks.append(Block(BlockKind.LIST_ITEM, item.group(1)))
        elif line.startswith("|"):
            end_paragraph()
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if not header:
                header[:] = cells
                continue
            names = header if len(header) == len(cells) else [""] * len(cells)
            pairs = zip(names, cells, strict=True)
            row = " | ".join(f"{name}: {cell}" if name else cell for name, cell in pairs if cell)
            blocks.append(Block(BlockKind.TABLE_ROW, row))
            continue
        else:
            paragraph.append(line)
        header.clear()
    end_paragraph()
    return blocks


def load_text(text: str, source_uri: str, title: str) -> Loaded:
    """One document per top-level section, located by its heading."""
    documents = []
    for heading, blocks in sections(parse_text(text)):
        body = "\n".join(block.text for block in blocks)
        locator = f"{source_uri}#{heading}" if heading else source_uri
        documents.append(
            Document(source_uri, locator, heading or title, language_of(body), tuple(blocks))
        )
    return Loaded(documents)
