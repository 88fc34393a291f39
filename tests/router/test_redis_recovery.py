"""Redis losing the inbox's stream or consumer group (a restart with appendonly off, an
eviction, a DEL or XGROUP DESTROY) never stops answering: the next claim makes the group
again; and while claims fail, /readyz says not ready even though Redis answers PING."""

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from harness import RouterHarness, wait_for
from peers.graph_api import GraphApi
from restartable_redis import RestartableRedis
from stored import envelope, no_limit

from router.inbox import open_inbox
from router.settings import RouterSettings

STREAM = "katha:inbox"


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[RestartableRedis]:
    with RestartableRedis(tmp_path) as server:
        yield server


@pytest.mark.parametrize(
    "lose",
    [
        pytest.param(lambda client: client.xgroup_destroy(STREAM, "router"), id="group-destroyed"),
        pytest.param(lambda client: client.delete(STREAM), id="stream-deleted"),
        pytest.param(lambda client: client.flushall(), id="everything-evicted"),
    ],
)
async def test_claims_recover_when_the_group_or_stream_is_lost(
    redis_url: str, lose: Callable[[redis.Redis], object]
) -> None:
    client = redis.Redis.from_url(redis_url)
    inbox = open_inbox(RouterSettings(inbox_url=redis_url, lease_seconds=5))
    await inbox.open()
    await inbox.accept([envelope("before", "c-1")])
    (before,) = await inbox.claim(10, no_limit, ())
    await inbox.complete(before)

    lose(client)
    await inbox.accept([envelope("after", "c-2")])

    (after,) = await inbox.claim(10, no_limit, ())
    assert after.message_id == "after"
    await inbox.complete(after)
    assert (await inbox.stats()).depth == 0
    await inbox.close()
    client.close()


async def test_a_group_made_again_redelivers_what_the_stream_still_holds(
    redis_url: str,
) -> None:
    client = redis.Redis.from_url(redis_url)
    inbox = open_inbox(RouterSettings(inbox_url=redis_url, lease_seconds=5))
    await inbox.open()
    await inbox.accept([envelope("waiting", "c-w")])
    client.xgroup_destroy(STREAM, "router")  # before anyone read it

    (waiting,) = await inbox.claim(10, no_limit, ())
    assert waiting.message_id == "waiting"
    await inbox.complete(waiting)
    await asyncio.sleep(0)
    assert await inbox.claim(10, no_limit, ()) == []
    await inbox.close()
    client.close()


def ready(router: RouterHarness) -> bool:
    return httpx.get(f"{router.url}/readyz", timeout=10).status_code == 200


def not_ready(router: RouterHarness) -> bool:
    return httpx.get(f"{router.url}/readyz", timeout=10).status_code == 503


def test_router_answers_again_after_redis_restarts_empty(
    restartable: RestartableRedis, start_router: Callable[..., RouterHarness], graph: GraphApi
) -> None:
    router = start_router(inbox_url=restartable.url)
    first = router.say("alpha", "Ada open da?")
    wait_for(lambda: first in {c.reply_to for c in graph.texts()}, what="the first reply")

    restartable.kill()
    wait_for(lambda: not_ready(router), what="/readyz to fail while Redis is down")
    restartable.start()  # empty: appendonly off, no snapshot
    wait_for(lambda: ready(router), what="/readyz to recover")

    second = router.say("beta", "Menu eka evanna")
    wait_for(lambda: second in {c.reply_to for c in graph.texts()}, what="a reply after restart")


def test_readyz_fails_while_claims_fail_though_redis_answers_ping(
    restartable: RestartableRedis, start_router: Callable[..., RouterHarness], graph: GraphApi
) -> None:
    router = start_router(inbox_url=restartable.url)
    client = restartable.client()
    # The inbox key replaced by a value of another type: PING works, every read fails.
    client.delete(STREAM)
    client.set(STREAM, "not a stream")
    body = wait_for(
        lambda: (r := httpx.get(f"{router.url}/readyz")).status_code == 503 and r.json(),
        what="/readyz to report failing claims",
    )
    assert body == {"ready": False, "routes": True, "inbox": True, "claims": False}

    client.delete(STREAM)
    wait_for(lambda: ready(router), what="/readyz once claims work again")
    message_id = router.say("alpha", "Kiyada wahanne?")
    wait_for(lambda: message_id in {c.reply_to for c in graph.texts()}, what="the reply")
    client.close()


async def test_a_completion_redis_failed_to_record_does_not_hold_the_conversation(
    restartable: RestartableRedis,
) -> None:
    inbox = open_inbox(RouterSettings(inbox_url=restartable.url, lease_seconds=5))
    await inbox.open()
    await inbox.accept([envelope("m1", "c-1"), envelope("m2", "c-1")])
    (m1,) = await inbox.claim(10, no_limit, ())  # m2 is read too, and waits behind m1

    restartable.kill()
    with pytest.raises(redis.RedisError):
        await inbox.complete(m1)
    restartable.start()  # empty
    await inbox.accept([envelope("m3", "c-1")])

    answered: list[str] = []
    deadline = time.monotonic() + 5
    while len(answered) < 2 and time.monotonic() < deadline:
        for taken in await inbox.claim(10, no_limit, ()):
            answered.append(taken.message_id)
            await inbox.complete(taken)
        await asyncio.sleep(0.02)
    assert answered == ["m2", "m3"]
    await inbox.close()


async def test_the_first_writes_after_a_redis_restart_do_not_fail_on_dead_connections(
    restartable: RestartableRedis,
) -> None:
    # A sent-marker that fails to be written after the Graph API took the reply means
    # the reply is sent again: a pooled connection that died with the old server must
    # not fail the write.
    inbox = open_inbox(RouterSettings(inbox_url=restartable.url))
    await inbox.open()
    await inbox.mark_sent("m0", "0")
    restartable.restart()

    await inbox.mark_sent("m1", "0")
    await inbox.save_reply("m1", '{"message_id": "m1", "text": "hi"}')

    assert await inbox.sent_parts("m1") == {"0"}
    await inbox.close()
