"""The operator's settings, read from KATHA_OPERATOR_* environment variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from katha.settings import ComponentSettings


class OperatorSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_OPERATOR_")

    platform_namespace: str = "katha-system"
    image: str = Field(default="ghcr.io/katha-dev/katha:0.1.0", min_length=1)
    ray_version: str = "2.60.0"
    reconcile_interval_seconds: float = Field(
        default=60.0, ge=1, le=3600, description="How often drift is repaired and status refreshed."
    )
    gpu_node_selector: dict[str, str] = Field(default_factory=dict)
    router_labels: dict[str, str] = Field(
        default_factory=lambda: {"app.kubernetes.io/component": "router"},
        description="Labels of the router pods, allowed through each agent's NetworkPolicy.",
    )
    kube_api_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Talk to this API server without credentials (tests, kubectl proxy).",
    )
    liveness_port: int = Field(default=8080, ge=1, le=65535)
    # A reconcile mostly waits on the API server, so many may run at once; the bound keeps
    # a restart with hundreds of tenants from flooding the API server (64: 500 Businesses
    # in 46 s against the emulator; 16: 162 s; 4: 250 s for 200).
    max_concurrent_reconciles: int = Field(default=64, ge=1, le=1000)
