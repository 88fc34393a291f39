"""The console's settings, read from KATHA_CONSOLE_* environment variables."""

import ipaddress
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from katha.settings import ComponentSettings, Secret


class ConsoleSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_CONSOLE_")

    host: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces
    port: int = Field(default=8080, ge=0, le=65535)
    metrics_port: int = Field(
        default=9102,
        ge=0,
        le=65535,
        description="Prometheus /metrics on a port of its own (never behind the Ingress); "
        "0 turns it off.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8080",
        pattern=r"^https?://",
        description="Where owners reach the console (OIDC redirects, links in codes).",
    )
    store_url: Secret | None = Field(
        default=None, description="The conversation store (sqlite:///path, postgresql://...)."
    )
    router_url: str = Field(
        default="http://katha-router:8080",
        pattern=r"^https?://",
        description="The router's admin API: take over, reply as a person, release, codes.",
    )
    router_admin_token: Secret | None = Field(
        default=None, description="Bearer token for the router's /admin calls."
    )
    businesses: Literal["none", "kubernetes"] = Field(
        default="none",
        description="Where owners' settings and FAQs change the Business: `kubernetes` (in a "
        "cluster: server-side apply as field manager katha-console; the chart sets it), "
        "`none` (those pages say they are not set up; `katha up` passes the Business "
        "files itself).",
    )
    kubernetes_api_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="The Kubernetes API (tests). Default: the pod's own API server, as its "
        "service account.",
    )
    session_secret: Secret | None = Field(
        default=None,
        description="Signs session cookies and CSRF tokens; shared by every replica.",
    )
    secure_cookies: bool = Field(
        default=True,
        description="Cookies only over HTTPS; `katha up` turns it off for http://127.0.0.1.",
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    session_idle_minutes: float = Field(
        default=120.0,
        gt=0,
        le=24 * 60 * 30,
        description="A session unused this long ends, whatever `session_hours` says.",
    )
    trusted_proxies: str = Field(
        default="",
        pattern=r"^[0-9A-Fa-f.:/,\s]*$",
        description="Comma-separated addresses or CIDRs of the proxies (the Ingress "
        "controller) whose X-Forwarded-For is believed. Empty: none, and the per-client "
        "limit on sign-in codes is off (every client would look like the proxy).",
    )
    code_minutes: float = Field(default=10.0, gt=0, le=60)
    # OpenID Connect (optional): the platform's identity provider.
    oidc_issuer: str | None = Field(default=None, pattern=r"^https?://")
    oidc_client_id: str | None = None
    oidc_client_secret: Secret | None = None
    oidc_businesses_claim: str = Field(
        default="katha_businesses",
        description="ID-token claim listing the Businesses a user may see, as "
        "namespace/name, or namespace/name:role with role owner or staff.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError: refused
        return value

    def proxies(self) -> list[str]:
        """`trusted_proxies` as a list; never "*" (anyone could then claim any address)."""
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]
