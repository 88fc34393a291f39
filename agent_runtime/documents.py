"""The Business's uploaded documents as the owner console manages them, and what the
committed index holds of each source.

Uploads live in the document store beside the tenant's index (`IndexLocation.documents()`:
a folder on the index volume, or a prefix in the bucket), which only the one index writer
reads, on every run: storing a file here never indexes it, the writer's next run does. The
agent is the component that has that store mounted (or its S3 credentials), so it stores
and deletes the files; it never writes the index itself.

A file is checked before it is stored (its name, its size, its content against its
extension, with the writer's own checks), so a refused file changes nothing; it is
written so that the writer never reads half of it (`UploadStore.write`).
"""

import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from agent_runtime.knowledge import KnowledgeBase
from ingestion.errors import FailureReason, SourceError
from ingestion.index.location import IndexLocation
from ingestion.index.schema import TABLE
from ingestion.uploads import KINDS, UploadStore, check_upload

NAME_MAX = 120
# Sources counted per committed version, by (index, version, when indexed): an agent
# serves one index, so a few versions cover the one it serves and the one it follows.
_COUNTED: OrderedDict[tuple[str, int, datetime | None], list[dict[str, Any]]] = OrderedDict()
_COUNTED_VERSIONS = 8
_COUNTED_LOCK = threading.Lock()
_BATCH_ROWS = 4096
# Characters no file name here may hold: folders, and what Windows or a shell mangles.
_FORBIDDEN = set('/\\:*?"<>|')
# The zero-width non-joiner and joiner are letters' business in Sinhala (rakaransaya,
# yansaya, touching letters: ශ්‍රී) and Tamil text; every other format character is
# refused, the bidi controls above all, which make a name read as another (`txt.exe`).
_JOINERS = {"\u200c", "\u200d"}
# Controls, surrogates, private use, unassigned, and line or paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cs", "Co", "Cn", "Cf", "Zl", "Zp"}


