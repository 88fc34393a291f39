"""The conversation store keeps customers' media beside their conversations, on both of its
databases: once per tenant and media id, read only by that tenant, and deleted with the
customer and by the retention sweep."""

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from postgres_server import running_postgres, scratch_database

from katha.store import ConversationStore, StoredMedia, upgrade

TENANT = "shops/ceylon-spice"
OTHER = "shops/lanka-books"
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
VOICE = b"OggS" + bytes(range(256)) * 4


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    try:
        with running_postgres() as url:
            yield url
    except (FileNotFoundError, RuntimeError) as error:
        pytest.fail(str(error))


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ConversationStore]:
    """A fresh store, migrated to the newest revision, on each database."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'store.db'}"
        else:
            server: str = request.getfixturevalue("postgres_server")
            url = stack.enter_context(scratch_database(server, "media"))
        upgrade(url)
        async with ConversationStore.from_url(url) as opened:
            yield opened


def media(media_id: str, conversation_id: str = "c-1", **fields: object) -> StoredMedia:
    values: dict[str, object] = {
        "tenant": TENANT,
        "media_id": media_id,
        "conversation_id": conversation_id,
        "message_id": f"wamid.{media_id}",
        "at": AT,
        "kind": "audio",
        "mime_type": "audio/ogg",
        "size": len(VOICE),
        "sha256": "ab" * 32,
        "content": VOICE,
        **fields,
    }
    return StoredMedia.model_validate(values)


async def test_media_is_kept_once_and_read_only_by_its_tenant(store: ConversationStore) -> None:
    assert await store.keep_media(media("1"))
    assert not await store.keep_media(media("1", content=b"a second copy"))
    kept = await store.media(TENANT, "1")
    assert kept is not None
    assert kept.content == VOICE
    assert kept.at == AT
    assert await store.media(OTHER, "1") is None


async def test_media_goes_with_its_customer_and_with_retention(store: ConversationStore) -> None:
    await store.keep_media(media("1", conversation_id="c-1"))
    await store.keep_media(media("2", conversation_id="c-1", at=AT + timedelta(days=2)))
    await store.keep_media(media("3", conversation_id="c-2"))
    await store.keep_media(media("1", conversation_id="c-1", tenant=OTHER))

    listed = await store.conversation_media(TENANT, "c-1")
    assert [(item.media_id, item.message_id) for item in listed] == [
        ("1", "wamid.1"),
        ("2", "wamid.2"),
    ]
    exported = await store.export_customer(TENANT, "c-1")
    assert [item.media_id for item in exported.media] == ["1", "2"]
    assert "content" not in exported.model_dump()["media"][0]  # listed, never inlined

    forgotten = await store.forget_customer(TENANT, "c-1")
    assert forgotten.media == 2
    assert await store.media(TENANT, "2") is None
    assert await store.conversation_media(TENANT, "c-1") == []
    assert await store.media(OTHER, "1") is not None  # another Business's customer stays

    await store.forget_before(TENANT, AT)
    assert await store.media(TENANT, "3") is not None
    await store.forget_before(TENANT, AT + timedelta(seconds=1))
    assert await store.media(TENANT, "3") is None
    assert await store.media(OTHER, "1") is not None
