"""The inbox for several router replicas: a Redis Stream read by one consumer group.

Accept is one Lua call per message (dedupe key SET NX, then XADD), so a duplicate is never
enqueued. Each replica reads new entries into its own per-conversation queues, leases a
conversation with a lock key while a message of it is in flight, and keeps its unacked
entries alive (XCLAIM to itself); a replica that dies stops doing that, and after
`lease_seconds` the others take its entries over (XAUTOCLAIM), in stream order.

Durability is Redis's: run it with appendonly yes (fsync every second at least). If Redis
restarts empty or the consumer group is evicted or destroyed, the next claim recreates
the group (reading the stream from its start) instead of failing with NOGROUP forever.
An entry that cannot be loaded moves to the `dead-letters` stream and is acknowledged.
A conversation stays locked to one replica while it holds messages of it (in flight or
backing off). Known limit: if two replicas read messages of one conversation at the same
moment, the one that locks first answers first, so across replicas order is "one at a
time", strict only within a replica.
"""

import asyncio
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Callable, Collection, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError, ResponseError

from katha.observability import get_logger
from router.envelope import Envelope
from router.inbox import redis_customers
from router.inbox.base import ConversationState, InboxEntry, InboxStats, InboxUnavailableError
from router.inbox.dead_letters import (
    MISSING_BODY,
    DeadLetter,
    DeadLetterListener,
    UnloadableEntryError,
    identify,
    load,
    size_of,
)
from router.inbox.held import Held, HeldQueues, entry_order
from router.inbox.redis_state import RedisState

