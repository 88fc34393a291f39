"""Where tenant indexes live: a local folder or an S3-compatible bucket, and how LanceDB
reaches it. The writer, the readers, the writer's summary and the agent all go through here.

An `s3://bucket/prefix` root is read and written by LanceDB itself; the credentials and the
endpoint come from the standard AWS variables (the operator sets them from a Secret), so
the same image talks to AWS S3, MinIO or Ceph without any Katha-specific setting.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.index.schema import TABLE, tenant_path
from katha.contracts.serving import DOCUMENTS_SUFFIX

OBJECT_STORE_SCHEMES = ("s3://",)
# Standard AWS variable -> LanceDB (object_store) storage option. AWS_ENDPOINT_URL_S3 is the
# SDKs' per-service override, so it wins over AWS_ENDPOINT_URL.
_AWS_OPTIONS = (
    ("AWS_ACCESS_KEY_ID", "aws_access_key_id"),
    ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"),
    ("AWS_SESSION_TOKEN", "aws_session_token"),
)


class IndexNotLocalError(ValueError):
    """Something that needs a local folder was given an index in object storage."""


@dataclass(frozen=True)
class IndexLocation:
    """An index root or one tenant's database: a folder path or an `s3://` URI.

    `storage_options` hold credentials: they are kept out of `repr` so a log line or a
    traceback that shows a location never shows a secret.
    """

    uri: str
    storage_options: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)

    @property
    def is_local(self) -> bool:
        return not self.uri.startswith(OBJECT_STORE_SCHEMES)

    @property
    def path(self) -> Path:
        """The local folder; IndexNotLocalError for object storage."""
        if not self.is_local:
            raise IndexNotLocalError(f"{self.uri} is in object storage, not a local folder")
        return Path(self.uri)

    def child(self, namespace: str | None, name: str) -> "IndexLocation":
        """One tenant's database under this root: ROOT/NAMESPACE/NAME (as `tenant_path`)."""
        if self.is_local:
            return IndexLocation(str(tenant_path(self.path, namespace, name)))
        uri = f"{self.uri.rstrip('/')}/{namespace or 'default'}/{name}"
        return IndexLocation(uri, self.storage_options)

    def documents(self) -> "IndexLocation":
        """Where the documents a shop owner uploaded live, for the tenant database at this
        location: ROOT/NAMESPACE/NAME.documents, in the same volume or bucket. No database
        can be called that: Business names are DNS labels, without dots."""
        uri = f"{self.uri.rstrip('/')}{DOCUMENTS_SUFFIX}"
        return IndexLocation(uri, self.storage_options)

    def connect(self, **options: Any) -> Any:
        """A LanceDB connection to this database (a local one as before: by its path)."""
        # LanceDB (about 45 MiB) loads with the first connection, not with every module
        # that names a location: `katha up` binds the agents' applications without one.
        import lancedb

        if self.is_local:
            return lancedb.connect(self.path, **options)
        return lancedb.connect(self.uri, storage_options=dict(self.storage_options), **options)

    def has_table(self) -> bool:
        """Whether the `chunks` table was ever committed here (reading only)."""
        if self.is_local:
            return (self.path / f"{TABLE}.lance").is_dir()
        return TABLE in self.connect().list_tables().tables

    def __str__(self) -> str:
        return self.uri


def index_location(
    where: "str | Path | IndexLocation", environ: Mapping[str, str] | None = None
) -> IndexLocation:
    """`where` as a location; an `s3://` URI gets its storage options from `environ`
    (default: this process's environment)."""
    if isinstance(where, IndexLocation):
        return where
    text = str(where)
    if not text.startswith(OBJECT_STORE_SCHEMES):
        return IndexLocation(str(Path(where)))
    return IndexLocation(text, s3_storage_options(os.environ if environ is None else environ))


def s3_storage_options(environ: Mapping[str, str]) -> dict[str, str]:
    """LanceDB's S3 options from the standard AWS variables. Unset ones are left out, so
    LanceDB's own credential chain (a web identity token, an instance profile) still works."""
    options = {key: environ[name] for name, key in _AWS_OPTIONS if environ.get(name)}
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if region:
        options["aws_region"] = region
    endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        options["aws_endpoint"] = endpoint
        if endpoint.startswith("http://"):
            # MinIO or Ceph inside the cluster, often without TLS: refused unless allowed.
            options["allow_http"] = "true"
    return options
