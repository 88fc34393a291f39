"""The agent's settings, read from KATHA_AGENT_* environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from katha.settings import ComponentSettings, Secret


class AgentSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_AGENT_")

    index_dir: Path = Field(default=Path("/var/lib/katha/index"))
    business_file: Path = Field(
        default=Path("/etc/katha/business.yaml"), description="The tenant's Business spec."
    )
    llm_api_key: Secret | None = Field(
        default=None, description="API key for an OpenAI-compatible endpoint that needs one."
    )
    request_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
