"""What every component's settings share: environment prefixes, log setup, and secret hygiene.

Each component defines its own `ComponentSettings` subclass with its own env prefix
(KATHA_ROUTER_, KATHA_AGENT_, ...), and builds it in its factory, never at import time.
"""

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values people leave in a config by accident; a service must refuse to start with them.
PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "changethis",
        "secret",
        "password",
        "token",
        "xxx",
        "todo",
        "replace-me",
        "your-token",
        "your-token-here",
        "your-app-secret",
        "example",
    }
)


class PlaceholderSecretError(ValueError):
    """A secret setting still holds a placeholder such as "changeme"."""


def refuse_placeholder(value: SecretStr) -> SecretStr:
    text = value.get_secret_value().strip()
    if text.lower() in PLACEHOLDER_SECRETS or len(text) < 8:
        raise PlaceholderSecretError(
            "looks like a placeholder or is shorter than 8 characters; set the real secret"
        )
    return value


# A secret that is refused when left as a placeholder; it is never printed in clear.
Secret = Annotated[SecretStr, AfterValidator(refuse_placeholder)]


class LogFormat(StrEnum):
    AUTO = "auto"  # pretty on a terminal, JSON otherwise
    JSON = "json"
    CONSOLE = "console"


class ComponentSettings(BaseSettings):
    """Settings every component has; subclasses set `env_prefix` in their model_config."""

    model_config = SettingsConfigDict(
        env_prefix="KATHA_",
        env_file=None,
        extra="ignore",
        frozen=True,
        validate_default=True,
    )

    log_level: str = Field(default="INFO", pattern=r"^(?i)(debug|info|warning|error|critical)$")
    log_format: LogFormat = LogFormat.AUTO
    metrics_port: int = Field(default=9090, ge=0, le=65535)
