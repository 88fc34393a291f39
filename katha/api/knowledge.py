"""Where a business's knowledge comes from: web pages, PDFs, spreadsheets, text and FAQs.

Each source names exactly one location: a `url`, a `configMapRef` key, a `file` mounted
into the agent (or next to the YAML on one machine), or inline `content` / `items`.
"""

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from katha.api.base import API_GROUP, ApiModel
from katha.api.fields import (
    DnsLabel,
    DnsSubdomain,
    Duration,
    HttpUrl,
    Quantity,
    RelativePath,
    check_duration_bounds,
)
from katha.api.refs import ConfigMapKeyRef, SecretRef

SOURCE_TYPES = ("web", "pdf", "spreadsheet", "text", "faq")
# On a Business: a value no index writer run has answered yet asks for one now
# (`katha refresh` writes the time; `kubectl annotate --overwrite` works the same).
REFRESH_ANNOTATION = f"{API_GROUP}/refresh-requested"
LOCATIONS = ("url", "configMapRef", "file", "content")


class _Named(ApiModel):
    name: DnsLabel | None = Field(
        default=None, description="A short id for this source, shown in citations and status."
    )


def _location_rule(schema: dict[str, Any], model: type[Any]) -> None:
    """The CEL twin of `_exactly_one_location`, so the API server refuses the same mistake."""
    checks = ", ".join(f"has(self.{field})" for field in model.locations)
    schema["x-kubernetes-validations"] = [
        {
            "rule": f"[{checks}].filter(x, x).size() == 1",
            "message": f"give exactly one of {', '.join(model.locations)}",
        }
    ]


class _Located(_Named):
    model_config = ConfigDict(json_schema_extra=_location_rule)
    locations: ClassVar[tuple[str, ...]] = ("url", "configMapRef", "file")

    url: HttpUrl | None = None
    config_map_ref: ConfigMapKeyRef | None = None
    file: RelativePath | None = Field(
        default=None,
        description="A path inside the volume spec.knowledge.files names, or relative to "
        "the YAML file when run on one machine.",
    )

    @model_validator(mode="after")
    def _exactly_one_location(self) -> Self:
        given = self.model_dump(by_alias=True, exclude_none=True)
        count = sum(location in given for location in self.locations)
        if count != 1:
            raise PydanticCustomError(
                "source_location",
                "give exactly one of {allowed} for this {kind} source (found {count})",
                {"allowed": ", ".join(self.locations), "kind": given["type"], "count": count},
            )
        return self


class WebSource(_Named):
    """A web page, or a site crawled within the same host, honouring robots.txt."""

    type: Literal["web"]
    url: HttpUrl
    max_pages: int = Field(default=20, ge=1, le=1000, description="Most pages to fetch.")
    max_depth: int = Field(default=2, ge=0, le=5, description="Links followed from the url.")


class PdfSource(_Located):
    """A PDF document (menus, brochures) with a text layer."""

    type: Literal["pdf"]


class SpreadsheetSource(_Located):
    """An .xlsx or .csv price list; one chunk per row keeps its column names."""

    type: Literal["spreadsheet"]
    sheets: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50, description="Sheets to read; empty means all."
    )


class TextSource(_Located):
    """Plain text or Markdown, inline or from a location."""

    type: Literal["text"]
    locations: ClassVar[tuple[str, ...]] = ("content", "url", "configMapRef", "file")

    content: str | None = Field(default=None, min_length=1, max_length=262144)


FaqLanguage = Literal["si", "en", "singlish", "ta"]
# The source name the owner's own FAQ (spec.knowledge.faq) is indexed under.
OWNER_FAQ_SOURCE = "faq:owner"


# The longest question and answer of one FAQ item, in characters.
FAQ_QUESTION_CHARS = 2000
FAQ_ANSWER_CHARS = 8000


class FaqItem(ApiModel):
    q: str = Field(
        min_length=1, max_length=FAQ_QUESTION_CHARS, description="The question as customers ask it."
    )
    a: str = Field(
        min_length=1, max_length=FAQ_ANSWER_CHARS, description="The answer, given verbatim."
    )
    language: FaqLanguage | None = Field(
        default=None, description="The item's language (si, en, singlish, ta), if known."
    )

    @model_serializer(mode="wrap")
    def _leave_out_unknown_language(self, handler: SerializerFunctionWrapHandler) -> Any:
        """An item without a language dumps as before the field existed, so existing FAQ
        sources keep their knowledge digest (no writer run for every Business on upgrade)."""
        dumped: dict[str, Any] = handler(self)
        if dumped.get("language") is None:
            dumped.pop("language", None)
        return dumped


class FaqSource(_Located):
    """Questions and answers: inline `items`, or YAML/JSON from a location."""

    locations: ClassVar[tuple[str, ...]] = ("items", "url", "configMapRef", "file")

    type: Literal["faq"]
    items: list[FaqItem] | None = Field(default=None, min_length=1, max_length=2000)


def _owner_faq_schema() -> dict[str, Any]:
    """Nullable in the CRD, so the API server writes no empty list into every Business and
    it reads back as the model dumps it (an empty FAQ left out, see Knowledge)."""
    item = FaqItem.model_json_schema(by_alias=True)
    item.pop("title", None)
    listed = {"type": "array", "items": item, "maxItems": MAX_OWNER_FAQ}
    return {"anyOf": [listed, {"type": "null"}]}


