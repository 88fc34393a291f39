"""The owner console's own tables, beside the conversations: sessions, one-time sign-in
codes, per-Business API tokens and the audit log (revision 0003).

They live in the conversation store so that every console replica shares them with no
other database to run. Nothing secret is kept in the clear: a session, a code's pending
sign-in and an API token are stored as hashes of what the browser or the integration holds,
a code as an HMAC, and an owner's phone number only as an HMAC (the audit log never names
it either). The tables are declared on the store's `metadata`, so the schema test that
compares the migrations with the models covers them too.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from katha.store.engines import WRITES
from katha.store.events import NAME_MAX, TENANT_MAX
from katha.store.models import UtcDateTime, metadata
from katha.store.store import ConversationStore

HASH_MAX = 64  # a SHA-256 or HMAC-SHA-256, in hex
SUBJECT_MAX = 400  # "oidc:<issuer>#<sub>" with a long issuer
TOKEN_ID_MAX = 32
TOKEN_NAME_MAX = 100
ACTION_MAX = 64
TARGET_MAX = 300
CLIENT_IP_MAX = 64

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(HASH_MAX), primary_key=True),  # SHA-256 of the cookie's value
    Column("subject", String(SUBJECT_MAX), nullable=False),
    Column("display", String(NAME_MAX), nullable=False),
    Column("tenants", JSON, nullable=False),  # {"namespace/name": "owner" | "staff"}
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Index("ix_console_sessions_expires_at", "expires_at"),
)

console_login_codes = Table(
    "console_login_codes",
    metadata,
    Column("id", String(HASH_MAX), primary_key=True),  # SHA-256 of the pending cookie
    Column("code_hash", String(HASH_MAX), nullable=False),
    Column("number_hash", String(HASH_MAX), nullable=False),
    Column("client_hash", String(HASH_MAX), nullable=False),
    Column("tenants", JSON, nullable=False),  # what the router sent the code for
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index("ix_console_login_codes_number", "number_hash", "created_at"),
    Index("ix_console_login_codes_client", "client_hash", "created_at"),
)

console_api_tokens = Table(
    "console_api_tokens",
    metadata,
    Column("id", String(TOKEN_ID_MAX), primary_key=True),
    Column("tenant", String(TENANT_MAX), nullable=False),
    Column("name", String(TOKEN_NAME_MAX), nullable=False),
    Column("token_hash", String(HASH_MAX), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(SUBJECT_MAX), nullable=False),
    Column("last_used_at", UtcDateTime()),
    # NULL in a row a console of the release before wrote during the rollout: it then
    # ends DEFAULT_DAYS after it was made (console.auth.api_tokens.ends).
    Column("expires_at", UtcDateTime()),
    Index("ix_console_api_tokens_tenant", "tenant", "created_at"),
)

console_audit = Table(
    "console_audit",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("subject", String(SUBJECT_MAX), nullable=False),
    Column("action", String(ACTION_MAX), nullable=False),
    Column("tenant", String(TENANT_MAX)),
    Column("target", String(TARGET_MAX)),
    Column("client_ip", String(CLIENT_IP_MAX)),
    Index("ix_console_audit_tenant_at", "tenant", "at"),
    Index("ix_console_audit_at", "at"),
)


@dataclass(frozen=True)
class SessionRow:
    id: str
    subject: str
    display: str
    tenants: dict[str, str]
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class LoginCodeRow:
    id: str
    code_hash: str
    number_hash: str
    client_hash: str
    tenants: list[str]
    attempts: int
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ApiTokenRow:
    id: str
    tenant: str
    name: str
    token_hash: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    subject: str
    action: str
    tenant: str | None = None
    target: str | None = None
    client_ip: str | None = None
    id: int | None = None  # given by the database


def _values(row: Any) -> dict[str, Any]:
    """A row's columns; an audit entry's missing id is left for the database to give."""
    return {key: value for key, value in vars(row).items() if key != "id" or value is not None}


class ConsoleTables:
    """Async access to the console's tables, on the store's own engine (and pool)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def of(cls, store: ConversationStore) -> Self:
        """The console's tables in `store`'s database (same package: its engine is ours)."""
        return cls(store._engine)

    async def _write(self, *statements: Any) -> list[Any]:
        """Run `statements` in one writing transaction; each one's result."""
        async with self._engine.connect() as connection:
            await connection.execution_options(**{WRITES: True})
            async with connection.begin():
                return [await connection.execute(statement) for statement in statements]

    async def _read(self, statement: Any) -> list[Mapping[str, Any]]:
        async with self._engine.connect() as connection:
            return [dict(row) for row in (await connection.execute(statement)).mappings()]

    # Sessions

    async def add_session(self, row: SessionRow) -> None:
        await self._write(insert(console_sessions).values(_values(row)))

    async def session(
        self, session_id: str, now: datetime, idle_since: datetime | None = None
    ) -> SessionRow | None:
        """The session, unless it expired or was last seen no later than `idle_since`."""
        table = console_sessions.c
        query = select(console_sessions).where(table.id == session_id, table.expires_at > now)
        if idle_since is not None:
            query = query.where(table.last_seen_at > idle_since)
        rows = await self._read(query)
        return SessionRow(**rows[0]) if rows else None

    async def touch_session(self, session_id: str, now: datetime) -> None:
        table = console_sessions.c
        await self._write(
            update(console_sessions).where(table.id == session_id).values(last_seen_at=now)
        )

    async def delete_session(self, session_id: str) -> bool:
        [result] = await self._write(
            delete(console_sessions).where(console_sessions.c.id == session_id)
        )
        return bool(result.rowcount)

    async def forget_expired(
        self,
        now: datetime,
        codes_before: datetime,
        *,
        idle_since: datetime | None = None,
        audit_before: datetime | None = None,
        tokens_ended_before: tuple[datetime, datetime] | None = None,
    ) -> None:
        """Drop sessions that expired (or were last seen no later than `idle_since`), codes
        created before `codes_before` (kept until then because the rate limits and the
        guess budget count them), audit entries older than `audit_before`, and API tokens
        that ended by `tokens_ended_before`, a pair (end, made): a token with an end ended
        no later than `end`; one without (console.auth.api_tokens.ends) was made no later
        than `made`."""
        sessions, codes, audit = console_sessions.c, console_login_codes.c, console_audit.c
        gone = sessions.expires_at <= now
        if idle_since is not None:
            gone = gone | (sessions.last_seen_at <= idle_since)
        statements: list[Any] = [
            delete(console_sessions).where(gone),
            delete(console_login_codes).where(codes.created_at < codes_before),
        ]
        if audit_before is not None:
            statements.append(delete(console_audit).where(audit.at < audit_before))
        if tokens_ended_before is not None:
            ended, made = tokens_ended_before
            tokens = console_api_tokens.c
            statements.append(
                delete(console_api_tokens).where(
                    (tokens.expires_at <= ended)
                    | (tokens.expires_at.is_(None) & (tokens.created_at <= made))
                )
            )
        await self._write(*statements)

    # One-time codes

    async def add_login_code(self, row: LoginCodeRow) -> None:
        await self._write(insert(console_login_codes).values(_values(row)))

    async def delete_login_code(self, code_id: str) -> None:
        """Forget a code that was never sent (refused by a limit, or the router was down)."""
        await self._write(delete(console_login_codes).where(console_login_codes.c.id == code_id))

    async def set_login_code_tenants(self, code_id: str, tenants: list[str]) -> None:
        """The Businesses the router sent the code for, once it has said."""
        table = console_login_codes.c
        await self._write(
            update(console_login_codes).where(table.id == code_id).values(tenants=tenants)
        )

    async def login_codes_since(
        self, since: datetime, *, number_hash: str | None = None, client_hash: str | None = None
    ) -> int:
        """How many codes were asked for since `since` for that number, or by that client."""
        table = console_login_codes.c
        query = select(func.count()).where(table.created_at >= since)
        if number_hash is not None:
            query = query.where(table.number_hash == number_hash)
        if client_hash is not None:
            query = query.where(table.client_hash == client_hash)
        async with self._engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def login_code(self, code_id: str) -> LoginCodeRow | None:
        rows = await self._read(
            select(console_login_codes).where(console_login_codes.c.id == code_id)
        )
        return LoginCodeRow(**rows[0]) if rows else None

    async def failed_attempts(self, number_hash: str, since: datetime) -> int:
        """Wrong codes typed for a number, over all its codes asked for since `since` (a
        code that signed in took back the attempt that opened it)."""
        table = console_login_codes.c
        query = select(func.coalesce(func.sum(table.attempts), 0)).where(
            table.number_hash == number_hash, table.created_at >= since
        )
        async with self._engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def spend_attempt(
        self,
        code_id: str,
        now: datetime,
        max_attempts: int,
        *,
        budget: tuple[datetime, int] | None = None,
    ) -> LoginCodeRow | None:
        """Count one attempt at the code, atomically; the code as it now is, or None when it
        is unknown, expired, out of attempts, or its number has had `budget[1]` wrong codes
        since `budget[0]` (then nothing may be compared). The budget is read in the same
        statement: one database writer at a time (SQLite) never passes it; concurrent
        statements on PostgreSQL may each see the other's attempt not yet counted, so a
        burst may pass it by the few codes a number can have alive at once."""
        table = console_login_codes.c
        statement = update(console_login_codes).where(
            table.id == code_id, table.attempts < max_attempts, table.expires_at > now
        )
        if budget is not None:
            since, most = budget
            others = console_login_codes.alias("others")
            failed = (
                select(func.coalesce(func.sum(others.c.attempts), 0))
                .where(others.c.number_hash == table.number_hash, others.c.created_at >= since)
                .scalar_subquery()
            )
            statement = statement.where(failed < most)
        statement = statement.values(attempts=table.attempts + 1).returning(*console_login_codes.c)
        async with self._engine.connect() as connection:
            await connection.execution_options(**{WRITES: True})
            async with connection.begin():
                rows = (await connection.execute(statement)).mappings().all()
        return LoginCodeRow(**rows[0]) if rows else None

    async def consume_login_code(self, code_id: str) -> bool:
        """End the code (it expires as it was made) and take back the attempt that was
        right, so that only wrong ones count against its number; True for the one caller
        that did (a code signs in once). The row stays until the cleanup: the limits still
        count it."""
        table = console_login_codes.c
        [result] = await self._write(
            update(console_login_codes)
            .where(table.id == code_id, table.expires_at > table.created_at)
            .values(expires_at=table.created_at, attempts=table.attempts - 1)
        )
        return bool(result.rowcount)

    # API tokens

    async def add_api_token(self, row: ApiTokenRow) -> None:
        await self._write(insert(console_api_tokens).values(_values(row)))

    async def api_tokens(self, tenant: str) -> list[ApiTokenRow]:
        table = console_api_tokens.c
        rows = await self._read(
            select(console_api_tokens)
            .where(table.tenant == tenant)
            .order_by(table.created_at, table.id)
        )
        return [ApiTokenRow(**row) for row in rows]

    async def api_token(self, token_id: str) -> ApiTokenRow | None:
        rows = await self._read(
            select(console_api_tokens).where(console_api_tokens.c.id == token_id)
        )
        return ApiTokenRow(**rows[0]) if rows else None

    async def token_used(self, token_id: str, now: datetime) -> None:
        table = console_api_tokens.c
        await self._write(
            update(console_api_tokens).where(table.id == token_id).values(last_used_at=now)
        )

    async def delete_api_token(self, tenant: str, token_id: str) -> bool:
        """Delete the tenant's token; False when that tenant has no such token."""
        table = console_api_tokens.c
        [result] = await self._write(
            delete(console_api_tokens).where(and_(table.tenant == tenant, table.id == token_id))
        )
        return bool(result.rowcount)

    # Audit log

    async def add_audit(self, *rows: AuditRow) -> None:
        if rows:
            await self._write(insert(console_audit).values([_values(row) for row in rows]))

    async def audit_log(self, tenant: str | None = None, *, limit: int = 100) -> list[AuditRow]:
        """The newest entries first, of one tenant or of all."""
        table = console_audit.c
        query = select(console_audit).order_by(table.at.desc(), table.id.desc()).limit(limit)
        if tenant is not None:
            query = query.where(table.tenant == tenant)
        return [AuditRow(**row) for row in await self._read(query)]


__all__ = [
    "ApiTokenRow",
    "AuditRow",
    "ConsoleTables",
    "LoginCodeRow",
    "SessionRow",
    "console_api_tokens",
    "console_audit",
    "console_login_codes",
    "console_sessions",
]
