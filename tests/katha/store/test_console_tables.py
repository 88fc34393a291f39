"""The console's tables (revision 0003) on SQLite and PostgreSQL: sessions, one-time codes,
API tokens and the audit log, and the migration that adds them to a store full of data."""

from datetime import timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from katha.store import ConversationStore, current_revision, upgrade
from katha.store.console_tables import (
    ApiTokenRow,
    AuditRow,
    ConsoleTables,
    LoginCodeRow,
    SessionRow,
)
from katha.store.engines import sync_engine
from katha.store.migrate import alembic_config
from katha.store.models import metadata

from .conftest import START, TENANT, EventFactory

OTHER = "shops/lanka-books"
CONSOLE_TABLES = {"console_sessions", "console_login_codes", "console_api_tokens", "console_audit"}


def code_row(
    code_id: str, *, number: str = "n1", client: str = "c1", minutes: int = 0
) -> LoginCodeRow:
    at = START + timedelta(minutes=minutes)
    return LoginCodeRow(
        id=code_id, code_hash="h" * 64, number_hash=number, client_hash=client,
        tenants=[TENANT], attempts=0, created_at=at, expires_at=at + timedelta(minutes=10),
    )  # fmt: skip


async def test_sessions_live_until_they_expire_or_are_deleted(store: ConversationStore) -> None:
    tables = ConsoleTables.of(store)
    row = SessionRow(
        id="s1", subject="code:abc", display="Owner", tenants={TENANT: "owner", OTHER: "staff"},
        created_at=START, expires_at=START + timedelta(hours=12), last_seen_at=START,
    )  # fmt: skip
    await tables.add_session(row)
    assert await tables.session("s1", START) == row
    assert await tables.session("s2", START) is None
    later = START + timedelta(hours=1)
    await tables.touch_session("s1", later)
    assert (await tables.session("s1", later)).last_seen_at == later  # type: ignore[union-attr]
    assert await tables.session("s1", START + timedelta(hours=12)) is None  # expired
    await tables.forget_expired(START + timedelta(hours=13), codes_before=START)
    assert not await tables.delete_session("s1")  # already forgotten
    await tables.add_session(row)
    assert await tables.delete_session("s1")
    assert await tables.session("s1", START) is None


async def test_a_code_is_counted_spent_and_consumed_once(store: ConversationStore) -> None:
    tables = ConsoleTables.of(store)
    await tables.add_login_code(code_row("a", number="n1", client="c1"))
    await tables.add_login_code(code_row("b", number="n1", client="c2", minutes=5))
    await tables.add_login_code(code_row("c", number="n2", client="c2", minutes=6))
    assert await tables.login_codes_since(START, number_hash="n1") == 2
    assert await tables.login_codes_since(START, client_hash="c2") == 2
    assert await tables.login_codes_since(START + timedelta(minutes=1), number_hash="n1") == 1
    for attempt in (1, 2, 3):
        spent = await tables.spend_attempt("a", START, max_attempts=3)
        assert spent is not None
        assert spent.attempts == attempt
        assert spent.tenants == [TENANT]
    assert await tables.spend_attempt("a", START, max_attempts=3) is None  # out of attempts
    assert await tables.spend_attempt("b", START + timedelta(minutes=15), 3) is None  # expired
    assert await tables.spend_attempt("unknown", START, 3) is None
    assert await tables.consume_login_code("c")
    assert not await tables.consume_login_code("c")
    await tables.forget_expired(START, codes_before=START + timedelta(minutes=1))
    assert await tables.login_code("a") is None
    assert (await tables.login_code("b")) is not None


async def test_api_tokens_belong_to_one_tenant(store: ConversationStore) -> None:
    tables = ConsoleTables.of(store)
    mine = ApiTokenRow(
        id="t1", tenant=TENANT, name="orders", token_hash="x" * 64, created_at=START,
        created_by="code:abc",
    )  # fmt: skip
    theirs = ApiTokenRow(
        id="t2", tenant=OTHER, name="crm", token_hash="y" * 64, created_at=START, created_by="z"
    )
    await tables.add_api_token(mine)
    await tables.add_api_token(theirs)
    assert await tables.api_tokens(TENANT) == [mine]
    assert await tables.api_token("t2") == theirs
    await tables.token_used("t1", START + timedelta(minutes=3))
    assert (await tables.api_token("t1")).last_used_at == START + timedelta(minutes=3)  # type: ignore[union-attr]
    assert not await tables.delete_api_token(TENANT, "t2")  # another tenant's token
    assert await tables.delete_api_token(OTHER, "t2")
    assert await tables.api_token("t2") is None


