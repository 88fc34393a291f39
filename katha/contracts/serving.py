"""The contract between the operator and the agent runtime: the Serve application's args.

The operator renders a Ray Serve config whose application runs
`agent_runtime.serve_app:build_app` with these args; the agent validates them with the
same model. One builder serves every tenant: the tenant is data, not code.
"""

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field

from katha.api.business import BusinessSpec
from katha.contracts.messages import MessageType

AGENT_IMPORT_PATH = "agent_runtime.serve_app:build_app"
AGENT_PORT = 8000
INDEX_MOUNT_PATH = "/var/lib/katha/index"
# The documents a shop owner uploaded sit beside the tenant's database, in the same volume
# or bucket: ROOT/NAMESPACE/NAME.documents. The agent writes them (the console's uploads);
# only the index writer reads them.
DOCUMENTS_SUFFIX = ".documents"
# What the shared agent reads from a customer's message: text, a chosen button or list
# item, a voice note, and a photo, video or document with its caption. A voice note is
# transcribed, a photo described and a document read where the Business names the models
# (`AgentAppArgs.voice`, `.vision`); without them the customer is told politely that a
# person will listen or look, and the owner is told. The routes the operator and `katha
# up` write carry it; the router answers other types (stickers, locations) with its polite
# text-only reply itself.
AGENT_READS: tuple[MessageType, ...] = (
    MessageType.TEXT,
    MessageType.INTERACTIVE,
    MessageType.BUTTON,
    MessageType.IMAGE,
    MessageType.VIDEO,
    MessageType.DOCUMENT,
    MessageType.AUDIO,
)


class LlmEndpoint(BaseModel):
    """An OpenAI-compatible endpoint (chat completions; audio transcriptions for `voice`),
    resolved by the operator from the Business's model; `base_url` ends where `/v1` does."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(pattern=r"^https?://")
    model: str = Field(min_length=1)
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding the API key, if one is needed."
    )


class AgentAppArgs(BaseModel):
    """What `build_app` receives for one tenant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str = Field(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$", description="namespace/name")
    business: BusinessSpec
    index_dir: str = INDEX_MOUNT_PATH
    llm: LlmEndpoint | None = None
    voice: LlmEndpoint | None = Field(
        default=None,
        description="An OpenAI-compatible speech-to-text endpoint (`POST {base_url}/audio/"
        "transcriptions`, e.g. vLLM serving a Whisper model) for voice notes; without one a "
        "voice note is handed to a person.",
    )
    vision: LlmEndpoint | None = Field(
        default=None,
        description="An OpenAI-compatible chat endpoint whose model reads images (image_url "
        "parts) for customers' photos; without one a photo is handed to a person.",
    )
    knowledge_revision: str = Field(
        default="", description="Changes whenever the knowledge sources change: refresh then."
    )
    knowledge_dir: str | None = Field(
        default=None,
        description="Where this tenant's `file:` sources are (one machine); else the agent's "
        "KATHA_AGENT_KNOWLEDGE_DIR, the mounted knowledge volume.",
    )
    configmap_dir: str | None = Field(
        default=None,
        description="Where `configMapRef` sources are; else KATHA_AGENT_CONFIGMAP_DIR.",
    )


def knowledge_revision(spec: BusinessSpec, content: str = "") -> str:
    """A short digest of the knowledge sources (and of `content`, e.g. a digest of the local
    files they name): when it changes, the agent re-indexes."""
    sources = spec.knowledge.model_dump(mode="json", by_alias=True, include={"sources"})
    text = json.dumps(sources, sort_keys=True, ensure_ascii=False) + content
    return hashlib.sha256(text.encode()).hexdigest()[:16]


INDEX_PATH = "/v1/index"


class IndexStats(BaseModel):
    """The state of a tenant's knowledge index: what an agent reports at `GET /v1/index`, and
    what the index writer leaves as its termination message for the operator to read."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    state: str = Field(default="empty", description="empty | indexing | ready | failed")
    documents: int = Field(default=0, ge=0)
    chunks: int = Field(default=0, ge=0)
    index_version: int = Field(default=0, ge=0, alias="indexVersion")
    last_indexed: str | None = Field(default=None, alias="lastIndexed")
    message: str | None = None
    failed_sources: list[str] = Field(
        default_factory=list,
        alias="failedSources",
        description="Sources the last refresh could not read (their earlier chunks stay).",
    )
