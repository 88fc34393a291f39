"""What loaders produce and the chunker consumes: documents made of structural blocks."""

from dataclasses import dataclass, field
from enum import StrEnum


class BlockKind(StrEnum):
    """The structure a chunk boundary should respect."""

    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TABLE_ROW = "table_row"


@dataclass(frozen=True)
class Block:
    """One heading, paragraph, list item or table row, already normalised."""

    kind: BlockKind
    text: str
    level: int = 0  # 1-6 for headings: sections split at levels 1 and 2


@dataclass(frozen=True)
class Document:
    """A page, a sheet's rows, a web page section or a Q&A: the unit a citation points at.

    `locator` says where inside the source it came from ("page 3", "sheet Prices rows 2-9",
    "https://example.lk/menu#Kottu", "faq 4"); `language` is a katha.lang.Language value.
    """

    source_uri: str
    locator: str
    title: str
    language: str
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)


@dataclass(frozen=True)
class Loaded:
    """A loader's result: documents to index, plus parts it refused to index and why."""

    documents: list[Document]
    skipped: list[str] = field(default_factory=list)
    pages: int = 0  # PDF or web pages parsed, skipped ones included; 0 for other sources


def sections(blocks: list[Block]) -> list[tuple[str, list[Block]]]:
    """Blocks split at level 1-2 headings: (heading text or "", the section's blocks)."""
    found: list[tuple[str, list[Block]]] = [("", [])]
    for block in blocks:
        if block.kind is BlockKind.HEADING and block.level <= 2:
            found.append((block.text, [block]))
        else:
            found[-1][1].append(block)
    return [(heading, part) for heading, part in found if part]
