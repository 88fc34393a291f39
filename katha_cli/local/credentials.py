"""The WhatsApp credentials of each Business on one machine, from its `credentialsSecretRef`:
a `kind: Secret` document in the folder (keys accessToken, appSecret, verifyToken, as in the
cluster), `.env` lines named after the Secret (`KANDY_BAKERY_WHATSAPP_ACCESS_TOKEN` for the
Secret `kandy-bakery-whatsapp`), or the process environment (which wins). What is missing
is generated once and kept in the state folder."""

import base64
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from katha.api import Business
from katha.contracts.routing import Credentials
from katha.settings import PlaceholderSecretError, refuse_placeholder
from katha_cli.local.state import write_private

CREDENTIAL_KEYS = ("accessToken", "appSecret", "verifyToken")
GENERATED_PREFIX = "local-"


class CredentialsError(Exception):
    """A Business's credentials cannot be settled; the message is one line for the user."""


@dataclass(frozen=True)
class SettledCredentials:
    credentials: Credentials
    origin: str  # where the access token came from, for the summary
    live: bool  # a real access token: replies go to the Graph API, not the outbox


def secret_values(document: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """A Secret document's namespace, name and decoded values (ValueError: not base64)."""
    metadata = document.get("metadata") or {}
    values: dict[str, str] = {}
    for key, value in (document.get("data") or {}).items():
        values[str(key)] = base64.b64decode(str(value), validate=True).decode()
    for key, value in (document.get("stringData") or {}).items():
        values[str(key)] = str(value)
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or ""), values


def env_prefix(secret_name: str) -> str:
    """`kandy-bakery-whatsapp` -> `KANDY_BAKERY_WHATSAPP_`."""
    return re.sub(r"[^A-Z0-9]", "_", secret_name.upper()) + "_"


def env_name(secret_name: str, key: str) -> str:
    """`accessToken` of `kandy-bakery-whatsapp` -> `KANDY_BAKERY_WHATSAPP_ACCESS_TOKEN`."""
    return env_prefix(secret_name) + re.sub(r"(?<!^)([A-Z])", r"_\1", key).upper()


def settle_credentials(
    business: Business,
    secret_docs: dict[tuple[str, str], dict[str, str]],
    env: dict[str, str],
    generated: "GeneratedSecrets",
) -> SettledCredentials:
    namespace = business.metadata.namespace or "default"
    secret = business.spec.whatsapp.credentials_secret_ref.name
    document = secret_docs.get((namespace, secret)) or secret_docs.get(("", secret)) or {}
    values: dict[str, str] = {}
    origin: dict[str, str] = {}
    for key in CREDENTIAL_KEYS:
        variable = env_name(secret, key)
        if env.get(variable, "").strip():
            values[key], origin[key] = env[variable].strip(), variable
        elif document.get(key, "").strip():
            values[key], origin[key] = document[key].strip(), f"Secret {secret}"
    for key, value in values.items():
        try:
            refuse_placeholder(SecretStr(value))
        except PlaceholderSecretError as error:
            raise CredentialsError(
                f"{origin[key]} ({key}) for {namespace}/{secret}: {error}"
            ) from None
    live = "accessToken" in values
    if live:
        missing = [key for key in CREDENTIAL_KEYS if key not in values]
        if missing:
            names = ", ".join(f"{key} ({env_name(secret, key)})" for key in missing)
            raise CredentialsError(
                f"{namespace}/{secret} has a real accessToken but no {names}: Meta signs "
                "webhooks with the app secret and checks the verify token, so a made-up "
                "one would refuse every real message"
            )
    for key in CREDENTIAL_KEYS:
        if key not in values:
            values[key] = generated.value(f"{namespace}/{secret}", key)
    credentials = Credentials(
        access_token=SecretStr(values["accessToken"]),
        app_secret=SecretStr(values["appSecret"]),
        verify_token=SecretStr(values["verifyToken"]),
    )
    return SettledCredentials(
        credentials, origin.get("accessToken", "generated (local outbox)"), live
    )


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; `#` comments, `export ` and surrounding quotes allowed."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


class GeneratedSecrets:
    """Local credentials made up once and kept (mode 0600) so webhooks stay signed alike
    across restarts and `katha chat` can sign what it sends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._values: dict[str, dict[str, str]] = {}
        if path.is_file():
            try:
                self._values = json.loads(path.read_text())
            except ValueError:
                raise CredentialsError(
                    f"{path} is not valid JSON: delete it to make new local credentials"
                ) from None
        self._changed = False

    def value(self, secret: str, key: str) -> str:
        entry = self._values.setdefault(secret, {})
        if key not in entry:
            entry[key] = GENERATED_PREFIX + secrets.token_urlsafe(24)
            self._changed = True
        return entry[key]

    def save(self) -> None:
        if not self._changed:
            return
        write_private(self.path, json.dumps(self._values, indent=2, sort_keys=True))
        self._changed = False
