"""Per-Business API tokens for integrations (a shop's order system, a CRM).

A token reads `katha_<id>_<secret>`: the id finds its row, the secret's SHA-256 must match
the stored one. The token itself is shown once, when it is made, and never kept. A token's
principal is `staff` on its one Business: it may read and act, never manage tokens. Each
token ends (`expires_at`, 90 days after it is made unless its owner chose between 1 and
365): a token copied into a system long forgotten stops working by itself.
"""

import secrets
from datetime import datetime, timedelta

from console.auth.keys import plain_hash, same
from console.auth.principal import Principal
from console.services import ConsoleServices
from katha.store.console_tables import ApiTokenRow, ConsoleTables

PREFIX = "katha_"
# How stale `last_used_at` may get before a call writes it again.
USED_AFTER = timedelta(minutes=1)
DEFAULT_DAYS = 90
MAX_DAYS = 365


def ends(row: ApiTokenRow) -> datetime:
    """When the token stops working. A row without an end was written by a console of the
    release before token ends, still serving while this one rolls out (the store's
    migration gave the rows before it theirs): it ends as a new token would."""
    return row.expires_at or row.created_at + timedelta(days=DEFAULT_DAYS)


def new_token() -> tuple[str, str]:
    """A fresh (id, token)."""
    token_id = secrets.token_hex(8)
    return token_id, f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


async def issue(
    services: ConsoleServices,
    tenant: str,
    name: str,
    created_by: str,
    days: int = DEFAULT_DAYS,
) -> tuple[ApiTokenRow, str]:
    """Store a new token of `tenant`, valid for `days`; its row and the token (to show
    once)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a token works for 1 to {MAX_DAYS} days, not {days}")
    token_id, token = new_token()
    now = services.clock()
    row = ApiTokenRow(
        id=token_id,
        tenant=tenant,
        name=name,
        token_hash=plain_hash(token),
        created_at=now,
        created_by=created_by,
        expires_at=now + timedelta(days=days),
    )
    await ConsoleTables.of(services.store).add_api_token(row)
    return row, token


async def token_principal(services: ConsoleServices, token: str) -> Principal | None:
    """The principal of a valid token, or None."""
    if not token.startswith(PREFIX):
        return None
    token_id, _, secret = token.removeprefix(PREFIX).partition("_")
    if not token_id or not secret:
        return None
    store = ConsoleTables.of(services.store)
    row = await store.api_token(token_id)
    if row is None or not same(row.token_hash, plain_hash(token)):
        return None
    now = services.clock()
    if now >= ends(row):
        return None
    if row.last_used_at is None or now - row.last_used_at > USED_AFTER:
        await store.token_used(row.id, now)
    return Principal(
        subject=f"token:{row.id}", display=row.name, tenants={row.tenant: "staff"}, via="token"
    )
