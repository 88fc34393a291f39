"""The session secret and what it signs: code and number HMACs, CSRF tokens, short signed
cookies (the OpenID Connect state).

Every replica must share `KATHA_CONSOLE_SESSION_SECRET`: a code asked for on one replica is
checked on another. Without it the console makes one up for this process (fine for one
machine; every restart then signs everyone out) and says so once in the log.
"""

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from functools import cache
from typing import Any

from console.settings import ConsoleSettings
from katha.observability import get_logger

log = get_logger("console.auth")


@cache
def _process_secret() -> bytes:
    log.warning("console.session_secret_missing", effect="sessions end when this process does")
    return secrets.token_bytes(32)


def secret_key(settings: ConsoleSettings) -> bytes:
    if settings.session_secret is None:
        return _process_secret()
    return settings.session_secret.get_secret_value().encode()


def keyed_hash(settings: ConsoleSettings, purpose: str, value: str) -> str:
    """HMAC-SHA-256 of `value`, separated by `purpose` (a code never equals a number)."""
    message = f"{purpose}\0{value}".encode()
    return hmac.new(secret_key(settings), message, hashlib.sha256).hexdigest()


def plain_hash(value: str) -> str:
    """SHA-256 of a random value (a session id, an API token): no key is needed, since
    nobody can guess 256 random bits, and a leaked table still opens nothing."""
    return hashlib.sha256(value.encode()).hexdigest()


def same(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def sign(
    settings: ConsoleSettings, purpose: str, payload: dict[str, Any], expires: datetime
) -> str:
    """`payload` as a tamper-proof string that stops being accepted at `expires`."""
    body = json.dumps({**payload, "exp": expires.timestamp()}, separators=(",", ":"))
    encoded = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{encoded}.{keyed_hash(settings, purpose, encoded)}"


def unsign(
    settings: ConsoleSettings, purpose: str, value: str, now: datetime
) -> dict[str, Any] | None:
    """The payload `sign` made, or None when it was altered, is for another purpose, or
    has expired."""
    encoded, _, mac = value.partition(".")
    if not mac or not same(mac, keyed_hash(settings, purpose, encoded)):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except ValueError:
        return None
    if not isinstance(payload, dict) or float(payload.get("exp", 0)) <= now.timestamp():
        return None
    return payload
