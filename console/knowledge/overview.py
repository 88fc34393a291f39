"""Every knowledge source of a Business with its state, as the owner reads it: the spec's
sources (the platform's, read-only here), the owner's FAQ, and the uploaded documents.

Three places tell the state, and none alone is enough:
- the Business's status (`services.businesses`): the index writer's last run (when, whether
  it succeeded, its Job) and the sources it could not read, with the writer's reason;
- the agent's committed index (through the router): the chunks each source has now;
- the agent's document store (through the router): the uploads, and when each was written.

A source is `failed` when the last run could not read it (earlier chunks are still
served), `indexed` when the committed index holds chunks of it and nothing newer waits,
`pending` when it waits for the writer's next run (new, or uploaded again since), and
`removed` when the index still holds a source no longer there (it leaves at the next run),
and `unknown` while the agent cannot be asked (nothing is claimed then).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from console.businesses import BusinessesUnavailableError, BusinessNotFoundError
from console.knowledge.client import knowledge_sources, list_documents
from console.router_client import RouterRefusedError, RouterUnavailableError
from console.services import ConsoleServices
from katha.api.knowledge import OWNER_FAQ_SOURCE

UPLOAD_PREFIX = "upload:"
State = Literal["indexed", "pending", "failed", "removed", "unknown"]
# The writer's failure words -> a reason the page says in the owner's language. First match
# wins; the writer's own words are shown beside it for whoever fixes the source.
FAILURE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wrong_content", ("is named", "not a pdf", "not an excel", "not a utf-8", "uploads may be")),
    ("too_large", ("larger than", "too large")),
    ("missing", ("no such file", "not found", "cannot be read", "missing", "no location")),
    ("timeout", ("timed out", "timeout")),
    ("blocked", ("blocked", "refused", "robots")),
    ("unreachable", ("unreachable", "cannot be reached", "connection", "dns", "tls")),
    ("no_text", ("no text", "nothing to index", "empty")),
    ("http", ("http ", "status")),
)


class SourceView(BaseModel):
    key: str  # the source as the index names it
    name: str  # what the owner sees
    origin: Literal["spec", "faq", "upload", "index"]
    kind: str
    state: State
    chunks: int = 0
    documents: int = 0
    pages: int | None = None
    failure: str | None = None  # a reason code (FAILURE_WORDS), when failed
    failure_detail: str | None = None  # the writer's own words
    size: int | None = None
    modified: datetime | None = None
    deletable: bool = False  # uploads only: the spec's sources are the platform's


class KnowledgeOverview(BaseModel):
    tenant: str
    sources: list[SourceView]
    last_run: datetime | None = None
    last_run_succeeded: bool | None = None
    writer_job: str | None = None
    last_indexed: datetime | None = None
    index_version: int | None = None
    max_upload_bytes: int | None = None
    agent_unavailable: bool = False  # the documents and chunks could not be read now
    business_unavailable: bool = False  # the Business (its spec and status) could not


def failure_reason(text: str) -> str:
    lowered = text.lower()
    for code, words in FAILURE_WORDS:
        if any(word in lowered for word in words):
            return code
    return "other"


def failed_sources(status: dict[str, Any]) -> dict[str, str]:
    """status.knowledge.failedSources ("key: why") as {key: why}; a line without a key
    (the writer's "... and 3 more") is left out."""
    failed: dict[str, str] = {}
    for line in (status.get("knowledge") or {}).get("failedSources") or []:
        key, separator, why = str(line).partition(": ")
        if separator:
            failed[key] = why
    return failed


def spec_sources(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, name, type) of each spec source, keyed as the writer keys them."""
    found = []
    for position, source in enumerate((spec.get("knowledge") or {}).get("sources") or []):
        kind = str(source.get("type", "source"))
        ref = source.get("configMapRef") or {}
        key = (
            source.get("name")
            or source.get("url")
            or (ref and f"configmap:{ref.get('name')}/{ref.get('key')}")
            or (source.get("file") and f"file:{source['file']}")
            or f"{kind}:inline:{position}"
        )
        found.append((str(key), str(source.get("name") or key), kind))
    return found


async def _business(services: ConsoleServices, tenant: str) -> tuple[dict[str, Any], bool]:
    if services.businesses is None:
        return {}, False
    try:
        return await services.businesses.get(tenant), False
    except BusinessNotFoundError:
        return {}, False
    except BusinessesUnavailableError:
        return {}, True


async def _agent(services: ConsoleServices, tenant: str) -> tuple[dict[str, Any], bool]:
    client = services.router.client
    try:
        documents = await list_documents(client, tenant)
        indexed = await knowledge_sources(client, tenant)
    except (RouterUnavailableError, RouterRefusedError):
        return {}, True
    return {"documents": documents, "indexed": indexed}, False


def _newer(modified: datetime | None, reference: datetime | None) -> bool:
    return modified is not None and (reference is None or modified > reference)


@dataclass
class _Evidence:
    """What the status and the agent say, for telling each source's state."""

    counts: dict[str, dict[str, Any]]  # source -> its chunks in the committed index
    failed: dict[str, str]  # source -> why the last run failed it
    reference: datetime | None  # the last run (or the last indexing): newer is pending
    ran: bool  # a run finished, as far as anything says
    has_status: bool  # the Business has a status (a cluster): its failures are complete
    known: bool = True  # False: the agent did not answer, so no chunks were counted

    def view(self, key: str, name: str, origin: Any, kind: str, **extra: Any) -> SourceView:
        held = self.counts.pop(key, {})
        chunks = int(held.get("chunks", 0))
        state: State = ("indexed" if chunks else "pending") if self.known else "unknown"
        modified = extra.get("modified")
        if modified is not None and _newer(modified, self.reference):
            state = "pending"
        elif modified is not None and not chunks and self.ran and not self.has_status:
            # A run finished since it was stored and indexed nothing of it: it failed,
            # though no status says why (one machine keeps no Business status).
            state, extra = "failed", extra | {"failure": "other"}
        why = self.failed.get(key)
        if why is not None:
            state = "failed"
            extra |= {"failure": failure_reason(why), "failure_detail": why}
        return SourceView(
            key=key, name=name, origin=origin, kind=kind, state=state, chunks=chunks,
            documents=int(held.get("documents", 0)), pages=held.get("pages"), **extra,
        )  # fmt: skip


def _sources(
    spec: dict[str, Any], uploads: list[dict[str, Any]], seen: _Evidence
) -> list[SourceView]:
    sources = [seen.view(key, name, "spec", kind) for key, name, kind in spec_sources(spec)]
    if (spec.get("knowledge") or {}).get("faq"):
        sources.append(seen.view(OWNER_FAQ_SOURCE, "FAQ", "faq", "faq"))
    for doc in uploads:
        modified = _time(doc.get("modified"))
        sources.append(
            seen.view(
                doc["source"],
                doc["name"],
                "upload",
                doc["kind"],
                size=doc["size"],
                modified=modified,
                deletable=True,
            )
        )
    for key in sorted(seen.counts):  # in the index, gone from the spec and the store
        origin: Any = "upload" if key.startswith(UPLOAD_PREFIX) else "index"
        name = key.removeprefix(UPLOAD_PREFIX)
        item = seen.view(key, name, origin, "upload" if origin == "upload" else "source")
        sources.append(item.model_copy(update={"state": "removed"}))
    return sources


async def build(services: ConsoleServices, tenant: str) -> KnowledgeOverview:
    business, business_down = await _business(services, tenant)
    agent, agent_down = await _agent(services, tenant)
    status, spec = business.get("status") or {}, business.get("spec") or {}
    knowledge = status.get("knowledge") or {}
    indexed, documents = agent.get("indexed") or {}, agent.get("documents") or {}
    # The Business's status in a cluster; the index's own run log on one machine.
    last_run = _time(knowledge.get("lastRun")) or _time(indexed.get("last_run"))
    succeeded = knowledge.get("lastRunSucceeded", indexed.get("last_run_succeeded"))
    last_indexed = _time(indexed.get("last_indexed"))
    seen = _Evidence(
        counts={item["source"]: item for item in indexed.get("sources", [])},
        failed=failed_sources(status),
        reference=max((t for t in (last_run, last_indexed) if t is not None), default=None),
        ran=succeeded is not None,
        has_status=bool(knowledge),
        known=not agent_down,
    )
    return KnowledgeOverview(
        tenant=tenant,
        sources=_sources(spec, documents.get("documents", []), seen),
        last_run=last_run,
        last_run_succeeded=succeeded,
        writer_job=knowledge.get("writerJob"),
        last_indexed=last_indexed,
        index_version=indexed.get("index_version"),
        max_upload_bytes=documents.get("max_bytes"),
        agent_unavailable=agent_down,
        business_unavailable=business_down,
    )


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
