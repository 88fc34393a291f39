"""The live list: the events stream announces a Business's conversations as they change,
to that Business only, and stops when its client goes."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from console_under_test import ALPHA, BETA, START, Console, message

from console.conversations import live
from console.conversations.live import ChangeTracker, conversation_stream
from katha.store import ConversationSummary

EVENTS = f"/api/v1/tenants/{ALPHA}/events"
# Only a guard against a test that would otherwise hang: the console polls every second.
PATIENCE = 30.0


async def sse(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(field, value) for each message of an event stream: ("retry", ms), (":", comment),
    or (event name, data)."""
    event, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield ":", line[1:].strip()
        elif line.startswith("retry:"):
            yield "retry", line.removeprefix("retry:").strip()
        elif line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data = line.removeprefix("data:").strip()
        elif line == "" and data:
            yield event, data
            event, data = "message", ""


async def next_conversation(stream: AsyncIterator[tuple[str, str]]) -> dict[str, Any]:
    async with asyncio.timeout(PATIENCE):
        async for name, data in stream:
            if name == "conversation":
                parsed: dict[str, Any] = json.loads(data)
                return parsed
    raise AssertionError("the stream ended")


@asynccontextmanager
async def watching(
    client: httpx.AsyncClient, params: dict[str, str] | None = None
) -> AsyncIterator[AsyncIterator[tuple[str, str]]]:
    """Alpha's stream, once open: from then on every change is announced."""
    async with client.stream("GET", EVENTS, params=params, timeout=PATIENCE) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = sse(response)
        async with asyncio.timeout(PATIENCE):
            name, _ = await anext(stream)
        assert name == "retry"
        yield stream


async def test_a_new_conversation_arrives_on_the_stream(console: Console) -> None:
    await console.record(message(1, conversation="c-old"))
    signed_in = await console.sign_in({ALPHA: "staff"})
    async with signed_in as client, watching(client) as stream:
        await console.record(
            message(2, tenant=BETA, conversation="c-theirs"),
            message(3, conversation="c-new", text="<b>ayubowan</b>", customer_name="Sunil"),
        )
        first = await next_conversation(stream)
    assert first["conversation_id"] == "c-new"
    assert first["tenant"] == ALPHA
    assert (first["customer_name"], first["last_text"]) == ("Sunil", "<b>ayubowan</b>")
    assert first["unanswered"] is True


async def test_a_takeover_of_a_listed_conversation_is_announced(console: Console) -> None:
    await console.record(message(1, conversation="c-1"), message(2, conversation="c-2"))
    signed_in = await console.sign_in({ALPHA: "staff"})
    async with signed_in as client, watching(client) as stream:
        await console.record(
            message(3, conversation="c-1", kind="handoff_started", author="system", text=None)
        )
        changed = await next_conversation(stream)
    assert changed["conversation_id"] == "c-1"
    assert changed["with_person"] is True


async def test_since_catches_up_what_changed_before_the_stream_opened(console: Console) -> None:
    await console.record(message(1, conversation="c-seen"), message(5, conversation="c-missed"))
    since = (START + timedelta(minutes=2)).isoformat()
    signed_in = await console.sign_in({ALPHA: "staff"})
    async with signed_in as client, watching(client, {"since": since}) as stream:
        caught = await next_conversation(stream)
    assert caught["conversation_id"] == "c-missed"