async def test_the_audit_log_keeps_every_entry_newest_first(store: ConversationStore) -> None:
    tables = ConsoleTables.of(store)
    await tables.add_audit(
        AuditRow(at=START, subject="code:abc", action="sign_in", tenant=TENANT, target="code",
                 client_ip="192.0.2.1"),
        AuditRow(at=START, subject="oidc:unverified", action="sign_in_failed"),
    )  # fmt: skip
    await tables.add_audit(
        AuditRow(at=START + timedelta(minutes=1), subject="code:abc", action="takeover",
                 tenant=TENANT, target="c-1"),
    )  # fmt: skip
    await tables.add_audit()
    newest = await tables.audit_log()
    assert [(row.action, row.tenant) for row in newest] == [
        ("takeover", TENANT),
        ("sign_in_failed", None),
        ("sign_in", TENANT),
    ]
    assert newest[2].client_ip == "192.0.2.1"
    assert [row.action for row in await tables.audit_log(TENANT, limit=1)] == ["takeover"]
    assert await tables.audit_log(OTHER) == []


async def test_0003_adds_the_console_tables_and_keeps_the_conversations(
    empty_url: str, event: EventFactory
) -> None:
    upgrade(empty_url, "0002")
    async with ConversationStore.from_url(empty_url) as store:
        await store.record([event(1), event(2, author="agent"), event(3, conversation_id="c-2")])
        before = (await store.conversations(TENANT), await store.thread(TENANT, "c-1"))
    upgrade(empty_url, "0003")
    assert current_revision(empty_url) == "0003"
    async with ConversationStore.from_url(empty_url) as store:
        assert (await store.conversations(TENANT), await store.thread(TENANT, "c-1")) == before
        tables = ConsoleTables.of(store)
        await tables.add_audit(AuditRow(at=START, subject="s", action="sign_in", tenant=TENANT))
        assert len(await tables.audit_log(TENANT)) == 1
        # And back: 0002 without the console's tables, the conversations untouched.
        engine = sync_engine(empty_url)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        with engine.connect() as connection:
            assert not CONSOLE_TABLES & set(inspect(connection).get_table_names())
        engine.dispose()
        assert await store.thread(TENANT, "c-1") == before[1]


def test_the_console_tables_are_exactly_what_0003_builds(store_url: str) -> None:
    assert set(metadata.tables) >= CONSOLE_TABLES
    engine = sync_engine(store_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert set(inspect(connection).get_table_names()) >= CONSOLE_TABLES
    engine.dispose()
    assert differences == []


async def test_tokens_are_forgotten_once_they_ended_long_enough_ago(
    store: ConversationStore,
) -> None:
    tables = ConsoleTables.of(store)

    def token(token_id: str, made_days_ago: int, ends_days_ago: int | None) -> ApiTokenRow:
        made = START - timedelta(days=made_days_ago)
        ends = None if ends_days_ago is None else START - timedelta(days=ends_days_ago)
        return ApiTokenRow(
            id=token_id, tenant=TENANT, name=token_id, token_hash="x" * 64, created_at=made,
            created_by="code:abc", expires_at=ends,
        )  # fmt: skip

    rows = [
        token("ended-long-ago", 200, 110),
        token("ended-lately", 120, 30),
        token("still-works", 10, -80),
        token("no-end-made-long-ago", 400, None),  # written by the release before ends
        token("no-end-made-lately", 150, None),
    ]
    for row in rows:
        await tables.add_api_token(row)
    cutoff = (START - timedelta(days=100), START - timedelta(days=190))
    await tables.forget_expired(START, codes_before=START, tokens_ended_before=cutoff)
    kept = [row.id for row in await tables.api_tokens(TENANT)]
    assert sorted(kept) == ["ended-lately", "no-end-made-lately", "still-works"]
    await tables.forget_expired(START, codes_before=START)  # tokens untouched without a cutoff
    assert len(await tables.api_tokens(TENANT)) == 3
