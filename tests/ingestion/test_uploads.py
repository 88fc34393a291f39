"""Documents a shop owner uploaded: kept in ROOT/NAMESPACE/NAME.documents beside the tenant's
database (a folder or a bucket prefix), read by the index writer on every run as sources
named `upload:<file name>`, incrementally like any other source."""

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers.object_store import S3Server
from peers.openai_compatible import EmbeddingsApi
from pyarrow import fs

from ingestion.errors import FailureReason
from ingestion.index.location import index_location
from ingestion.index.reader import IndexReader
from ingestion.refresh import Refresh, refresh_business
from ingestion.report import Report, SourceReport, SourceStatus
from ingestion.summary import committed_index, writer_result

from .conftest import business, write_pdf, write_price_list

MENU_PAGES = [
    ["Ceylon Spice menu", ("Chicken Kottu", "Rs. 1,200")],
    ["Desserts", ("Watalappan", "Rs. 450")],
]
NOTES = "# Opening hours\n\nOpen every day from 7am to 8pm, Poya days too.\n"
FAQ = {"type": "faq", "name": "faq", "items": [{"q": "Do you deliver?", "a": "Yes, within 5 km."}]}


def _store(refresh: Refresh) -> Path:
    """Where the owner console puts this tenant's uploads (the index root is a folder)."""
    root = index_location(refresh.index_root)
    store = root.child("tenants", "ceylon-spice").documents().path
    store.mkdir(parents=True, exist_ok=True)
    return store


def _database(refresh: Refresh) -> str:
    return index_location(refresh.index_root).child("tenants", "ceylon-spice").uri


def _upload_menu_prices_and_notes(store: Path) -> None:
    write_pdf(store / "menu.pdf", MENU_PAGES)
    write_price_list(store / "prices.xlsx")
    (store / "notes.md").write_text(NOTES, encoding="utf-8")


def _by_source(report: Report) -> dict[str, SourceReport]:
    return {source.source: source for source in report.sources}


def _sources_in_index(database: str) -> set[str]:
    return {hit.source for hit in IndexReader(database).search_text("Kottu Watalappan open", 50)}


def test_the_store_sits_beside_the_tenant_database_in_a_folder_or_a_bucket() -> None:
    folder = index_location("/var/lib/katha/index").child("tenants", "mihiri")
    assert folder.documents().path == Path("/var/lib/katha/index/tenants/mihiri.documents")
    bucket = index_location("s3://indexes/katha/", {"AWS_REGION": "ap-south-1"})
    documents = bucket.child("tenants", "mihiri").documents()
    assert documents.uri == "s3://indexes/katha/tenants/mihiri.documents"
    assert documents.storage_options == {"aws_region": "ap-south-1"}


def test_an_uploaded_pdf_workbook_and_markdown_file_are_indexed_and_searchable(
    refresh_with_api: Refresh,
) -> None:
    _upload_menu_prices_and_notes(_store(refresh_with_api))
    report = refresh_business(business(FAQ), refresh_with_api)
    sources = _by_source(report)
    assert report.error is None
    assert report.failed == []
    assert sorted(sources) == ["faq", "upload:menu.pdf", "upload:notes.md", "upload:prices.xlsx"]
    assert [sources[key].type for key in sorted(sources)] == ["faq", "pdf", "text", "spreadsheet"]
    assert all(source.status is SourceStatus.INDEXED for source in sources.values())
    assert (sources["upload:menu.pdf"].pages, sources["upload:menu.pdf"].documents) == (2, 2)
    assert sources["upload:prices.xlsx"].documents == 4  # three priced rows and the Notes sheet
    assert report.documents == 1 + 2 + 4 + 1
    reader = IndexReader(_database(refresh_with_api))
    assert reader.count() == report.chunks
    watalappan = reader.search_text("Watalappan")[0]
    assert (watalappan.source, watalappan.source_uri) == ("upload:menu.pdf", "upload:menu.pdf")
    assert "Rs. 450" in watalappan.text
    assert reader.search_text("Fish Rice")[0].source == "upload:prices.xlsx"
    assert reader.search_text("Poya")[0].source == "upload:notes.md"


