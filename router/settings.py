"""The router's settings, read from KATHA_ROUTER_* environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from katha.settings import ComponentSettings


class RouterSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_ROUTER_")

    host: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces
    port: int = Field(default=8080, ge=1, le=65535)
    max_body_bytes: int = Field(default=512 * 1024, ge=1024, le=16 * 1024 * 1024)
    routes_file: Path | None = Field(
        default=None, description="A routing-table file (one machine); else the ConfigMap."
    )
    routes_configmap: str = "katha-routes"
    namespace: str = "katha-system"
    inbox_url: str = Field(
        default="sqlite:///var/lib/katha/inbox.db",
        pattern=r"^(sqlite:///|redis://|rediss://)",
        description="sqlite:///path for one replica, redis://host:6379/0 for several.",
    )
    graph_api_url: str = Field(default="https://graph.facebook.com/v23.0", pattern=r"^https?://")
    agent_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
