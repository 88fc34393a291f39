"""Incremental refresh: embed only what is new, replace what changed, keep what failed."""

from pathlib import Path

import lancedb
from peers.openai_compatible import EmbeddingsApi
from peers.web_site import Site

from ingestion.index.reader import IndexReader
from ingestion.refresh import Refresh, refresh_business
from ingestion.report import SourceStatus

from .conftest import business, write_pdf

MENU_PAGES = [
    ["Ceylon Spice menu", "චිකන් කොත්තු අපේ විශේෂ කෑමයි.", ("Chicken Kottu", "Rs. 1,200")],
    ["Desserts", "වටලප්පන් රසම රසයි.", ("Watalappan", "Rs. 450")],
]
FAQ = {"type": "faq", "name": "faq", "items": [{"q": "Do you deliver?", "a": "Yes, within 5 km."}]}


def _sources(site: Site) -> list[dict[str, object]]:
    return [
        {"type": "pdf", "name": "menu", "file": "menu.pdf"},
        {"type": "web", "name": "site", "url": f"{site.base}/", "maxPages": 5},
        FAQ,
    ]


def _serve_site(site: Site) -> None:
    site.html("/", "<main><h1>About</h1><p>Family kitchen in Kandy since 1998.</p></main>")


def _index_path(refresh: Refresh) -> Path:
    return refresh.index_root / "tenants" / "ceylon-spice"


def test_first_run_indexes_every_source(refresh_with_api: Refresh, site: Site) -> None:
    write_pdf(refresh_with_api.places.base_dir / "menu.pdf", MENU_PAGES)
    _serve_site(site)
    report = refresh_business(business(*_sources(site)), refresh_with_api)
    assert [(s.source, s.status, s.documents) for s in report.sources] == [
        ("menu", SourceStatus.INDEXED, 2),
        ("site", SourceStatus.INDEXED, 1),
        ("faq", SourceStatus.INDEXED, 1),
    ]
    assert report.chunks == report.embedded == 4
    assert not report.rebuilt
    assert IndexReader(_index_path(refresh_with_api)).count() == 4


def test_unchanged_sources_embed_nothing(
    refresh_with_api: Refresh, site: Site, embeddings_api: EmbeddingsApi
) -> None:
    write_pdf(refresh_with_api.places.base_dir / "menu.pdf", MENU_PAGES)
    _serve_site(site)
    first = refresh_business(business(*_sources(site)), refresh_with_api)
    embeddings_api.calls.clear()
    again = refresh_business(business(*_sources(site)), refresh_with_api)
    assert embeddings_api.calls == [] or embeddings_api.embedded == ["dimension probe"]
    assert again.embedded == 0
    assert again.version == first.version  # nothing committed
    assert {s.status for s in again.sources} == {SourceStatus.UNCHANGED}
    assert [s.kept for s in again.sources] == [2, 1, 1]


def test_a_changed_pdf_replaces_only_its_chunks(
    refresh_with_api: Refresh, site: Site, embeddings_api: EmbeddingsApi
) -> None:
    menu = refresh_with_api.places.base_dir / "menu.pdf"
    write_pdf(menu, MENU_PAGES)
    _serve_site(site)
    refresh_business(business(*_sources(site)), refresh_with_api)
    before = _rows(refresh_with_api)
    write_pdf(
        menu, [MENU_PAGES[0], ["Desserts", "වටලප්පන් දැන් රු. 500 යි.", ("Watalappan", "Rs. 500")]]
    )
    embeddings_api.calls.clear()
    report = refresh_business(business(*_sources(site)), refresh_with_api)
    after = _rows(refresh_with_api)
    menu_report = report.sources[0]
    assert (menu_report.added, menu_report.kept, menu_report.removed) == (1, 1, 1)
    assert [s.status for s in report.sources[1:]] == [SourceStatus.UNCHANGED] * 2
    assert len(embeddings_api.embedded) == 1
    assert "500" in embeddings_api.embedded[0]
    changed = {chunk_id for chunk_id in before if chunk_id not in after}
    assert [before[chunk_id][0] for chunk_id in changed] == ["page 2"]
    assert {k: v for k, v in after.items() if k in before} == {
        k: v for k, v in before.items() if k not in changed
    }  # every other row, its indexed_at included, is untouched


def test_a_failing_source_keeps_its_old_chunks(refresh_with_api: Refresh, site: Site) -> None:
    write_pdf(refresh_with_api.places.base_dir / "menu.pdf", MENU_PAGES)
    _serve_site(site)
    refresh_business(business(*_sources(site)), refresh_with_api)
    site.pages.clear()  # the site is down: robots.txt and pages answer 404
    (refresh_with_api.places.base_dir / "menu.pdf").write_bytes(b"%PDF-1.7 truncated")
    report = refresh_business(business(*_sources(site)), refresh_with_api)
    menu, web, faq = report.sources
    assert (menu.status, web.status, faq.status) == (SourceStatus.FAILED,) * 2 + (
        SourceStatus.UNCHANGED,
    )
    assert "not a readable PDF" in menu.failures[0]
    assert "HTTP 404" in web.failures[0]
    assert (menu.kept, web.kept) == (2, 1)
    reader = IndexReader(_index_path(refresh_with_api))
    assert reader.count() == 4
    assert reader.search_text("Kandy")[0].source == "site"


