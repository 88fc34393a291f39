"""Web pages are read in the charset they declare: Content-Type header, then <meta>, then UTF-8."""

import codecs
from pathlib import Path

import pytest
from peers.web_site import Site

from ingestion.charset import decode_page, header_charset
from ingestion.crawling import crawl_site
from ingestion.errors import SourceError
from ingestion.fetching import FetchLimits, http_client
from ingestion.sources import Places, load_source

from .conftest import SITES_ON_LOOPBACK, business


def _texts(site: Site, path: str) -> list[str]:
    limits = FetchLimits(timeout_seconds=2)
    with http_client(limits, SITES_ON_LOOPBACK) as client:
        crawl = crawl_site(client, f"{site.base}{path}", limits, max_pages=1, max_depth=0)
    [(_, page)] = crawl.pages
    return [block.text for block in page.blocks]


def _page(head: str, body: str) -> str:
    return f"<!doctype html><html><head>{head}<title>t</title></head><body>{body}</body></html>"


def test_the_content_type_header_names_the_charset(site: Site) -> None:
    html = _page("", "<h1>Café menu</h1><p>“Special” kottu – Rs. 1,200</p>")
    site.file("/", "text/html; charset=windows-1252", html.encode("cp1252"))
    assert _texts(site, "/") == ["Café menu", "“Special” kottu – Rs. 1,200"]


def test_a_cyrillic_page_for_tourists_is_read_in_its_declared_charset(site: Site) -> None:
    html = _page("", "<h1>Меню</h1><p>Коттху с курицей — 1200 рупий</p>")
    site.file("/", 'text/html; charset="windows-1251"', html.encode("cp1251"))
    assert _texts(site, "/") == ["Меню", "Коттху с курицей — 1200 рупий"]


def test_a_meta_http_equiv_charset_is_honoured_when_the_header_has_none(site: Site) -> None:
    # Browsers read ISO-8859-1 as windows-1252, whose curly quotes Latin-1 pages do use.
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
    html = _page(meta, "<p>Crème brûlée, the “chef’s” choice</p>")
    site.file("/", "text/html", html.encode("cp1252"))
    assert _texts(site, "/") == ["Crème brûlée, the “chef’s” choice"]


def test_a_meta_charset_is_honoured_when_the_header_has_none(site: Site) -> None:
    html = _page('<meta charset="iso-8859-15">', "<p>Ceylon tea 2 € a cup</p>")
    site.file("/", "text/html", html.encode("iso-8859-15"))
    assert _texts(site, "/") == ["Ceylon tea 2 € a cup"]


def test_an_undeclared_page_is_read_as_utf8(site: Site) -> None:
    site.file("/", "text/html", _page("", "<p>එළවළු කොත්තු රු. 900</p>").encode())
    assert _texts(site, "/") == ["එළවළු කොත්තු රු. 900"]


def test_the_header_outranks_a_meta_tag_that_disagrees(site: Site) -> None:
    html = _page('<meta charset="windows-1251">', "<p>චිකන් කොත්තු</p>")
    site.file("/", "text/html; charset=utf-8", html.encode())
    assert _texts(site, "/") == ["චිකන් කොත්තු"]


def test_a_byte_order_mark_outranks_every_declaration() -> None:
    content = codecs.BOM_UTF16_LE + _page("", "<p>කෑම</p>").encode("utf-16-le")
    assert "<p>කෑම</p>" in decode_page(content, "windows-1252")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("<p>Café</p>".encode("cp1252"), "<p>Café</p>"),  # undeclared and not UTF-8
        (b'<meta charset="no-such-charset"><p>caf\xc3\xa9</p>', "café"),  # unknown label
    ],
)
def test_undeclared_or_unknown_charsets_fall_back_to_utf8_then_windows_1252(
    content: bytes, expected: str
) -> None:
    assert expected in decode_page(content)


def test_the_charset_parameter_is_read_from_a_content_type() -> None:
    assert header_charset('text/html; Charset="ISO-8859-1"') == "ISO-8859-1"
    assert header_charset("text/html") is None


def _text_source(site: Site, tmp_path: Path, url_path: str) -> list[str]:
    source = business({"type": "text", "name": "notes", "url": f"{site.base}{url_path}"})
    limits = FetchLimits(timeout_seconds=2)
    with http_client(limits, SITES_ON_LOOPBACK) as client:
        loaded = load_source(source.spec.knowledge.sources[0], 0, Places(tmp_path), client, limits)
    return [block.text for document in loaded.loaded.documents for block in document.blocks]


def test_a_text_source_by_url_is_read_in_the_charset_its_server_declares(
    site: Site, tmp_path: Path
) -> None:
    text = "Café – “open” 8 to 6"
    site.file("/notes.txt", "text/plain; charset=windows-1252", text.encode("cp1252"))
    assert _text_source(site, tmp_path, "/notes.txt") == [text]


def test_undeclared_text_that_is_not_utf8_is_refused_with_advice(
    site: Site, tmp_path: Path
) -> None:
    site.file("/notes.txt", "text/plain", "Café – open".encode("cp1252"))
    with pytest.raises(SourceError, match="not UTF-8 \\(save it as UTF-8, or serve it"):
        _text_source(site, tmp_path, "/notes.txt")
