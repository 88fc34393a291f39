"""Documents a shop owner uploaded, read by the index writer from their store beside the
tenant's database (`IndexLocation.documents()`: ROOT/NAMESPACE/NAME.documents).

Each file there is a knowledge source named `upload:<file name>`, loaded like a spec source
of its type. A folder and an `s3://` prefix are read the same way, through pyarrow's file
systems: LanceDB's object store reads tables, not files.
"""

import contextlib
import hashlib
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # type: ignore[import-untyped]
from pyarrow import fs

from ingestion.errors import FailureReason, SourceError
from ingestion.index.location import IndexLocation
from ingestion.index.schema import TABLE

if TYPE_CHECKING:
    from ingestion.sources import LoadedSource

UPLOAD_PREFIX = "upload:"
# What an owner may upload, by file extension: the knowledge source type it is loaded as.
KINDS = {
    ".pdf": "pdf",
    ".xlsx": "spreadsheet",
    ".csv": "spreadsheet",
    ".txt": "text",
    ".md": "text",
}
_ALLOWED = "PDF (.pdf), Excel workbooks (.xlsx), CSV (.csv), text (.txt) or Markdown (.md)"
# Control characters no text file holds (tab, newlines and form feed are allowed): a sign of
# binary data behind a text extension.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


@dataclass(frozen=True)
class Upload:
    """One uploaded file, as the store lists it."""

    name: str
    size: int
    modified: datetime | None = None  # when it was last written, where the store says

    @property
    def key(self) -> str:
        return f"{UPLOAD_PREFIX}{self.name}"

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix.lower()

    @property
    def kind(self) -> str:
        """The knowledge source type it is read as ("upload" for a type we do not read)."""
        return KINDS.get(self.suffix, "upload")


class UploadStore:
    """One tenant's uploaded documents: a local folder or an `s3://` prefix.

    A missing folder or prefix is an empty store (no uploads yet). Files in subfolders, and
    files whose name starts with a dot (an upload still being written), are not read.
    """

    def __init__(self, location: IndexLocation, timeout_seconds: float = 20.0) -> None:
        self.location = location
        self._timeout = timeout_seconds
        self._opened: tuple[Any, str] | None = None

    def uploads(self) -> list[Upload]:
        """The files in the store, by name; SourceError when it cannot be listed."""
        files, base = self._file_system()
        try:
            found = files.get_file_info(fs.FileSelector(base, allow_not_found=True))
        except (OSError, pa.ArrowException) as error:
            message = f"the uploaded documents at {self.location} cannot be listed ({error})"
            raise SourceError(message, FailureReason.MISSING) from error
        uploads = [
            Upload(info.base_name, int(info.size or 0), _modified(info))
            for info in found
            if info.type == fs.FileType.File and not info.base_name.startswith(".")
        ]
        return sorted(uploads, key=lambda upload: upload.name)

    def read(self, upload: Upload, max_bytes: int) -> bytes:
        """The file's bytes, refused past `max_bytes` (the per-file download limit)."""
        if upload.size > max_bytes:
            raise _too_large(upload, max_bytes, upload.size)
        files, base = self._file_system()
        try:
            with files.open_input_stream(f"{base}/{upload.name}") as stream:
                data: bytes = stream.read(max_bytes + 1)
        except (OSError, pa.ArrowException) as error:
            message = f"{upload.name} cannot be read ({error})"
            raise SourceError(message, FailureReason.MISSING) from error
        if len(data) > max_bytes:  # it grew after it was listed
            raise _too_large(upload, max_bytes)
        return data

    def find(self, name: str) -> Upload | None:
        """The upload called `name`, or None when the store holds no such file."""
        return next((upload for upload in self.uploads() if upload.name == name), None)

    def write(self, name: str, data: bytes) -> None:
        """Store `data` as `name` so that no reader ever sees half of it: in a folder it is
        written as a dot-file (never listed) and renamed; an object store shows an object
        only once its upload completed. `name` must be one plain file name (the caller
        checked it)."""
        files, base = self._file_system()
        final = f"{base}/{name}"
        try:
            if not self.location.is_local:
                with files.open_output_stream(final) as stream:
                    stream.write(data)
                return
            files.create_dir(base, recursive=True)
            partial = f"{base}/.{uuid.uuid4().hex}.partial"
            try:
                with files.open_output_stream(partial) as stream:
                    stream.write(data)
                files.move(partial, final)
            finally:
                with contextlib.suppress(FileNotFoundError, OSError):
                    files.delete_file(partial)
        except (OSError, pa.ArrowException) as error:
            message = f"{name} cannot be stored at {self.location} ({type(error).__name__})"
            raise SourceError(message, FailureReason.UNREACHABLE) from error

    def delete(self, name: str) -> bool:
        """Remove the upload `name`; False when there was no such file."""
        if self.find(name) is None:
            return False
        files, base = self._file_system()
        try:
            files.delete_file(f"{base}/{name}")
        except FileNotFoundError:
            return False
        except (OSError, pa.ArrowException) as error:
            message = f"{name} cannot be deleted at {self.location} ({type(error).__name__})"
            raise SourceError(message, FailureReason.UNREACHABLE) from error
        return True

    def delete_all(self) -> int:
        """Remove the store and every file in it (the Business is gone); how many files."""
        files, base = self._file_system()
        found = files.get_file_info(fs.FileSelector(base, allow_not_found=True, recursive=True))
        count = sum(1 for info in found if info.type == fs.FileType.File)
        if found:
            files.delete_dir_contents(base, missing_dir_ok=True)
        # The folder itself (in object storage, the marker object a client may have left).
        with contextlib.suppress(FileNotFoundError):
            files.delete_dir(base)
        return count

    def _file_system(self) -> tuple[Any, str]:
        """pyarrow's file system for this store and the store's path in it (one S3 client
        for the whole run)."""
        if self._opened is None:
            self._opened = self._open()
        return self._opened

    def _open(self) -> tuple[Any, str]:
        if self.location.is_local:
            return fs.LocalFileSystem(), str(Path(self.location.uri).absolute())
        options = self.location.storage_options
        endpoint = options.get("aws_endpoint")
        scheme, _, host = endpoint.partition("://") if endpoint else ("https", "", "")
        try:
            files = fs.S3FileSystem(
                access_key=options.get("aws_access_key_id"),
                secret_key=options.get("aws_secret_access_key"),
                session_token=options.get("aws_session_token"),
                region=options.get("aws_region"),
                endpoint_override=host or None,
                scheme=scheme,
                connect_timeout=self._timeout,
                request_timeout=self._timeout,
            )
        except (ValueError, pa.ArrowException) as error:
            message = f"the object store of {self.location} cannot be reached ({error})"
            raise SourceError(message, FailureReason.UNREACHABLE) from error
        return files, self.location.uri.split("://", 1)[1].rstrip("/")


