"""A web page's main content as headings, paragraphs, list items and table rows, plus its links."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

from ingestion.documents import Block, BlockKind, Document, sections
from ingestion.text_cleaning import clean_line, language_of

_SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside",
     "form", "iframe", "button", "select", "head"}
)  # fmt: skip
_BOILERPLATE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
# Class / id words that mark menus, footers and sidebars in themes (WordPress among them).
_BOILERPLATE_WORDS = frozenset(
    {"nav", "navbar", "navigation", "footer", "sidebar", "breadcrumb", "breadcrumbs", "cookie",
     "colophon", "widget", "skip"}
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "main", "ul", "ol", "li", "dl", "dt", "dd", "table",
     "tr", "blockquote", "pre", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "body"}
)  # fmt: skip
_KINDS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "p", "table", "ul", "ol"})
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "source", "area", "col"})
_WORD_SPLIT = re.compile(r"[\s_-]+")


@dataclass
class Page:
    """What one HTML page says, without menus and footers, and where it links to."""

    title: str
    blocks: list[Block]
    links: list[str] = field(default_factory=list)


def parse_html(html: str, url: str) -> Page:
    """Main content (inside <main>/<article> when the page has one), title and absolute links."""
    parser = _ContentParser(url)
    parser.feed(html)
    parser.close()
    parser.flush()
    blocks = parser.main_blocks or parser.blocks
    title = parser.title or next(
        (block.text for block in blocks if block.kind is BlockKind.HEADING), url
    )
    return Page(title, blocks, parser.links)


def page_documents(url: str, page: Page) -> list[Document]:
    """One document per top-level section of a page, located as URL#heading."""
    documents = []
    for heading, blocks in sections(page.blocks):
        text = "\n".join(block.text for block in blocks)
        locator = f"{url}#{heading}" if heading else url
        documents.append(Document(url, locator, page.title, language_of(text), tuple(blocks)))
    return documents


class _ContentParser(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.stack: list[tuple[str, bool, bool]] = []  # tag, skipped, main content
        self.blocks: list[Block] = []
        self.main_blocks: list[Block] = []
        self.links: list[str] = []
        self.title = ""
        self.buffer: list[str] = []
        self.cells: list[str] | None = None
        self.header_cells: list[str] = []
        self.in_title = False

    @property
    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    @property
    def in_main(self) -> bool:
        return bool(self.stack) and self.stack[-1][2]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            link = urldefrag(urljoin(self.url, values["href"] or "")).url
            self.links.append(link)
        if tag == "title":
            self.in_title = True
        if tag in _BLOCK_TAGS or tag in ("td", "th"):
            self.flush()
        if tag == "tr":
            self.cells = []
        if tag in _VOID_TAGS:
            return
        words = set(_WORD_SPLIT.split(f"{values.get('class') or ''} {values.get('id') or ''}"))
        skipped = (
            self.skipping
            or tag in _SKIPPED_TAGS
            or values.get("role") in _BOILERPLATE_ROLES
            or bool(words & _BOILERPLATE_WORDS)
        )
        main = self.in_main or tag in ("main", "article") or values.get("role") == "main"
        self.stack.append((tag, skipped, main))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _BLOCK_TAGS or tag in ("td", "th"):
            self.flush()
        if tag == "tr" and self.cells is not None:
            self.emit_row()
        if any(open_tag == tag for open_tag, _, _ in self.stack):
            while self.stack and self.stack.pop()[0] != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title = clean_line(self.title + data)
        elif not self.skipping:
            self.buffer.append(data)

    def flush(self) -> None:
        text = clean_line("".join(self.buffer))
        self.buffer = []
        if not text:
            return
        # The innermost structural element decides; unclosed <li> and <p> are common.
        tag = next((open_tag for open_tag, _, _ in reversed(self.stack) if open_tag in _KINDS), "p")
        if self.cells is not None and tag in ("td", "th", "tr"):
            if tag == "th" and not self.cells:
                self.header_cells = []
            self.cells.append(text)
            if tag == "th":
                self.header_cells.append(text)
            return
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.add(Block(BlockKind.HEADING, text, int(tag[1])))
        elif tag == "li":
            self.add(Block(BlockKind.LIST_ITEM, text))
        else:
            self.add(Block(BlockKind.PARAGRAPH, text))

    def emit_row(self) -> None:
        cells, self.cells = self.cells or [], None
        if not cells or cells == self.header_cells:
            return
        names = self.header_cells if len(self.header_cells) == len(cells) else []
        text = " | ".join(
            f"{name}: {value}" if name else value
            for name, value in zip(names or [""] * len(cells), cells, strict=True)
        )
        self.add(Block(BlockKind.TABLE_ROW, text))

    def add(self, block: Block) -> None:
        self.blocks.append(block)
        if self.in_main:
            self.main_blocks.append(block)