def test_a_deleted_upload_loses_its_chunks_and_the_others_are_not_embedded_again(
    refresh_with_api: Refresh, embeddings_api: EmbeddingsApi
) -> None:
    store = _store(refresh_with_api)
    _upload_menu_prices_and_notes(store)
    first = _by_source(refresh_business(business(FAQ), refresh_with_api))
    calls = len(embeddings_api.calls)
    (store / "notes.md").unlink()
    report = refresh_business(business(FAQ), refresh_with_api)
    sources = _by_source(report)
    assert sources["upload:notes.md"].status is SourceStatus.REMOVED
    assert sources["upload:notes.md"].removed == first["upload:notes.md"].added > 0
    for key in ("faq", "upload:menu.pdf", "upload:prices.xlsx"):
        assert sources[key].status is SourceStatus.UNCHANGED
        assert (sources[key].kept, sources[key].added) == (first[key].added, 0)
    assert report.embedded == 0
    assert len(embeddings_api.calls) == calls
    reader = IndexReader(_database(refresh_with_api))
    assert reader.search_text("Poya") == []
    assert _sources_in_index(_database(refresh_with_api)) == {
        "upload:menu.pdf",
        "upload:prices.xlsx",
    }


def test_a_pdf_that_is_really_text_is_a_failed_source_and_the_rest_is_indexed(
    refresh_with_api: Refresh,
) -> None:
    store = _store(refresh_with_api)
    (store / "menu.pdf").write_text("Chicken Kottu Rs. 1,200", encoding="utf-8")
    (store / "notes.md").write_text(NOTES, encoding="utf-8")
    report = refresh_business(business(), refresh_with_api)
    menu = _by_source(report)["upload:menu.pdf"]
    assert (menu.status, menu.type, menu.reason) == (SourceStatus.FAILED, "pdf", "content_type")
    assert menu.failures == [
        "menu.pdf is named .pdf but is not a PDF file (a PDF starts with %PDF)"
    ]
    assert _by_source(report)["upload:notes.md"].status is SourceStatus.INDEXED
    assert report.error is None
    assert report.chunks > 0
    summary = writer_result(report, committed_index(_database(refresh_with_api)))
    assert summary.state == "ready"
    assert summary.failed_sources == [f"upload:menu.pdf: {menu.failures[0]}"]
    assert summary.message == "1 of 2 sources failed"


