"""What the Redis inbox keeps beside the stream: saved agent replies, sent-markers, each
conversation's state (a hash keyed by the pseudonymous conversation id), and the
dead letters (a stream of their own)."""

import time
from typing import Any

import redis.asyncio as aioredis

from router.inbox.base import ConversationState
from router.inbox.dead_letters import DeadLetter


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisState:
    def __init__(self, client: aioredis.Redis, prefix: str, ttl_seconds: int) -> None:
        self._redis = client
        self._prefix = prefix
        self._dedupe = ttl_seconds

    async def save_reply(self, message_id: str, reply_json: str) -> None:
        await self._redis.set(f"{self._prefix}reply:{message_id}", reply_json, ex=self._dedupe)

    async def saved_reply(self, message_id: str) -> str | None:
        value = await self._redis.get(f"{self._prefix}reply:{message_id}")
        return _text(value) if value is not None else None

    async def mark_sent(self, message_id: str, part: str) -> None:
        key = f"{self._prefix}sent:{message_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, part)
            pipe.expire(key, self._dedupe)
            await pipe.execute()

    async def sent_parts(self, message_id: str) -> set[str]:
        members = await self._redis.smembers(f"{self._prefix}sent:{message_id}")
        return {_text(member) for member in members}

    async def conversation(self, conversation_id: str) -> ConversationState:
        data = await self._redis.hgetall(f"{self._prefix}conversation:{conversation_id}")
        fields = {_text(key): _text(value) for key, value in data.items()}

        def number(name: str) -> float | None:
            return float(fields[name]) if fields.get(name) else None

        return ConversationState(
            handoff_until=number("handoff_until"),
            handoff_ref=fields.get("handoff_ref") or None,
            phone_number_id=fields.get("phone_number_id") or None,
            language=fields.get("language") or None,
            last_inbound_at=number("last_inbound_at"),
        )

    async def save_conversation(self, conversation_id: str, state: ConversationState) -> None:
        key = f"{self._prefix}conversation:{conversation_id}"
        previous = await self.conversation(conversation_id)
        values: dict[Any, Any] = {
            name: "" if value is None else str(value)
            for name, value in (
                ("handoff_until", state.handoff_until),
                ("handoff_ref", state.handoff_ref),
                ("phone_number_id", state.phone_number_id),
                ("language", state.language),
                ("last_inbound_at", state.last_inbound_at),
            )
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=values)
            pipe.expire(key, self._dedupe)
            if previous.handoff_ref and previous.handoff_ref != state.handoff_ref:
                pipe.delete(
                    f"{self._prefix}handoff:{previous.phone_number_id}:{previous.handoff_ref}"
                )
            if state.handoff_ref and state.handoff_until:
                ttl = max(1, int(state.handoff_until - time.time()))
                ref_key = f"{self._prefix}handoff:{state.phone_number_id}:{state.handoff_ref}"
                pipe.set(ref_key, conversation_id, ex=ttl)
            await pipe.execute()

    async def find_handoff(self, phone_number_id: str, ref: str) -> str | None:
        value = await self._redis.get(f"{self._prefix}handoff:{phone_number_id}:{ref}")
        return _text(value) if value is not None else None

    async def record(self, name: str) -> str | None:
        value = await self._redis.get(f"{self._prefix}record:{name}")
        return _text(value) if value is not None else None

    async def save_record(
        self, name: str, value: str, *, only_new: bool = False, ttl_seconds: float | None = None
    ) -> bool:
        expiry = max(1, int(ttl_seconds)) if ttl_seconds is not None else None
        key = f"{self._prefix}record:{name}"
        return bool(await self._redis.set(key, value, nx=only_new, ex=expiry))

    async def dead_letters(self, stream: str, limit: int) -> list[DeadLetter]:
        entries: Any = await self._redis.xrevrange(stream, count=limit)
        letters: list[DeadLetter] = []
        for ident, raw in entries:
            fields = {_text(key): _text(value) for key, value in raw.items() if key != b"body"}
            letters.append(
                DeadLetter(
                    id=_text(ident),
                    entry_id=fields.get("entry_id", ""),
                    message_id=fields.get("message_id") or None,
                    tenant=fields.get("tenant") or None,
                    reason=fields.get("reason", ""),
                    detail=fields.get("detail", ""),
                    size=int(fields.get("size") or 0),
                    dead_at=float(fields.get("dead_at") or 0.0),
                )
            )
        return letters