def test_a_removed_source_loses_its_chunks(refresh_with_api: Refresh, site: Site) -> None:
    write_pdf(refresh_with_api.places.base_dir / "menu.pdf", MENU_PAGES)
    _serve_site(site)
    refresh_business(business(*_sources(site)), refresh_with_api)
    report = refresh_business(business(*_sources(site)[1:]), refresh_with_api)
    assert report.sources[-1].source == "menu"
    assert (report.sources[-1].status, report.sources[-1].removed) == (SourceStatus.REMOVED, 2)
    assert report.chunks == 2


def test_readers_keep_their_version_while_a_refresh_commits(
    refresh_with_api: Refresh, site: Site
) -> None:
    _serve_site(site)
    refresh_business(business(FAQ), refresh_with_api)
    reader = IndexReader(_index_path(refresh_with_api))
    seen = reader.version
    refresh_business(business(*_sources(site)[1:]), refresh_with_api)
    assert (reader.version, reader.count()) == (seen, 1)
    reader.refresh()
    assert reader.version > seen
    assert reader.count() == 2


def test_a_new_embedding_model_re_embeds_everything_including_failed_sources(
    refresh_with_api: Refresh, site: Site, embeddings_api: EmbeddingsApi
) -> None:
    write_pdf(refresh_with_api.places.base_dir / "menu.pdf", MENU_PAGES)
    _serve_site(site)
    refresh_business(business(*_sources(site)), refresh_with_api)
    site.pages.clear()
    settings = refresh_with_api.settings.model_copy(update={"embeddings_model": "bge-m3"})
    refresh = Refresh(
        refresh_with_api.index_root, refresh_with_api.places, settings, progress=False
    )
    embeddings_api.calls.clear()
    report = refresh_business(business(*_sources(site)), refresh)
    assert report.rebuilt
    assert report.embedded == 4
    assert report.chunks == 4
    assert {call["model"] for call in embeddings_api.calls} == {"bge-m3"}
    assert report.sources[1].status is SourceStatus.FAILED
    assert report.sources[1].kept == 1


def test_an_embeddings_outage_commits_nothing(
    refresh_with_api: Refresh, site: Site, embeddings_api: EmbeddingsApi
) -> None:
    _serve_site(site)
    first = refresh_business(business(FAQ), refresh_with_api)
    embeddings_api.fail = True
    report = refresh_business(business(*_sources(site)[1:]), refresh_with_api)
    assert report.error is not None
    assert "503" in report.error
    reader = IndexReader(_index_path(refresh_with_api))
    assert (reader.version, reader.count()) == (first.version, 1)


def _rows(refresh: Refresh) -> dict[str, tuple[str, object]]:
    table = lancedb.connect(_index_path(refresh)).open_table("chunks")
    rows = table.to_arrow().select(["id", "locator", "indexed_at"]).to_pylist()
    return {row["id"]: (row["locator"], row["indexed_at"]) for row in rows}


def test_indexes_cover_both_text_columns_and_vectors_once_the_table_is_large(
    refresh_with_api: Refresh,
) -> None:
    items = [{"q": f"Question {n}?", "a": f"Answer number {n} about kottu."} for n in range(300)]
    faq = {"type": "faq", "name": "faq", "items": items}
    small = Refresh(
        refresh_with_api.index_root,
        refresh_with_api.places,
        refresh_with_api.settings.model_copy(update={"vector_index_min_rows": 500}),
        progress=False,
    )
    refresh_business(business(faq), small)
    assert _indexes(refresh_with_api) == {"text": "icu", "romanized": "simple"}
    large = refresh_with_api.settings.model_copy(update={"vector_index_min_rows": 256})
    refresh_business(business(faq), Refresh(small.index_root, small.places, large, progress=False))
    assert _indexes(refresh_with_api) == {"text": "icu", "romanized": "simple", "vector": "IvfPq"}


def _indexes(refresh: Refresh) -> dict[str, str]:
    table = lancedb.connect(_index_path(refresh)).open_table("chunks")
    return {
        index.columns[0]: (index.index_details or {}).get("base_tokenizer", index.index_type)
        for index in table.list_indices()
    }


def test_a_first_run_where_every_source_fails_leaves_an_empty_searchable_index(
    refresh_with_api: Refresh, site: Site
) -> None:
    report = refresh_business(business(*_sources(site)[:2]), refresh_with_api)
    assert [s.status for s in report.sources] == [SourceStatus.FAILED] * 2
    reader = IndexReader(_index_path(refresh_with_api))
    assert reader.count() == 0
    assert reader.search_text("kottu") == []
    assert reader.search_romanized("kottu") == []