MAX_OWNER_FAQ = 2000
# The owner's FAQ in all, in bytes of UTF-8 question and answer text: the whole Business
# is one object the API server keeps in etcd (at most ~1.5 MiB), and 2000 items of the
# longest kind (~20 MB, Sinhala three bytes a letter) would be refused there as too large.
MAX_OWNER_FAQ_BYTES = 256 * 1024
OwnerFaq = Annotated[
    list[FaqItem], Field(max_length=MAX_OWNER_FAQ), WithJsonSchema(_owner_faq_schema())
]

KnowledgeSource = Annotated[
    WebSource | PdfSource | SpreadsheetSource | TextSource | FaqSource,
    Field(discriminator="type"),
]

REFRESH_MINIMUM = timedelta(minutes=15)
REFRESH_MAXIMUM = timedelta(days=30)


class VolumeAccessMode(StrEnum):
    """How the index volume is shared. ReadWriteMany (NFS, CephFS, EFS, Filestore...) lets
    the agent's replicas and its index writer run on any node; ReadWriteOnce keeps them all
    on one node (pod affinity), which any storage class can do."""

    READ_WRITE_ONCE = "ReadWriteOnce"
    READ_WRITE_MANY = "ReadWriteMany"


class ObjectStore(ApiModel):
    """The index in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, R2...): every
    replica reads it from any node, and no volume is made."""

    url: str = Field(
        pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*'()/-]*)?$",
        max_length=1024,
        description="s3://BUCKET/PREFIX; each Business's index is under PREFIX/NAMESPACE/NAME.",
    )
    endpoint: HttpUrl | None = Field(
        default=None, description="The S3 API's address, for a store other than AWS S3."
    )
    region: str | None = Field(default=None, min_length=1, max_length=64)
    credentials_secret_ref: SecretRef = Field(
        description="A Secret with the keys accessKeyId and secretAccessKey."
    )


def _fixed_once_made(schema: dict[str, Any], model: type[Any]) -> None:
    """Transition rules (checked by the API server on update): what a volume is made with
    cannot change after, so the operator would be refused re-applying it for ever."""
    schema["x-kubernetes-validations"] = [
        {
            "rule": "self.accessMode == oldSelf.accessMode",
            "message": "accessMode is fixed when the index volume is made: to move, create "
            "the Business again (or under another name) with the new mode",
        },
        {
            "rule": "has(self.storageClassName) == has(oldSelf.storageClassName) && "
            "(!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)",
            "message": "storageClassName is fixed when the index volume is made",
        },
        {
            "rule": "has(self.objectStore) == has(oldSelf.objectStore)",
            "message": "the index cannot move between a volume and object storage: create "
            "the Business again with the storage it should have",
        },
    ]


class KnowledgeStorage(ApiModel):
    model_config = ConfigDict(json_schema_extra=_fixed_once_made)

    size: Quantity = Field(default="1Gi", description="Size of the index volume.")
    storage_class_name: str | None = Field(default=None, min_length=1, max_length=253)
    access_mode: VolumeAccessMode = Field(
        default=VolumeAccessMode.READ_WRITE_ONCE,
        description="ReadWriteMany lets replicas and the index writer run on any node.",
    )
    object_store: ObjectStore | None = Field(
        default=None, description="Keep the index in object storage instead of a volume."
    )
    retain_on_delete: bool = Field(
        default=False,
        description="Keep the index (volume or objects) and uploaded documents when the "
        "Business is deleted.",
    )


class KnowledgeFiles(ApiModel):
    """A volume the platform fills with the files that `file:` sources name."""

    claim_name: DnsSubdomain = Field(
        description="A PersistentVolumeClaim in the Business's namespace; the index writer "
        "mounts it read-only and reads `file:` paths inside it."
    )


class Knowledge(ApiModel):
    sources: list[KnowledgeSource] = Field(default_factory=list, max_length=100)
    refresh_interval: Duration = Field(
        default="24h", description="How often sources are fetched again (15m to 30d)."
    )
    storage: KnowledgeStorage = Field(default_factory=KnowledgeStorage)
    files: KnowledgeFiles | None = Field(
        default=None, description="Where `file:` sources live in a cluster."
    )
    faq: OwnerFaq = Field(
        default_factory=list,
        description="The owner's questions and answers (kept in the console), indexed as "
        "the source faq:owner.",
    )

    @model_serializer(mode="wrap")
    def _leave_out_empty_faq(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """An empty owner FAQ is left out, so the knowledge digest of a Business without one
        is what it was before the field existed: upgrading the operator starts no writer
        run for every Business."""
        dumped: dict[str, Any] = handler(self)
        if not dumped.get("faq"):
            dumped.pop("faq", None)
        return dumped

    @field_validator("faq")
    @classmethod
    def _faq_fits_one_object(cls, faq: list[FaqItem]) -> list[FaqItem]:
        size = sum(len(item.q.encode()) + len(item.a.encode()) for item in faq)
        if size > MAX_OWNER_FAQ_BYTES:
            raise PydanticCustomError(
                "faq_too_large",
                "the FAQ holds {size} KiB of questions and answers; at most {most} KiB in all "
                "(shorten or remove some answers)",
                {"size": -(-size // 1024), "most": MAX_OWNER_FAQ_BYTES // 1024},
            )
        return faq

    @field_validator("refresh_interval")
    @classmethod
    def _refresh_bounds(cls, value: str) -> str:
        return check_duration_bounds(value, REFRESH_MINIMUM, REFRESH_MAXIMUM)

    @model_validator(mode="after")
    def _unique_source_names(self) -> Self:
        names = [source.name for source in self.sources if source.name is not None]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise PydanticCustomError(
                "duplicate_source",
                "source names must be unique; repeated: {names}",
                {"names": ", ".join(duplicates)},
            )
        return self
