"""The agent's settings, read from KATHA_AGENT_* environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from katha.settings import ComponentSettings, Secret


class AgentSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_AGENT_")

    llm_api_key: Secret | None = Field(
        default=None, description="API key for an OpenAI-compatible endpoint that needs one."
    )
    request_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    knowledge_dir: Path = Field(
        default=Path("/etc/katha/knowledge"), description="Where `file:` sources are mounted."
    )
    configmap_dir: Path | None = Field(
        default=None, description="Where `configMapRef` sources are mounted."
    )
    index_read_only: bool = Field(
        default=False,
        description="Serve the index read-only: never index or refresh (in a cluster one "
        "index writer per Business does), and answer from the newest committed version.",
    )
    index_poll_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How often a read-only replica checks for a newly committed index "
        "version and moves on to it (0: never; it then serves the version it opened).",
    )
    state_dir: Path | None = Field(
        default=None,
        description="Where the agent keeps what it writes (conversations, unanswered "
        "questions); default: beside the index, which a read-only index cannot be.",
    )
    postgres_url: Secret | None = Field(
        default=None, description="Keep conversations in Postgres instead of SQLite."
    )
    conversation_retention_days: float = Field(default=30.0, gt=0, le=3650)
    web_search_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    tavily_api_key: Secret | None = None
    web_search_proxy: Secret | None = Field(
        default=None, description="Egress proxy for DuckDuckGo (ddgs also reads DDGS_PROXY)."
    )
    web_search_ca_file: Path | None = Field(
        default=None, description="CA bundle to trust for DuckDuckGo (a TLS-inspecting proxy)."
    )
    query_cache_size: int = Field(
        default=1024,
        ge=0,
        le=100_000,
        description="Questions whose vector and search results each replica remembers "
        "(per index version); a repeated question then skips the model and the index. "
        "0: none.",
    )
    query_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Threads a Serve replica's bundled model embeds one question on. One: "
        "concurrent questions already use the replica's cores, and threads splitting one "
        "short question cost more CPU than they save time (indexing runs in its own Ray "
        "task, on every core).",
    )
    replica_cpus: float = Field(
        default=1.0, ge=0, le=64, description="CPUs each Serve replica reserves from Ray."
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="The largest document an owner may upload through the console (the "
        "index writer reads up to KATHA_INGEST_MAX_DOWNLOAD_BYTES of one; keep this below).",
    )