class DocumentRefusedError(ValueError):
    """The upload or deletion was refused; `code` says why in a word the console turns
    into the owner's language, `message` says it in English (never the file's content)."""

    def __init__(self, code: str, message: str, status: int = 422, **facts: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.facts = facts

    def detail(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.facts}


class DocumentStoreError(RuntimeError):
    """The document store could not be listed or written (a volume, a bucket): try again."""


@dataclass(frozen=True)
class Document:
    name: str
    size: int
    kind: str  # pdf, spreadsheet, text
    modified: datetime | None
    source: str  # the knowledge source it is indexed as: upload:<name>

    def as_json(self) -> dict[str, Any]:
        modified = self.modified.isoformat() if self.modified else None
        return {
            "name": self.name,
            "size": self.size,
            "kind": self.kind,
            "modified": modified,
            "source": self.source,
        }


def checked_name(name: str) -> str:
    """`name` as it is stored (Unicode NFC, so one name typed on two phones is one file),
    or DocumentRefusedError: one plain file name, not hidden, at most NAME_MAX characters,
    with an extension an owner may upload. Sinhala and Tamil names are welcome."""
    name = unicodedata.normalize("NFC", name)
    plain = (
        name.strip() == name
        and name not in ("", ".", "..")
        and not name.startswith(".")
        and not any(char in _FORBIDDEN for char in name)
        and not any(_refused_char(char) for char in name)
    )
    if not plain:
        message = "a document's name must be one file name: no folders, not starting with a dot"
        raise DocumentRefusedError("bad_name", message)
    if len(name) > NAME_MAX:
        message = f"a document's name may be at most {NAME_MAX} characters"
        raise DocumentRefusedError("name_too_long", message, limit=NAME_MAX)
    if PurePosixPath(name).suffix.lower() not in KINDS:
        message = "uploads may be PDF (.pdf), Excel (.xlsx), CSV (.csv), text (.txt) or .md files"
        raise DocumentRefusedError("not_allowed_type", message, allowed=sorted(KINDS))
    return name


def _refused_char(char: str) -> bool:
    return char not in _JOINERS and unicodedata.category(char) in _REFUSED_CATEGORIES


def too_large(max_bytes: int) -> DocumentRefusedError:
    message = f"a document may be at most {max_bytes:,} bytes"
    return DocumentRefusedError("too_large", message, status=413, limit_bytes=max_bytes)


class Documents:
    """One tenant's uploads, for the agent's /v1/documents."""

    def __init__(self, store: IndexLocation, max_bytes: int) -> None:
        """`store`: the document store, `KnowledgeBase.location.documents()` (a folder on
        the index volume, or a prefix in the index's bucket with the agent's credentials)."""
        self.store = UploadStore(store)
        self.max_bytes = max_bytes

    @classmethod
    def of(cls, knowledge: KnowledgeBase, max_bytes: int) -> "Documents":
        return cls(knowledge.location.documents(), max_bytes)

    def list(self) -> list[Document]:
        try:
            uploads = self.store.uploads()
        except SourceError as error:
            raise DocumentStoreError(_reason(error)) from error
        return [
            Document(upload.name, upload.size, upload.kind, upload.modified, upload.key)
            for upload in uploads
        ]

    def put(self, name: str, data: bytes) -> tuple[Document, bool]:
        """Store `data` as `name` (replacing a file of that name); the stored document, and
        whether it is new. Refused before anything is written when the file is wrong."""
        name = checked_name(name)
        if len(data) > self.max_bytes:
            raise too_large(self.max_bytes)
        if not data:
            raise DocumentRefusedError("empty", f"{name} is empty")
        try:
            check_upload(name, data)
        except SourceError as error:
            raise DocumentRefusedError("wrong_content", str(error)) from error
        try:
            existed = self.store.find(name) is not None
            self.store.write(name, data)
            stored = self.store.find(name)
        except SourceError as error:
            raise DocumentStoreError(_reason(error)) from error
        if stored is None:  # written, yet not listed: the store is not what it claims
            raise DocumentStoreError(f"{name} was written but is not listed")
        document = Document(stored.name, stored.size, stored.kind, stored.modified, stored.key)
        return document, not existed

    def delete(self, name: str) -> None:
        """Remove the upload; its chunks leave the index on the writer's next run."""
        name = unicodedata.normalize("NFC", name)
        try:
            deleted = self.store.delete(name)
        except SourceError as error:
            raise DocumentStoreError(_reason(error)) from error
        if not deleted:
            raise DocumentRefusedError("not_found", "no uploaded document has that name", 404)


def indexed_sources(knowledge: KnowledgeBase) -> dict[str, Any]:
    """Every source in the committed version the agent serves, with its chunks, documents
    and (for PDFs) pages; the version and when it was indexed. Reads only.

    A committed version never changes, so its sources are counted once and kept: the
    Knowledge page and every refused upload ask again, and a web index has many rows."""
    runs = _last_run(knowledge)
    snapshot = knowledge.snapshot
    if snapshot is None:
        return {"index_version": None, "last_indexed": None, "sources": [], **runs}
    key = (knowledge.location.uri, snapshot.version, snapshot.last_indexed)
    with _COUNTED_LOCK:
        sources = _COUNTED.get(key)
        if sources is not None:
            _COUNTED.move_to_end(key)
    if sources is None:
        sources = _count_sources(knowledge.location, snapshot.version)
        with _COUNTED_LOCK:
            _COUNTED[key] = sources
            while len(_COUNTED) > _COUNTED_VERSIONS:
                _COUNTED.popitem(last=False)
    last = snapshot.last_indexed.isoformat() if snapshot.last_indexed else None
    return {
        "index_version": snapshot.version,
        "last_indexed": last,
        "sources": [dict(source) for source in sources],  # the caller may change its copy
        **runs,
    }


def _count_sources(location: IndexLocation, version: int) -> list[dict[str, Any]]:
    """Each source's chunks, documents and pages at `version`, read a batch at a time so
    that only the counts are held, never every row of a large index at once."""
    table: Any = location.connect().open_table(TABLE)
    table.checkout(version)
    query = table.search().select(["source", "doc_id", "locator"]).limit(None)
    counts: dict[str, dict[str, Any]] = {}
    for batch in query.to_batches(_BATCH_ROWS):
        for source, doc_id, locator in zip(
            batch.column("source").to_pylist(),
            batch.column("doc_id").to_pylist(),
            batch.column("locator").to_pylist(),
            strict=True,
        ):
            entry = counts.setdefault(source, {"chunks": 0, "documents": set(), "pages": set()})
            entry["chunks"] += 1
            entry["documents"].add(doc_id)
            if str(locator).startswith("page "):
                entry["pages"].add(str(locator).split(",")[0])
    return [
        {
            "source": source,
            "chunks": entry["chunks"],
            "documents": len(entry["documents"]),
            "pages": len(entry["pages"]) or None,
        }
        for source, entry in sorted(counts.items())
    ]


def _last_run(knowledge: KnowledgeBase) -> dict[str, Any]:
    """When the writer's newest run ended and whether it committed, from the index's own
    run log (where no Business status says it: one machine)."""
    totals = knowledge.run_totals()
    if totals is None or not totals.finished_at:
        return {"last_run": None, "last_run_succeeded": None}
    finished = datetime.fromtimestamp(totals.finished_at, UTC).isoformat()
    return {"last_run": finished, "last_run_succeeded": totals.last_success == totals.finished_at}


def _reason(error: SourceError) -> str:
    """Why the store failed, without its location's credentials (never in the message)."""
    kind = "unreachable" if error.reason is FailureReason.UNREACHABLE else "unreadable"
    return f"the document store is {kind}"
