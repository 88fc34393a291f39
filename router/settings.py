"""The router's settings, read from KATHA_ROUTER_* environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from katha.settings import ComponentSettings, Secret


class RouterSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_ROUTER_")

    host: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=512 * 1024, ge=1024, le=16 * 1024 * 1024)
    # On SIGTERM, requests still running after this long are cut off (Meta retries them;
    # accepted messages are already in the inbox): inside Kubernetes' default 30 s grace.
    shutdown_grace_seconds: int = Field(default=10, ge=1, le=300)

    # The routing table: a file on one machine, else one Secret in the platform namespace.
    routes_file: Path | None = Field(
        default=None, description="A routing-table file (one machine); else the Secret."
    )
    routes_secret: str = "katha-routes"  # noqa: S105 - the Secret's name
    namespace: str = "katha-system"
    routes_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    kubernetes_api_url: str | None = Field(
        default=None, description="Defaults to the in-cluster API server."
    )

    inbox_url: str = Field(
        default="sqlite:///var/lib/katha/inbox.db",
        pattern=r"^(sqlite:///|redis://|rediss://)",
        description="sqlite:///path for one replica, redis://host:6379/0 for several.",
    )
    dedupe_days: float = Field(default=7.0, gt=0, description="Meta retries for 7 days.")
    lease_seconds: float = Field(
        default=60.0, gt=0, description="Redis: a crashed replica's messages move after this."
    )
    pseudonym_key: Secret | None = Field(
        default=None,
        description="Keys conversation ids and log pseudonyms; shared by every replica.",
    )
    admin_token: Secret | None = Field(
        default=None, description="Bearer token for /admin calls; none disables them."
    )

    graph_api_url: str = Field(default="https://graph.facebook.com/v23.0", pattern=r"^https?://")
    graph_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    graph_max_attempts: int = Field(default=5, ge=1, le=20)
    number_rate_per_second: float = Field(default=80.0, gt=0)
    recipient_rate_per_second: float = Field(default=1.0, gt=0)
    recipient_burst: int = Field(default=5, ge=1)

    workers_enabled: bool = Field(default=True, description="False: accept only (benchmarks).")
    agent_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    tenant_concurrency: int = Field(default=8, ge=1, le=1024)
    total_concurrency: int = Field(default=64, ge=1, le=4096)
    retry_base_seconds: float = Field(default=1.0, gt=0)
    retry_max_seconds: float = Field(default=60.0, gt=0)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    idle_poll_seconds: float = Field(default=0.05, gt=0, le=5)

    reply_tracking: bool = Field(
        default=False,
        description="Send each reply's language, intent and source URIs to Meta as "
        "biz_opaque_callback_data (echoed in status webhooks); `katha up` turns it on.",
    )

    sender_rate_per_minute: float = Field(default=20.0, gt=0)
    sender_burst: int = Field(default=10, ge=1)
    handoff_timeout_seconds: float = Field(default=24 * 3600.0, gt=0)
    owner_quiet_seconds: float = Field(
        default=1800.0,
        gt=0,
        le=7 * 24 * 3600.0,
        description="After the owner writes to a customer from the WhatsApp Business app "
        "(coexistence), the agent stays quiet in that conversation this long; every further "
        "reply of theirs starts it again.",
    )
    reply_window_seconds: float = Field(default=24 * 3600.0, gt=0)

    store_url: Secret | None = Field(
        default=None,
        description="The conversation store the owner console reads (sqlite:///path, "
        "postgresql://...); unset: conversations are not kept for the console.",
    )
    history_max_pending: int = Field(
        default=10_000,
        ge=100,
        le=1_000_000,
        description="Conversation events kept in memory while the store is unreachable; "
        "past that the oldest are dropped (and counted).",
    )

    # Customers' media, fetched from the Graph API and handed to the agent (router.media).
    # Limits are checked on the size Meta declares and again while the bytes stream in.
    media_audio_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    media_image_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    media_document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    media_video_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    media_sticker_max_bytes: int = Field(default=512 * 1024, ge=1, le=100 * 1024 * 1024)
    media_daily_cap: int = Field(
        default=500,
        ge=0,
        description="Voice notes or photos (what a GPU model reads) fetched per Business per "
        "day, each type counted on its own; past it the agent is told `daily_limit` and "
        "nothing is downloaded. The day is a UTC day (midnight UTC is 05:30 in Sri Lanka), "
        "the same on every replica. A message is counted once its metadata passes the type "
        "and size checks: one refused, or whose metadata cannot be read, takes no place. A "
        "route's `media_daily_limits` for the type wins.",
    )
    media_fetch_seconds: float = Field(
        default=120.0,
        gt=0,
        le=900,
        description="The most one message's media download may take in all (metadata, "
        "bytes and the Graph API client's retries), however slowly the bytes trickle in; "
        "past it the try counts as the Graph API being unavailable.",
    )
    media_fetch_attempts: int = Field(
        default=4,
        ge=1,
        le=50,
        description="Tries of a message while the Graph API cannot serve its media (each "
        "with the client's own retries; in between the message waits in the inbox like any "
        "retry); after the last the agent is told `download_failed`, so a long outage "
        "delays the customer's answer by minutes, not a day.",
    )