async def test_a_stream_ends_when_its_session_does(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    await console.record(message(1))
    signed_in = await console.sign_in({ALPHA: "staff"})
    async with signed_in as client, watching(client) as stream:
        assert (await client.post("/signout")).status_code == 303
        async with asyncio.timeout(PATIENCE):
            after = [name async for name, _ in stream]
    assert "conversation" not in after  # it ended, having told the signed-out client nothing


async def test_the_stream_stops_when_its_client_goes(console: Console) -> None:
    await console.record(message(1))
    checks = 0

    async def gone() -> bool:
        nonlocal checks
        checks += 1
        return checks > 2

    sent = [
        text
        async for text in conversation_stream(
            console.store, ALPHA, gone, poll_seconds=0, heartbeat_seconds=0
        )
    ]
    assert checks == 3
    assert sent[0] == "retry: 3000\n\n"
    assert ": heartbeat\n\n" in sent  # a quiet stream still speaks


def summary(conversation: str, minute: int, **fields: Any) -> ConversationSummary:
    at = START + timedelta(minutes=minute)
    values: dict[str, Any] = {
        "tenant": ALPHA,
        "conversation_id": conversation,
        "customer_name": None,
        "customer_handle": None,
        "language": None,
        "with_person": False,
        "unanswered": True,
        "last_at": at,
        "last_text": "hi",
        "messages": 1,
        "created_at": START,
    }
    return ConversationSummary(**(values | fields))


def test_the_tracker_sends_what_is_new_or_different_oldest_first() -> None:
    tracker = ChangeTracker(since=None)
    assert tracker.changed([summary("a", 2), summary("b", 1)]) == []  # what the page shows
    moved = [summary("c", 4), summary("b", 1, with_person=True), summary("a", 2)]
    assert [row.conversation_id for row in tracker.changed(moved)] == ["b", "c"]
    assert tracker.changed(moved) == []


def test_the_tracker_starts_after_since() -> None:
    tracker = ChangeTracker(since=START + timedelta(minutes=1))
    rows = [summary("new", 3), summary("same", 1), summary("old", 0)]
    assert [row.conversation_id for row in tracker.changed(rows)] == ["new"]


async def next_event(stream: AsyncIterator[tuple[str, str]]) -> tuple[str, dict[str, Any]]:
    """The next `conversation` or `removed` event, parsed."""
    async with asyncio.timeout(PATIENCE):
        async for name, data in stream:
            if name in ("conversation", "removed"):
                return name, json.loads(data)
    raise AssertionError("the stream ended")


async def test_a_filtered_stream_sends_what_fits_and_drops_what_leaves(console: Console) -> None:
    await console.record(message(1, conversation="c-1"), message(2, conversation="c-2"))
    signed_in = await console.sign_in({ALPHA: "staff"})
    async with signed_in as client, watching(client, {"with_person": "true"}) as stream:
        await console.record(message(3, conversation="c-1", text="still waiting"))
        await console.record(
            message(4, conversation="c-2", kind="handoff_started", author="system", text=None)
        )
        name, first = await next_event(stream)
        assert (name, first["conversation_id"]) == ("conversation", "c-2")  # c-1 never came
        await console.record(
            message(5, conversation="c-2", kind="handoff_released", author="system", text=None)
        )
        name, gone = await next_event(stream)
    assert (name, gone) == ("removed", {"conversation_id": "c-2"})


async def test_a_principal_holds_at_most_five_streams(console: Console) -> None:
    await console.record(message(1))
    phone, laptop = await console.sign_in({ALPHA: "staff"}), await console.sign_in({ALPHA: "staff"})
    other = await console.sign_in({ALPHA: "staff"}, display="Sunil")
    async with phone, laptop, other, AsyncExitStack() as streams:
        for client in (phone, laptop, phone, laptop, phone):  # one person, two sessions
            await streams.enter_async_context(watching(client))
        refused = await laptop.get(EVENTS)
        assert refused.status_code == 429
        async with watching(other):  # someone else is not counted with them
            pass
        await streams.aclose()
        # The streams' slots come back once the console sees their clients gone.
        async with asyncio.timeout(PATIENCE):
            while True:
                async with laptop.stream("GET", EVENTS) as reopened:
                    if reopened.status_code == 200:
                        break
                await asyncio.sleep(0.2)


def test_the_tracker_sends_removed_for_what_left_the_window() -> None:
    tracker = ChangeTracker(since=None)
    tracker.events([summary("a", 2), summary("b", 1)])
    events = tracker.events([summary("c", 3), summary("a", 2)])
    assert events[0] == 'event: removed\ndata: {"conversation_id": "b"}\n\n'
    assert events[1].startswith("event: conversation\ndata: ")
    assert '"c"' in events[1]
    assert len(events) == 2