def test_unsupported_mislabelled_and_oversized_uploads_are_refused_in_plain_words(
    refresh_with_api: Refresh,
) -> None:
    settings = refresh_with_api.settings.model_copy(update={"max_download_bytes": 4096})
    refresh = dataclasses.replace(refresh_with_api, settings=settings)
    store = _store(refresh)
    (store / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo of the shop")
    (store / "prices.xlsx").write_text("Item,Price\nKottu,1200\n", encoding="utf-8")
    (store / "hours.txt").write_bytes(b"\x00\x01\x02 not text at all \x00")
    write_pdf(store / "long.pdf", [[f"Line {number} of a long menu" for number in range(40)]] * 8)
    (store / "notes.md").write_text(NOTES, encoding="utf-8")
    sources = _by_source(refresh_business(business(), refresh))
    failed = {
        key: (item.reason, item.failures[0]) for key, item in sources.items() if item.failures
    }
    assert failed == {
        "upload:photo.jpg": (
            FailureReason.CONTENT_TYPE,
            "photo.jpg: uploads may be PDF (.pdf), Excel workbooks (.xlsx), CSV (.csv), "
            "text (.txt) or Markdown (.md) files",
        ),
        "upload:prices.xlsx": (
            FailureReason.CONTENT_TYPE,
            "prices.xlsx is named .xlsx but is not an Excel workbook "
            "(an old .xls file must be saved as .xlsx first)",
        ),
        "upload:hours.txt": (
            FailureReason.CONTENT_TYPE,
            "hours.txt is named .txt but is not a UTF-8 text file (save it as UTF-8 text)",
        ),
        "upload:long.pdf": (
            FailureReason.TOO_LARGE,
            f"long.pdf is {(store / 'long.pdf').stat().st_size:,} bytes, larger than the "
            "4,096 bytes an uploaded file may be (KATHA_INGEST_MAX_DOWNLOAD_BYTES)",
        ),
    }
    assert sources["upload:photo.jpg"].type == "upload"
    assert sources["upload:notes.md"].status is SourceStatus.INDEXED


def test_no_store_or_an_empty_one_means_no_uploads_and_half_written_files_wait(
    refresh_with_api: Refresh,
) -> None:
    report = refresh_business(business(FAQ), refresh_with_api)
    assert [source.source for source in report.sources] == ["faq"]
    store = _store(refresh_with_api)
    assert [
        source.source for source in refresh_business(business(FAQ), refresh_with_api).sources
    ] == ["faq"]
    # An upload still being written (a dot name, renamed when complete) and files in
    # subfolders are not the owner's documents yet.
    (store / ".notes.md.part").write_text(NOTES, encoding="utf-8")
    (store / "old").mkdir()
    (store / "old" / "notes.md").write_text(NOTES, encoding="utf-8")
    report = refresh_business(business(FAQ), refresh_with_api)
    assert [source.source for source in report.sources] == ["faq"]
    assert report.failed == []


def test_a_store_that_cannot_be_listed_keeps_the_uploads_indexed_before(
    refresh_with_api: Refresh,
) -> None:
    store = _store(refresh_with_api)
    (store / "notes.md").write_text(NOTES, encoding="utf-8")
    added = _by_source(refresh_business(business(FAQ), refresh_with_api))["upload:notes.md"].added
    (store / "notes.md").unlink()
    store.rmdir()
    store.write_text("not a folder")  # a broken store: nothing can be listed in it
    report = refresh_business(business(FAQ), refresh_with_api)
    notes = _by_source(report)["upload:notes.md"]
    assert (notes.status, notes.reason, notes.kept) == (SourceStatus.FAILED, "missing", added)
    assert notes.failures[0].startswith(f"the uploaded documents at {store} cannot be listed")
    assert report.error is None
    assert IndexReader(_database(refresh_with_api)).search_text("Poya")[0].source == notes.source


@pytest.fixture(scope="module")
def object_store() -> Iterator[S3Server]:
    with S3Server().serve() as store:
        yield store


@pytest.mark.slow  # a real S3 server process
def test_uploads_in_a_bucket_are_read_beside_the_tenant_database(
    refresh_with_api: Refresh, object_store: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"katha-{uuid.uuid4().hex[:12]}"
    object_store.create_bucket(bucket)
    for name, value in object_store.environment().items():
        monkeypatch.setenv(name, value)
    refresh = dataclasses.replace(refresh_with_api, index_root=f"s3://{bucket}/indexes")
    # The owner console's side: an S3 client putting and deleting objects under the prefix.
    console = fs.S3FileSystem(
        access_key=object_store.access_key,
        secret_key=object_store.secret_key,
        region=object_store.region,
        endpoint_override=object_store.base.removeprefix("http://"),
        scheme="http",
    )
    store = f"{bucket}/indexes/tenants/ceylon-spice.documents"
    folder = refresh_with_api.places.base_dir
    _upload_menu_prices_and_notes(folder)
    for name in ("menu.pdf", "prices.xlsx", "notes.md"):
        with console.open_output_stream(f"{store}/{name}") as stream:
            stream.write((folder / name).read_bytes())
    first = refresh_business(business(), refresh)
    assert first.error is None
    assert {(source.source, source.status) for source in first.sources} == {
        ("upload:menu.pdf", SourceStatus.INDEXED),
        ("upload:notes.md", SourceStatus.INDEXED),
        ("upload:prices.xlsx", SourceStatus.INDEXED),
    }
    database = f"s3://{bucket}/indexes/tenants/ceylon-spice"
    assert IndexReader(database).search_text("Poya")[0].source == "upload:notes.md"
    console.delete_file(f"{store}/notes.md")
    second = refresh_business(business(), refresh)
    assert _by_source(second)["upload:notes.md"].status is SourceStatus.REMOVED
    assert second.embedded == 0
    assert _sources_in_index(database) == {"upload:menu.pdf", "upload:prices.xlsx"}