_ACCEPT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], '*', 'body', ARGV[2], 'conversation', ARGV[3])
end
return false
"""
_LOCK = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
GROUP = "router"
RECONNECT_RETRIES = 2
# Bounds connecting and, in redis-py, closing a connection too (disconnect waits for the
# socket to close under this timeout; with none it may wait for ever, and the router
# would not stop on SIGTERM).
CONNECT_TIMEOUT_SECONDS = 5.0

log = get_logger("router")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisInbox:
    def __init__(
        self,
        url: str,
        *,
        lease_seconds: float = 60.0,
        dedupe_seconds: float = 7 * 86400,
        prefix: str = "katha:",
    ) -> None:
        self._url = url
        self._lease = lease_seconds
        self._dedupe = int(dedupe_seconds)
        self._p = prefix
        self._stream = f"{prefix}inbox"
        self._dead = f"{prefix}dead-letters"
        self._listeners: list[DeadLetterListener] = []
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._client: aioredis.Redis | None = None
        self._queues = HeldQueues()
        self._last_reclaim = 0.0
        self._last_keepalive = time.monotonic()
        self._batch: list[tuple[Sequence[Envelope], asyncio.Future[list[bool]]]] = []
        self._flushes: set[asyncio.Task[None]] = set()

    @property
    def redis(self) -> aioredis.Redis:
        if self._client is None:
            raise InboxUnavailableError("the Redis inbox is not open")
        return self._client

    async def open(self) -> None:
        # After Redis restarts, every pooled connection is dead and fails once: a marker
        # lost that way after the Graph API took a reply means the reply is sent twice.
        # Every command here is safe to repeat (accept dedupes by message id).
        client = aioredis.Redis.from_url(
            self._url,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), RECONNECT_RETRIES),
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        )
        try:
            await self._create_group(client)
        except BaseException:
            await client.aclose()
            raise
        self._state = RedisState(client, self._p, self._dedupe)
        self._accept = client.register_script(_ACCEPT)
        self._lock = client.register_script(_LOCK)
        self._unlock = client.register_script(_UNLOCK)
        # Open only once everything above exists: a webhook arriving while Redis is still
        # unreachable must meet "not open" (503), never a half-built inbox.
        self._client = client

    async def _create_group(self, client: aioredis.Redis | None = None) -> None:
        # From "0": after a restart or eviction, whatever the stream still holds is read.
        try:
            await (client or self.redis).xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, InboxUnavailableError, OSError):
            return False

    async def secret_key(self) -> bytes:
        key = f"{self._p}pseudonym-key"
        await self.redis.set(key, secrets.token_bytes(32), nx=True)
        value: Any = await self.redis.get(key)
        return bytes(value)

    async def accept(self, envelopes: Sequence[Envelope]) -> list[bool]:
        """Webhooks handled in the same event-loop turn share one pipeline round trip;
        each is answered only after Redis has taken all of its messages."""
        done: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._batch.append((envelopes, done))
        if len(self._batch) == 1:
            flush = asyncio.get_running_loop().create_task(self._flush())
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        return await done

    async def _flush(self) -> None:
        batch, self._batch = self._batch, []
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for envelopes, _ in batch:
                    for envelope in envelopes:
                        await self._accept(
                            keys=[f"{self._p}seen:{envelope.message_id}", self._stream],
                            args=[self._dedupe, envelope.stored(), envelope.conversation_id],
                            client=pipe,
                        )
                results = await pipe.execute()
        except Exception as error:
            # Whatever went wrong, every webhook waiting on this batch gets an answer (503):
            # a future left unresolved would hold Meta's request until it times out.
            if not isinstance(error, RedisError | OSError | InboxUnavailableError):
                log.exception("inbox.accept_failed")
            failure = InboxUnavailableError(f"Redis refused a write: {error}")
            for _, done in batch:
                if not done.done():
                    done.set_exception(failure)
            return
        fresh = [result is not None and result is not False for result in results]
        for envelopes, done in batch:
            if not done.done():
                done.set_result(fresh[: len(envelopes)])
            fresh = fresh[len(envelopes) :]

    async def _fetch(self, limit: int) -> None:
        try:
            await self._read(limit)
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            # Redis restarted without its data, or the group or stream was evicted or
            # deleted: make the group again and read on.
            log.warning("inbox.group_recreated", stream=self._stream)
            await self._create_group()
            self._last_reclaim = self._last_keepalive = 0.0
            await self._read(limit)

    async def _read(self, limit: int) -> None:
        now = time.monotonic()
        if now - self._last_reclaim >= self._lease / 4:
            self._last_reclaim = now
            reclaimed: Any = await self.redis.xautoclaim(
                self._stream, GROUP, self._consumer, int(self._lease * 1000), "0-0", count=500
            )
            await self._take(reclaimed[1])
        if now - self._last_keepalive >= self._lease / 3:
            self._last_keepalive = now
            held = sorted(self._queues.known)
            for start in range(0, len(held), 500):
                chunk: list[Any] = held[start : start + 500]
                await self.redis.xclaim(self._stream, GROUP, self._consumer, 0, chunk, justid=True)
        reply: Any = await self.redis.xreadgroup(
            GROUP, self._consumer, {self._stream: ">"}, count=max(limit, 100)
        )
        for _stream, entries in reply or []:
            await self._take(entries)

    async def _take(self, entries: Sequence[Any]) -> None:
        for entry_id, fields in entries:
            if not fields:  # deleted while pending
                continue
            ident = _text(entry_id)
            if ident in self._queues.known:
                continue
            body = fields.get(b"body")
            try:
                if body is None:
                    raise UnloadableEntryError(MISSING_BODY, "the entry has no body field")
                envelope = load(body, attempts=0, handle=ident)
            except UnloadableEntryError as error:
                await self._bury(ident, body or b"", error)
                continue
            self._queues.add(Held(ident, envelope))

    async def _bury(self, entry_id: str, body: bytes, error: UnloadableEntryError) -> None:
        """Move an unloadable entry to the dead letters, in one transaction with its ack."""
        message_id, tenant = identify(body)
        at = time.time()
        size = size_of(body)
        fields: dict[Any, Any] = {
            "entry_id": entry_id,
            "message_id": message_id or "",
            "tenant": tenant or "",
            "reason": error.reason,
            "detail": error.detail,
            "size": size,
            "dead_at": repr(at),
            "body": body,
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self._dead, fields)
            pipe.xack(self._stream, GROUP, entry_id)
            pipe.xdel(self._stream, entry_id)
            results = await pipe.execute()
        letter = DeadLetter(
            _text(results[0]), entry_id, message_id, tenant, error.reason, error.detail, size, at
        )
        for listener in self._listeners:
            listener(letter)

    def on_dead_letter(self, listener: DeadLetterListener) -> None:
        self._listeners.append(listener)

    async def dead_letters(self, limit: int) -> list[DeadLetter]:
        return await self._state.dead_letters(self._dead, limit)

    async def claim(
        self, limit: int, room: Callable[[str], int], exclude: Collection[str]
    ) -> list[Envelope]:
        try:
            await self._fetch(limit)
        except (RedisError, OSError) as error:
            raise InboxUnavailableError(f"Redis refused a read: {error}") from error
        now = time.time()
        taken: list[Envelope] = []
        per_tenant: dict[str, int] = {}
        for conversation, queue in list(self._queues.by_conversation.items()):
            if len(taken) >= limit:
                break
            head = queue[0]
            tenant = head.envelope.tenant
            if (
                conversation in self._queues.busy
                or head.available_at > now
                or tenant in exclude
                or per_tenant.get(tenant, 0) >= room(tenant)
            ):
                continue
            locked = await self._hold(conversation, self._lease)
            if not locked:  # another replica is answering this conversation
                head.available_at = now + 0.2
                continue
            self._queues.busy.add(conversation)
            per_tenant[tenant] = per_tenant.get(tenant, 0) + 1
            taken.append(head.envelope.model_copy(update={"attempts": head.attempts}))
        return taken

    async def _hold(self, conversation: str, seconds: float) -> bool:
        """Take (or keep) this replica's lock on a conversation for `seconds`."""
        key = f"{self._p}lock:{conversation}"
        return bool(await self._lock(keys=[key], args=[self._consumer, int(seconds * 1000)]))

    async def _release_lock(self, conversation: str) -> None:
        if conversation in self._queues.by_conversation:
            # More of this conversation is queued here: keep it, so no other replica
            # answers a later message first.
            await self._hold(conversation, self._lease)
            return
        await self._unlock(keys=[f"{self._p}lock:{conversation}"], args=[self._consumer])

    async def complete(self, envelope: Envelope) -> None:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xack(self._stream, GROUP, envelope.handle)
                pipe.xdel(self._stream, envelope.handle)
                # Answered: the reply and sent-markers go; the dedupe key stays.
                pipe.delete(f"{self._p}reply:{envelope.message_id}")
                pipe.delete(f"{self._p}sent:{envelope.message_id}")
                await pipe.execute()
        finally:
            # Even when Redis failed to record it: held here, the conversation would stay
            # busy (and every later message of it unanswered) until a restart. Unrecorded,
            # the entry stays pending in Redis and comes back after the lease, where the
            # saved reply and sent-markers keep it from being sent twice.
            self._queues.remove(envelope.conversation_id, envelope.handle)
        await self._release_lock(envelope.conversation_id)

    async def retry_later(self, envelope: Envelope, delay_seconds: float) -> None:
        queue = self._queues.by_conversation.get(envelope.conversation_id, deque())
        for held in queue:
            if held.entry_id == envelope.handle:
                held.available_at = time.time() + delay_seconds
                held.attempts += 1
        self._queues.busy.discard(envelope.conversation_id)
        # The conversation stays locked through the backoff: a later message of it on
        # another replica must not overtake this one.
        await self._hold(envelope.conversation_id, delay_seconds + self._lease)

    async def stats(self) -> InboxStats:
        depth = int(await self.redis.xlen(self._stream))
        first = await self.redis.xrange(self._stream, count=1)
        age = 0.0
        if first:
            age = max(0.0, time.time() - entry_order(_text(first[0][0]))[0] / 1000)
        return InboxStats(depth, age)

    async def save_reply(self, message_id: str, reply_json: str) -> None:
        await self._state.save_reply(message_id, reply_json)

    async def saved_reply(self, message_id: str) -> str | None:
        return await self._state.saved_reply(message_id)

    async def mark_sent(self, message_id: str, part: str) -> None:
        await self._state.mark_sent(message_id, part)

    async def sent_parts(self, message_id: str) -> set[str]:
        return await self._state.sent_parts(message_id)

    async def conversation(self, conversation_id: str) -> ConversationState:
        return await self._state.conversation(conversation_id)

    async def save_conversation(self, conversation_id: str, state: ConversationState) -> None:
        await self._state.save_conversation(conversation_id, state)

    async def find_handoff(self, phone_number_id: str, ref: str) -> str | None:
        return await self._state.find_handoff(phone_number_id, ref)

    async def record(self, name: str) -> str | None:
        return await self._state.record(name)

    async def save_record(
        self, name: str, value: str, *, only_new: bool = False, ttl_seconds: float | None = None
    ) -> bool:
        return await self._state.save_record(
            name, value, only_new=only_new, ttl_seconds=ttl_seconds
        )

    async def conversation_entries(self, conversation_id: str) -> list[InboxEntry]:
        return await redis_customers.entries(self.redis, self._stream, conversation_id)

    async def forget_conversation(self, conversation_id: str) -> int:
        ids, _ = await redis_customers.forget(
            self.redis, self._p, (self._stream, self._dead), GROUP, conversation_id
        )
        for entry_id in ids:  # held here: never answered now
            self._queues.remove(conversation_id, entry_id)
        return len(ids)

    async def records_named(self, prefix: str, value: str | None = None) -> dict[str, str]:
        return await redis_customers.records_named(self.redis, self._p, prefix, value)

    async def forget_records(self, prefix: str, value: str | None = None) -> int:
        return await redis_customers.forget_records(self.redis, self._p, prefix, value)

    async def forget_expired(self) -> int:
        return 0  # Redis expires every key that has a time to live by itself
