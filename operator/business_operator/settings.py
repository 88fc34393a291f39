"""The operator's settings, read from KATHA_OPERATOR_* environment variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from katha.settings import ComponentSettings


class OperatorSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_OPERATOR_")

    platform_namespace: str = "katha-system"
    routes_configmap: str = "katha-routes"
    router_service_account: str = "katha-router"
    image: str = Field(default="ghcr.io/katha-dev/katha:latest", min_length=1)
    reconcile_interval_seconds: float = Field(default=60.0, ge=5, le=3600)
