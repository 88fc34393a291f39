"""X-Hub-Signature-256: HMAC-SHA256 of the raw body with a Meta app's secret, checked first.

The body is not authenticated until a secret verifies it, so the work spent on it is
bounded: the candidate secrets come from the phone number ids the body names (found by a
bounded scan, never a JSON parse), and at most HASH_BUDGET_BYTES are hashed per request.
"""

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Sequence

PREFIX = "sha256="
# About four full-size (512 KiB) bodies, ~1.3 ms of hashing on this machine; a webhook body
# names one Meta app, so a legitimate request needs one hash.
HASH_BUDGET_BYTES = 2 * 1024 * 1024
MAX_CLAIMED_NUMBERS = 8
# Meta writes `"phone_number_id":"<digits>"` in each change's metadata. A body that spells
# the key otherwise (escapes) is not lost: with no id named, every secret is tried when
# that fits the budget.
_PHONE_NUMBER_ID = re.compile(rb'"phone_number_id"\s*:\s*"(\d{1,32})"')


def sign(body: bytes, app_secret: bytes) -> str:
    """The header value Meta sends for `body` (tests and the benchmark sign with it too)."""
    return PREFIX + hmac.new(app_secret, body, hashlib.sha256).hexdigest()


def claimed_numbers(body: bytes, limit: int = MAX_CLAIMED_NUMBERS) -> list[str]:
    """The distinct phone number ids `body` names, first `limit` of them, in order."""
    found: list[str] = []
    for match in _PHONE_NUMBER_ID.finditer(body):
        number = match.group(1).decode("ascii")
        if number not in found:
            found.append(number)
            if len(found) >= limit:
                break
    return found


def candidate_secrets(
    body: bytes,
    secret_for: Callable[[str], bytes | None],
    every_secret: Sequence[bytes],
    budget: int = HASH_BUDGET_BYTES,
) -> tuple[bytes, ...]:
    """The app secrets worth trying for `body`, never more than `budget` bytes of hashing.

    The secrets of the routed numbers the body names come first (and alone); a body that
    names none is tried against every secret only while that fits the budget, else none.
    """
    affordable = max(1, budget // max(1, len(body)))
    named = dict.fromkeys(
        secret for secret in map(secret_for, claimed_numbers(body)) if secret is not None
    )
    if named:
        return tuple(named)[:affordable]
    return tuple(every_secret) if len(every_secret) <= affordable else ()


def _claimed_digest(header: str | None) -> bytes | None:
    if not header or not header.startswith(PREFIX):
        return None
    try:
        return bytes.fromhex(header[len(PREFIX) :])
    except ValueError:
        return None


def authenticate(
    body: bytes,
    header: str | None,
    secret_for: Callable[[str], bytes | None],
    every_secret: Sequence[bytes],
    budget: int = HASH_BUDGET_BYTES,
) -> bytes | None:
    """The app secret that signed `body`, trying only `candidate_secrets`; a missing or
    malformed header costs no scan and no hashing at all."""
    claimed = _claimed_digest(header)
    if claimed is None:
        return None
    return _matching(body, claimed, candidate_secrets(body, secret_for, every_secret, budget))


def verify_signature(body: bytes, header: str | None, app_secrets: Iterable[bytes]) -> bytes | None:
    """The app secret that signed `body`, or None when none of `app_secrets` did."""
    claimed = _claimed_digest(header)
    return None if claimed is None else _matching(body, claimed, app_secrets)


def _matching(body: bytes, claimed: bytes, app_secrets: Iterable[bytes]) -> bytes | None:
    """Each comparison is constant-time and every candidate is always tried, so the timing
    says nothing about which (if any) matched; which candidates are tried depends only on
    the body, which the sender already knows."""
    matched: bytes | None = None
    for secret in app_secrets:
        digest = hmac.new(secret, body, hashlib.sha256).digest()
        if hmac.compare_digest(digest, claimed) and matched is None:
            matched = secret
    return matched
