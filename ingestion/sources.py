"""Read one knowledge source from where the Business says it is, and load its documents."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingestion.charset import decode_page
from ingestion.crawling import crawl_site
from ingestion.documents import Loaded
from ingestion.errors import FailureReason, SourceError
from ingestion.fetching import FetchLimits, VettedClient, fetch
from ingestion.loaders.faq import load_faq, parse_faq_file
from ingestion.loaders.html import page_documents, parse_html
from ingestion.loaders.pdf import load_pdf
from ingestion.loaders.spreadsheet import load_spreadsheet
from ingestion.loaders.text import load_text
from ingestion.places import Places as Places  # its old home, still imported from here
from katha.api.knowledge import (
    OWNER_FAQ_SOURCE,
    FaqItem,
    FaqSource,
    KnowledgeSource,
    PdfSource,
    SpreadsheetSource,
    TextSource,
    WebSource,
)

_ACCEPTED_TYPES = {
    "pdf": ("application/pdf", "application/octet-stream"),
    "spreadsheet": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml",
        "application/vnd.ms-excel",
        "text/csv",
        "text/plain",
        "application/octet-stream",
    ),
    "text": ("text/",),
    "faq": ("application/json", "application/yaml", "application/x-yaml", "text/"),
}


@dataclass(frozen=True)
class LoadedSource:
    key: str  # stable across runs: the source's name, else its location
    uri: str
    version: str  # a hash of what was read: the same bytes give the same version
    loaded: Loaded
    # Document locator -> the language its author stated (FAQ items): the chunks' language
    # then, instead of one guessed from a few words.
    languages: dict[str, str] = field(default_factory=dict)


def source_key(source: KnowledgeSource, position: int) -> str:
    if source.name:
        return source.name
    if isinstance(source, WebSource):
        return str(source.url)
    if source.url is not None:
        return str(source.url)
    if source.config_map_ref is not None:
        return f"configmap:{source.config_map_ref.name}/{source.config_map_ref.key}"
    if source.file is not None:
        return f"file:{source.file}"
    return f"{source.type}:inline:{position}"


def load_source(
    source: KnowledgeSource,
    position: int,
    places: Places,
    client: VettedClient,
    limits: FetchLimits,
) -> LoadedSource:
    """Everything a source holds, as documents; raises SourceError when it cannot be read."""
    key = source_key(source, position)
    if isinstance(source, WebSource):
        crawl = crawl_site(client, str(source.url), limits, source.max_pages, source.max_depth)
        documents = [
            document for url, page in crawl.pages for document in page_documents(url, page)
        ]
        digest = hashlib.sha256()
        for document in documents:
            digest.update(document.text.encode())
        loaded = Loaded(documents, crawl.skipped, pages=len(crawl.pages))
        return LoadedSource(key, str(source.url), digest.hexdigest(), loaded)
    if isinstance(source, FaqSource) and source.items is not None:
        return load_faq_items(source.items, key, f"inline:{key}")
    if isinstance(source, TextSource) and source.content is not None:
        uri = f"inline:{key}"
        version = _version(source.content.encode())
        return LoadedSource(key, uri, version, load_text(source.content, uri, source.name or key))
    data, name, uri, charset = _read_located(source, places, client, limits)
    version = _version(data)
    if isinstance(source, PdfSource):
        return LoadedSource(key, uri, version, load_pdf(data, uri))
    if isinstance(source, SpreadsheetSource):
        return LoadedSource(key, uri, version, load_spreadsheet(data, name, uri, source.sheets))
    if isinstance(source, FaqSource):
        return load_faq_items(parse_faq_file(data), key, uri, version)
    text = _decode(data, charset)
    if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        # A text source that is a saved or served web page: its content, not its markup.
        return LoadedSource(key, uri, version, Loaded(page_documents(uri, parse_html(text, uri))))
    return LoadedSource(key, uri, version, load_text(text, uri, source.name or name))


def load_owner_faq(items: Sequence[FaqItem]) -> LoadedSource:
    """The owner's FAQ (spec.knowledge.faq, kept in the console) as the source `faq:owner`."""
    return load_faq_items(items, OWNER_FAQ_SOURCE, f"inline:{OWNER_FAQ_SOURCE}")


def load_faq_items(
    items: Sequence[FaqItem], key: str, uri: str, version: str | None = None
) -> LoadedSource:
    """One document per item, in the item's stated language where it has one. Inline items
    are versioned by their words (and a stated language, so changing it alone is a change)."""
    if version is None:
        words = (f"{i.q}\n{i.a}" + (f"\n{i.language}" if i.language else "") for i in items)
        version = _version("\n".join(words).encode())
    loaded = load_faq(items, uri)
    languages: dict[str, str] = {}
    documents = []
    for item, document in zip(items, loaded.documents, strict=True):
        if item.language is not None:
            languages[document.locator] = item.language
            document = replace(document, language=item.language)
        documents.append(document)
    return LoadedSource(key, uri, version, replace(loaded, documents=documents), languages)


def _read_located(
    source: PdfSource | SpreadsheetSource | TextSource | FaqSource,
    places: Places,
    client: VettedClient,
    limits: FetchLimits,
) -> tuple[bytes, str, str, str | None]:
    """The bytes of a url / configMapRef / file source, its file name, its URI and the
    charset its server declared (None for files)."""
    if source.url is not None:
        fetched = fetch(client, str(source.url), limits, _ACCEPTED_TYPES[source.type])
        name = fetched.url.rsplit("/", 1)[-1] or "index"
        return fetched.content, name, str(source.url), fetched.charset
    if source.config_map_ref is not None:
        ref = source.config_map_ref
        if places.configmap_dir is None:
            message = f"ConfigMap {ref.name} is not mounted (no --configmap-dir given)"
            raise SourceError(message, FailureReason.MISSING)
        path = places.configmap_dir / ref.name / ref.key
        return _read_file(path, limits), ref.key, f"configmap:{ref.name}/{ref.key}", None
    if source.file is None:
        raise SourceError("the source names no location", FailureReason.MISSING)
    base = places.base_dir.resolve()
    path = (base / source.file).resolve()
    if not path.is_relative_to(base):
        raise SourceError(f"{source.file} lies outside {base}", FailureReason.REFUSED)
    return _read_file(path, limits), path.name, f"file:{source.file}", None


def _read_file(path: Path, limits: FetchLimits) -> bytes:
    try:
        if path.stat().st_size > limits.max_bytes:
            raise SourceError(
                f"{path} is larger than {limits.max_bytes} bytes", FailureReason.TOO_LARGE
            )
        return path.read_bytes()
    except OSError as error:
        message = f"{path} cannot be read ({error.strerror})"
        raise SourceError(message, FailureReason.MISSING) from error


def _decode(data: bytes, charset: str | None = None) -> str:
    """Text as its server declared it; otherwise UTF-8 (a web page by its own <meta>)."""
    if charset is not None or data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return decode_page(data, charset)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        message = "the text is not UTF-8 (save it as UTF-8, or serve it with a charset)"
        raise SourceError(message, FailureReason.CORRUPT) from error


def _version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
