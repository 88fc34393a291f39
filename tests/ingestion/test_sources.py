"""Sources are read from where the Business says: inline, a mounted ConfigMap key, a file, a URL."""

from collections.abc import Callable
from pathlib import Path

import pytest
from peers.web_site import Site

from ingestion.errors import SourceError
from ingestion.fetching import FetchLimits, http_client
from ingestion.sources import LoadedSource, Places, load_source

from .conftest import SITES_ON_LOOPBACK, business

MARKDOWN = """# Ceylon Spice

Family kitchen in Kandy.

## Opening hours

- Monday to Saturday: 11am to 10pm
- Poya days: closed

## Prices

| Item | Price |
|------|-------|
| Chicken Kottu | Rs. 1,200 |
"""


def _load(source: dict[str, object], places: Places, base: str = "") -> LoadedSource:
    limits = FetchLimits(timeout_seconds=2, max_bytes=100_000)
    knowledge = business(source).spec.knowledge.sources[0]
    with http_client(limits, SITES_ON_LOOPBACK) as client:
        return load_source(knowledge, 0, places, client, limits)


def test_markdown_sections_become_documents_located_by_heading(tmp_path: Path) -> None:
    (tmp_path / "about.md").write_text(MARKDOWN, encoding="utf-8")
    loaded = _load({"type": "text", "file": "about.md"}, Places(tmp_path))
    documents = loaded.loaded.documents
    assert [document.locator for document in documents] == [
        "file:about.md#Ceylon Spice",
        "file:about.md#Opening hours",
        "file:about.md#Prices",
    ]
    assert documents[2].text == "Prices\n\nItem: Chicken Kottu | Price: Rs. 1,200"
    assert loaded.key == "file:about.md"
    assert loaded.uri == "file:about.md"


def test_a_configmap_key_is_read_from_its_mounted_folder(
    tmp_path: Path, make_price_list: Callable[[Path], Path]
) -> None:
    (tmp_path / "prices").mkdir()
    make_price_list(tmp_path / "prices" / "prices.xlsx")
    source = {"type": "spreadsheet", "configMapRef": {"name": "prices", "key": "prices.xlsx"}}
    loaded = _load(source, Places(tmp_path / "unused", configmap_dir=tmp_path))
    assert loaded.uri == "configmap:prices/prices.xlsx"
    assert len(loaded.loaded.documents) == 4


def test_an_unmounted_configmap_fails_the_source_with_a_reason(tmp_path: Path) -> None:
    source = {"type": "pdf", "configMapRef": {"name": "menus", "key": "menu.pdf"}}
    with pytest.raises(SourceError, match="cannot be read"):
        _load(source, Places(tmp_path, configmap_dir=tmp_path))


def test_a_file_source_cannot_escape_its_base_folder_through_a_symlink(tmp_path: Path) -> None:
    # "../secret.txt" is refused by the API itself; a symlink is the way left to try.
    (tmp_path / "secret.txt").write_text("not knowledge", encoding="utf-8")
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "menu.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(SourceError, match="lies outside"):
        _load({"type": "text", "file": "menu.txt"}, Places(tmp_path / "knowledge"))


def test_faq_items_can_come_from_a_yaml_file(tmp_path: Path) -> None:
    (tmp_path / "faq.yaml").write_text(
        "- q: Do you deliver?\n  a: Yes, within 5 km.\n- q: ඔබ කාඩ් ගන්නවද?\n  a: ඔව්.\n",
        encoding="utf-8",
    )
    loaded = _load({"type": "faq", "file": "faq.yaml"}, Places(tmp_path))
    assert [document.text for document in loaded.loaded.documents] == [
        "Do you deliver?\n\nYes, within 5 km.",
        "ඔබ කාඩ් ගන්නවද?\n\nඔව්.",
    ]


def test_a_text_source_that_is_a_web_page_is_read_as_one(tmp_path: Path, site: Site) -> None:
    site.html("/about", "<!DOCTYPE html><html><nav>Home</nav><main><p>Since 1998.</p></main>")
    loaded = _load({"type": "text", "url": f"{site.base}/about"}, Places(tmp_path))
    assert [document.text for document in loaded.loaded.documents] == ["Since 1998."]


def test_inline_text_is_normalised_before_indexing(tmp_path: Path) -> None:
    # Legacy typing: hal + space + ra for the rakaransaya, and a stray zero-width space.
    loaded = _load({"type": "text", "content": "ශ් රී\u200b ලංකාව"}, Places(tmp_path))
    assert loaded.loaded.documents[0].text == "ශ්\u200dරී ලංකාව"


def test_a_pdf_is_downloaded_from_its_url(
    tmp_path: Path, site: Site, make_pdf: Callable[..., Path]
) -> None:
    pdf = make_pdf(tmp_path / "menu.pdf", [["Chicken Kottu is our favourite dish."]])
    site.file("/menu.pdf", "application/pdf", pdf.read_bytes())
    loaded = _load({"type": "pdf", "url": f"{site.base}/menu.pdf"}, Places(tmp_path))
    assert loaded.loaded.documents[0].locator == "page 1"
    assert loaded.version == _load({"type": "pdf", "file": "menu.pdf"}, Places(tmp_path)).version