def load_upload(store: UploadStore, upload: Upload, max_bytes: int) -> "LoadedSource":
    """An uploaded file's documents, loaded as a spec source of its type would be.

    The type comes from the extension and is checked against the content first, so a file
    that is not what its name says is refused in plain words instead of by a parser.
    """
    # The parsers are imported by the index writer only: an agent replica imports this
    # module for the documents page and must not load pypdfium2 and openpyxl with it.
    from ingestion.loaders.pdf import load_pdf
    from ingestion.loaders.spreadsheet import load_spreadsheet
    from ingestion.loaders.text import load_text
    from ingestion.sources import LoadedSource

    if upload.kind == "upload":
        raise _not_allowed(upload.name)
    data = store.read(upload, max_bytes)
    key = uri = upload.key
    version = hashlib.sha256(data).hexdigest()
    text = check_upload(upload.name, data)
    if upload.suffix == ".pdf":
        return LoadedSource(key, uri, version, load_pdf(data, uri))
    if upload.suffix in (".xlsx", ".csv"):
        return LoadedSource(key, uri, version, load_spreadsheet(data, upload.name, uri, ()))
    return LoadedSource(key, uri, version, load_text(text or "", uri, upload.name))


def check_upload(name: str, data: bytes) -> str | None:
    """Refuse (SourceError, CONTENT_TYPE) a file whose extension is not one an owner may
    upload, or whose content is not what the extension says; the text of a text file.

    The writer checks every upload with it before loading, and the agent before storing
    one, so the owner hears at once that a file was refused, in the same words.
    """
    upload = Upload(name, len(data))
    if upload.kind == "upload":
        raise _not_allowed(name)
    if upload.suffix == ".pdf":
        _check_pdf(upload, data)
        return None
    if upload.suffix == ".xlsx":
        _check_workbook(upload, data)
        return None
    return _text(upload, data)


def indexed_uploads(database: IndexLocation) -> list[str]:
    """The keys of the uploads the tenant's committed index holds chunks of.

    When the store cannot be listed these are reported as failed, so their chunks stay
    instead of vanishing as if the owner had deleted every file.
    """
    if not database.has_table():
        return []
    table: Any = database.connect().open_table(TABLE)
    sources = table.search().select(["source"]).limit(None).to_arrow().column("source")
    return sorted({key for key in sources.to_pylist() if key.startswith(UPLOAD_PREFIX)})


def _not_allowed(name: str) -> SourceError:
    message = f"{name}: uploads may be {_ALLOWED} files"
    return SourceError(message, FailureReason.CONTENT_TYPE)


def _modified(info: Any) -> datetime | None:
    """The file's modification time in UTC (pyarrow gives a naive UTC time, or none)."""
    mtime = info.mtime
    if not isinstance(mtime, datetime):
        return None
    return mtime if mtime.tzinfo is not None else mtime.replace(tzinfo=UTC)


def _check_pdf(upload: Upload, data: bytes) -> None:
    if not data.startswith(b"%PDF"):
        message = f"{upload.name} is named .pdf but is not a PDF file (a PDF starts with %PDF)"
        raise SourceError(message, FailureReason.CONTENT_TYPE)


def _check_workbook(upload: Upload, data: bytes) -> None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            is_workbook = any(name.startswith("xl/") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        is_workbook = False
    if not is_workbook:
        message = (
            f"{upload.name} is named .xlsx but is not an Excel workbook "
            "(an old .xls file must be saved as .xlsx first)"
        )
        raise SourceError(message, FailureReason.CONTENT_TYPE)


def _text(upload: Upload, data: bytes) -> str:
    """The file as text: UTF-8, or for CSV also Windows-1252 (what Excel saves on Windows,
    and what the spreadsheet loader falls back to)."""
    encodings = ("utf-8-sig", "cp1252") if upload.suffix == ".csv" else ("utf-8-sig",)
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _BINARY.search(text):
            return text
        break
    message = (
        f"{upload.name} is named {upload.suffix} but is not a UTF-8 text file "
        "(save it as UTF-8 text)"
    )
    raise SourceError(message, FailureReason.CONTENT_TYPE)


def _too_large(upload: Upload, max_bytes: int, size: int | None = None) -> SourceError:
    measured = f"is {_size(size)}, " if size is not None else "is "
    message = (
        f"{upload.name} {measured}larger than the {_size(max_bytes)} an uploaded file may be "
        "(KATHA_INGEST_MAX_DOWNLOAD_BYTES)"
    )
    return SourceError(message, FailureReason.TOO_LARGE)


def _size(count: int) -> str:
    return f"{count / 1024**2:.1f} MB" if count >= 1024**2 else f"{count:,} bytes"
