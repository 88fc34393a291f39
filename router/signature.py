"""X-Hub-Signature-256: HMAC-SHA256 of the raw body with a Meta app's secret, checked first."""

import hashlib
import hmac
from collections.abc import Iterable

PREFIX = "sha256="


def sign(body: bytes, app_secret: bytes) -> str:
    """The header value Meta sends for `body` (tests and the benchmark sign with it too)."""
    return PREFIX + hmac.new(app_secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, app_secrets: Iterable[bytes]) -> bytes | None:
    """The app secret that signed `body`, or None when no configured secret did.

    Several Meta apps may deliver to one router, so every distinct secret is tried; each
    comparison is constant-time and every secret is always tried, so the timing says
    nothing about which (if any) matched.
    """
    if not header or not header.startswith(PREFIX):
        return None
    try:
        claimed = bytes.fromhex(header[len(PREFIX) :])
    except ValueError:
        return None
    matched: bytes | None = None
    for secret in app_secrets:
        digest = hmac.new(secret, body, hashlib.sha256).digest()
        if hmac.compare_digest(digest, claimed) and matched is None:
            matched = secret
    return matched
