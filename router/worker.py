"""A Worker answers one inbox message: rules first (route, handoff, abuse, media), then the
tenant's agent, then the Graph API; it completes the message or gives it back for later."""

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections import defaultdict

from katha.contracts.messages import AgentReply, MessageType, OwnerNote, ReplyTracking
from katha.contracts.routing import Route
from katha.observability import bind_ids, get_logger
from katha.replies import text_only
from katha.store import StoreEvent
from router import canned, history, media
from router.account import account_state
from router.agent import AgentClient, AgentRefusedError, AgentUnavailableError
from router.conversations import is_owner, window_open, with_human
from router.envelope import Envelope
from router.graph_api import (
    GraphApiClient,
    GraphApiError,
    GraphApiUnavailableError,
    OutsideWindowError,
)
from router.handoff import STARTED, Handoff, remember_customer
from router.history import History
from router.inbox.base import ConversationState, Inbox
from router.inbox.dead_letters import DeadLetter
from router.limits import CircuitBreaker, SenderRate
from router.live_routes import LiveRoutes
from router.metrics import RouterMetrics
from router.outreach import Outgoing, Outreach
from router.retry import RetryLaterError
from router.settings import RouterSettings
from router.split import split_text

log = get_logger("router")

# A thumbs-up needs no answer: dropped here, never forwarded (the one place that says so).
SILENT_TYPES = frozenset({MessageType.REACTION})
# How long a worker may wait for the owner's number to take a handoff notice before the
# message goes back to the inbox until it can (the customer's reply is sent already).
OWNER_NOTICE_HOLD_SECONDS = 0.5
# How long an answer waits for its message's read receipt to go first (the typing
# indicator it starts stays up to 25 s unless the answer comes after it).
RECEIPT_FIRST_SECONDS = 2.0


class Worker:
    def __init__(
        self,
        settings: RouterSettings,
        inbox: Inbox,
        routes: LiveRoutes,
        agent: AgentClient,
        graph: GraphApiClient,
        metrics: RouterMetrics,
        conversation_key: bytes = b"",
        history: History | None = None,
    ) -> None:
        self._history = history
        self._settings = settings
        self._inbox = inbox
        self._routes = routes
        self._agent = agent
        self._graph = graph
        self._metrics = metrics
        self._media = media.MediaFetcher(settings, inbox, graph, metrics, history)
        self._breakers: dict[str, CircuitBreaker] = defaultdict(
            lambda: CircuitBreaker(settings.breaker_failures, settings.breaker_reset_seconds)
        )
        self._senders = SenderRate(settings.sender_rate_per_minute / 60, settings.sender_burst)
        self._told_to_slow_down: set[str] = set()
        self._receipts: dict[str, asyncio.Task[None]] = {}  # read receipts under way
        self._outreach = Outreach(inbox, graph, metrics, settings.reply_window_seconds)
        self._handoff = Handoff(
            inbox,
            self._outreach,
            conversation_key,
            settings.handoff_timeout_seconds,
            settings.owner_quiet_seconds,
            history,
        )

    def dead_lettered(self, letter: DeadLetter) -> None:
        """An inbox entry could not be loaded and was set aside: count it, say so."""
        self._metrics.dead_letters.labels(letter.tenant or "unknown", letter.reason).inc()
        log.error(
            "message.dead_lettered",
            tenant=letter.tenant,
            message_id=letter.message_id,
            entry_id=letter.entry_id,
            reason=letter.reason,
            detail=letter.detail,
            size=letter.size,
        )

    def breaker(self, tenant: str) -> CircuitBreaker:
        return self._breakers[tenant]

    async def aclose(self) -> None:
        """Stop the read receipts still under way (the router is stopping)."""
        receipts = list(self._receipts.values())
        for receipt in receipts:
            receipt.cancel()
        await asyncio.gather(*receipts, return_exceptions=True)

    async def handle(self, envelope: Envelope) -> None:
        with bind_ids(
            tenant=envelope.tenant,
            conversation_id=envelope.conversation_id,
            message_id=envelope.message_id,
        ):
            try:
                await self._answer(envelope)
            except RetryLaterError as later:
                await self._retry(envelope, later.delay, str(later))
                return
            except GraphApiUnavailableError as error:  # Meta throttling or down: later
                self._metrics.sends.labels("retry_later", str(error.code or error.status)).inc()
                log.warning("graph_api.unavailable", code=error.code, status=error.status)
                delay = self._backoff(envelope.attempts)
                await self._retry(envelope, delay, "graph api unavailable")
                return
            except Exception:
                log.exception("message.failed", attempt=envelope.attempts + 1)
                await self._retry(envelope, self._backoff(envelope.attempts), "unexpected error")
                return
            await self._inbox.complete(envelope)

    def _backoff(self, attempts: int) -> float:
        base = self._settings.retry_base_seconds * 2 ** min(attempts, 20)
        return float(min(self._settings.retry_max_seconds, base))

    async def _retry(self, envelope: Envelope, delay: float, reason: str) -> None:
        age = time.time() - envelope.message.timestamp.timestamp()
        if age > self._settings.reply_window_seconds:
            log.error("reply.expired", reason=reason, attempts=envelope.attempts + 1)
            route = self._routes.route_for(envelope.phone_number_id)
            if route is not None and envelope.kind == "customer":
                done = await self._inbox.sent_parts(envelope.message_id)
                told = "reopen" in done or any(key.isdigit() for key in done)  # reply parts
                if STARTED in done and told:
                    # The customer had the answer (or the reopen template) and the
                    # conversation is with a person; the owner's notice may never have gone.
                    if "owner" not in done:
                        log.error("handoff.owner_notice_lost")
                        self._metrics.sends.labels("notice_lost", "").inc()
                else:
                    state = await self._inbox.conversation(envelope.conversation_id)
                    with contextlib.suppress(GraphApiError):  # best effort, never twice
                        await self._reopen(route, envelope, state)
            await self._inbox.complete(envelope)
            return
        log.warning("message.retry", reason=reason, delay=round(delay, 3))
        self._metrics.retries.labels(envelope.tenant, reason.replace(" ", "_")).inc()
        await self._inbox.retry_later(envelope, delay)

    async def _answer(self, envelope: Envelope) -> None:
        route = self._routes.route_for(envelope.phone_number_id)
        if route is None:
            log.warning("route.unknown")
            return
        if route.suspended:
            log.info("message.suspended")
            return
        if envelope.kind == "owner_echo":
            # The owner's own reply: it silences the agent here, and opens no reply window.
            if await self._handoff.owner_replied(envelope):
                self._metrics.owner_takeovers.labels(route.tenant).inc()
            self._keep(history.owner_words(envelope))
            await self._note(route, envelope)
            return
        if envelope.kind == "handoff_ended":
            state = await self._inbox.conversation(envelope.conversation_id)
            if with_human(state):  # the owner took it back meanwhile: nothing to say
                log.info("handoff.follow_up_skipped")
                return
            await self._handoff.ended(route, envelope, state.language)
            return
        state = await self._remember(route, envelope)
        if is_owner(route.owner_number, envelope.recipient.wa_id):
            await self._handoff.owner_command(route, envelope)
            return
        self._keep(history.customer_message(envelope, state.language))
        if route.paused:  # kept, unanswered, for the owner: no agent, no canned words
            log.info("message.paused")
            if envelope.attempts == 0:
                self._metrics.held.labels(route.tenant, "paused").inc()
            return
        state = await self._expire_handoff(route, envelope, state)
        if with_human(state):
            await self._handed_over(route, envelope)
            return
        if await self._admitted(route, envelope, state):
            await self._reply_and_send(route, envelope, state)

    async def _remember(self, route: Route, envelope: Envelope) -> ConversationState:
        """Save what the message tells about the conversation, and count it once."""
        message = envelope.message
        state = await self._inbox.conversation(envelope.conversation_id)
        inbound_at = message.timestamp.timestamp()
        state = dataclasses.replace(
            state,
            phone_number_id=envelope.phone_number_id,
            last_inbound_at=max(state.last_inbound_at or 0.0, inbound_at),
        )
        await self._inbox.save_conversation(envelope.conversation_id, state)
        if envelope.attempts == 0:
            self._metrics.messages.labels(route.tenant, message.type.value).inc()
            await remember_customer(self._inbox, envelope.conversation_id, envelope.recipient)
        return state

    def _keep(self, event: StoreEvent | None) -> None:
        if self._history is not None:
            self._history.add(event)

    async def _expire_handoff(
        self, route: Route, envelope: Envelope, state: ConversationState
    ) -> ConversationState:
        """A handoff whose time ran out ends here, when the customer next writes: the
        conversation history says so, and the state forgets it."""
        if state.handoff_until is None or with_human(state):
            return state
        self._keep(
            history.handoff_released(
                route.tenant, envelope.conversation_id, state.handoff_until, by="system"
            )
        )
        state = dataclasses.replace(state, handoff_until=None, handoff_ref=None)
        await self._inbox.save_conversation(envelope.conversation_id, state)
        log.info("handoff.expired")
        return state

    async def _note(self, route: Route, envelope: Envelope) -> None:
        """The owner's words go into the conversation's memory at the agent (asked once;
        a redelivered echo is the same note, which the agent keeps once)."""
        text = envelope.message.text
        if not text or "note" in await self._inbox.sent_parts(envelope.message_id):
            return
        note = OwnerNote(
            message_id=envelope.message_id,
            tenant=route.tenant,
            conversation_id=envelope.conversation_id,
            timestamp=envelope.message.timestamp,
            text=text,
        )
        try:
            await self._agent.note(route.endpoint, note)
        except AgentRefusedError as error:  # an agent without notes: asking again won't help
            log.error("owner.note_refused", error=str(error))
        except AgentUnavailableError as error:
            log.warning("owner.note_failed", error=str(error), attempt=envelope.attempts + 1)
            raise RetryLaterError(self._backoff(envelope.attempts), "agent unavailable") from error
        await self._inbox.mark_sent(envelope.message_id, "note")
        log.info("owner.noted")

    async def _learn_language(
        self, envelope: Envelope, state: ConversationState, reply: AgentReply
    ) -> ConversationState:
        """The conversation's language is the one the agent found and answered in: the
        agent detects it (once, from the customer's words); the router only remembers it,
        for its own few words and as the agent's hint on the next message."""
        if reply.language in ("", "unknown") or reply.language == state.language:
            return state
        state = dataclasses.replace(state, language=reply.language)
        await self._inbox.save_conversation(envelope.conversation_id, state)
        return state

    async def _admitted(self, route: Route, envelope: Envelope, state: ConversationState) -> bool:
        """Whether the agent is asked; a message it is not asked about may get a canned
        answer instead."""
        message, language = envelope.message, state.language
        if not self._within_sender_rate(envelope):
            if envelope.conversation_id not in self._told_to_slow_down:
                self._told_to_slow_down.add(envelope.conversation_id)
                log.warning("sender.throttled")
                words = canned.slow_down(language)
                await self._send(route, envelope, state, {"slow": words})
                self._keep(history.router_words(envelope, "slow", words))
            else:
                log.info("sender.silenced")
            return False
        if not window_open(state, self._settings.reply_window_seconds):
            # Only templates may follow after 24 hours; the agent is not asked for words
            # that cannot be sent. The Business's `reopen` template, if any, asks the
            # customer to write again (which opens a new window).
            log.error("reply.outside_window")
            self._metrics.sends.labels("outside_window", "131047").inc()
            await self._reopen(route, envelope, state)
            return False
        if message.type in SILENT_TYPES:
            log.info("message.ignored", type=message.type.value)
            return False
        if message.type not in route.accepts:
            log.info("message.not_handled", type=message.type.value)
            words = text_only(language)
            await self._send(route, envelope, state, {"canned": words})
            self._keep(history.router_words(envelope, "canned", words))
            return False
        return True

    async def _reopen(self, route: Route, envelope: Envelope, state: ConversationState) -> None:
        if "reopen" in await self._inbox.sent_parts(envelope.message_id):
            return
        outgoing = Outgoing(
            purpose="reopen",
            recipient=envelope.recipient,
            conversation_id=envelope.conversation_id,
            text=None,
            parameters=[route.display_name or ""],
            language=state.language,
        )
        if await self._outreach.send(route, envelope.phone_number_id, outgoing):
            await self._inbox.mark_sent(envelope.message_id, "reopen")

    async def _reply_and_send(
        self, route: Route, envelope: Envelope, state: ConversationState
    ) -> None:
        reply = await self._reply(route, envelope, state)
        state = await self._learn_language(envelope, state, reply)
        parts = split_text(reply.text or "")
        tracking = ReplyTracking.of(reply).encode() if self._settings.reply_tracking else None
        await self._send(
            route, envelope, state, {str(i): part for i, part in enumerate(parts)}, tracking
        )
        if reply.text:
            self._keep(history.agent_reply(envelope, reply))
        if reply.handoff:
            await self._hand_over(route, envelope, state, reply)

    async def _hand_over(
        self, route: Route, envelope: Envelope, state: ConversationState, reply: AgentReply
    ) -> None:
        if await self._handoff.started_here(envelope):
            # An earlier attempt handed over, and the conversation was released (by the
            # owner or an admin) or ran out while its notice waited: there is nothing to
            # tell the owner now, and handing it over again would undo the release.
            log.info("handoff.released_before_notice")
            return
        await self._owner_turn(route, envelope)
        await self._handoff.start(route, envelope, state, reply)
        self._metrics.handoffs.labels(route.tenant).inc()
        await self._tell_owner(route, envelope, reply)

    async def _owner_turn(self, route: Route, envelope: Envelope) -> None:
        wait = await self._handoff.owner_wait(route, envelope)
        if wait > OWNER_NOTICE_HOLD_SECONDS:
            # The customer has the answer; the owner's notice waits its turn in the inbox,
            # not in this worker: waiting here held one of the tenant's few workers, and
            # every other customer of the shop waited behind it.
            raise RetryLaterError(wait, "owner notice paced")

    async def _handed_over(self, route: Route, envelope: Envelope) -> None:
        """A message for a conversation a person has. Usually the agent just keeps quiet;
        but when this very message handed the conversation over and was retried because
        the owner's notice could not go, the notice goes now (the agent is not asked
        again and the customer is not answered twice). A message that only asked for a
        handoff, while the owner took the conversation some other way, tells nobody."""
        saved = await self._inbox.saved_reply(envelope.message_id)
        if saved is None or not await self._handoff.started_here(envelope):
            log.info("message.with_human")
            return
        await self._owner_turn(route, envelope)
        await self._tell_owner(route, envelope, AgentReply.model_validate_json(saved))

    async def _tell_owner(self, route: Route, envelope: Envelope, reply: AgentReply) -> None:
        try:
            await self._handoff.tell_owner(route, envelope, reply)
        except GraphApiUnavailableError:
            log.warning("handoff.owner_notice_failed")  # `handle` retries the message
            raise

    def _within_sender_rate(self, envelope: Envelope) -> bool:
        conversation, at = envelope.conversation_id, envelope.message.timestamp.timestamp()
        if self._senders.calm(conversation, at):
            self._told_to_slow_down.discard(conversation)
        return self._senders.allow(conversation, envelope.message_id, at)

    async def _reply(
        self, route: Route, envelope: Envelope, state: ConversationState
    ) -> AgentReply:
        # A reply already saved by an earlier attempt is reused: the agent is asked once.
        saved = await self._inbox.saved_reply(envelope.message_id)
        if saved is not None:
            return AgentReply.model_validate_json(saved)
        wait = self.breaker(route.tenant).allow()
        if wait > 0:
            raise RetryLaterError(wait, "circuit open")
        if envelope.attempts == 0:
            # The blue ticks and typing indicator go while the agent thinks: the receipt
            # takes its turn in the number's pace (arrivals count toward it too), and the
            # answer need not wait for that turn before the agent is asked.
            token = route.credentials.access_token.get_secret_value()
            receipt = asyncio.create_task(self._mark_read(envelope, token))
            self._receipts[envelope.message_id] = receipt
            receipt.add_done_callback(functools.partial(self._receipt_done, envelope.message_id))
        message = await self._media.for_agent(route, envelope, state.language)
        started = time.perf_counter()
        try:
            reply = await self._agent.ask(route.endpoint, message)
        except AgentUnavailableError as error:
            self.breaker(route.tenant).failed()
            self._metrics.forwards.labels(route.tenant, "failed").inc()
            log.warning("agent.failed", error=str(error), attempt=envelope.attempts + 1)
            raise RetryLaterError(self._backoff(envelope.attempts), "agent unavailable") from error
        self.breaker(route.tenant).succeeded()
        elapsed = time.perf_counter() - started
        self._metrics.forward_seconds.labels(route.tenant).observe(elapsed)
        self._metrics.forwards.labels(route.tenant, "ok").inc()
        self._metrics.answers.labels(route.tenant, reply.language or "unknown").inc()
        log.info("agent.answered", seconds=round(elapsed, 3), handoff=reply.handoff)
        await self._inbox.save_reply(envelope.message_id, reply.model_dump_json())
        return reply

    def _receipt_done(self, message_id: str, receipt: asyncio.Task[None]) -> None:
        if self._receipts.get(message_id) is receipt:  # not a later attempt's receipt
            del self._receipts[message_id]

    async def _receipt_first(self, envelope: Envelope) -> None:
        """The message's read receipt goes before its answer (the typing indicator it
        starts would otherwise stay up), waited for RECEIPT_FIRST_SECONDS at most."""
        receipt = self._receipts.get(envelope.message_id)
        if receipt is not None:
            await asyncio.wait({receipt}, timeout=RECEIPT_FIRST_SECONDS)

    async def _mark_read(self, envelope: Envelope, token: str) -> None:
        """A task of its own (it logs with the ids of the message that started it)."""
        try:
            await self._graph.mark_read(envelope.phone_number_id, token, envelope.message_id)
        except GraphApiError as error:
            log.info("message.read_failed", code=error.code)
        except Exception:  # a missing blue tick never stops the answer
            log.exception("message.read_failed")

    async def _send(
        self,
        route: Route,
        envelope: Envelope,
        state: ConversationState,
        parts: dict[str, str],
        tracking: str | None = None,
    ) -> None:
        """Send each part once. A part is marked sent after the Graph API accepted it: a
        crash between the two sends that part again after restart (at-least-once, a
        window of one HTTP round trip); marking first would risk never sending it."""
        if not parts:
            return
        if not window_open(state, self._settings.reply_window_seconds):
            log.error("reply.outside_window")
            self._metrics.sends.labels("outside_window", "131047").inc()
            await self._reopen(route, envelope, state)  # the answer came too late
            return
        if not (await account_state(self._inbox, route.tenant)).may_reply():
            # Meta restricts this account's replies: each one would be refused.
            log.error("reply.restricted")
            self._metrics.sends.labels("restricted", "").inc()
            return
        done = await self._inbox.sent_parts(envelope.message_id)
        token = route.credentials.access_token.get_secret_value()
        await self._receipt_first(envelope)
        for key, text in parts.items():
            if key in done:
                continue
            await self._send_one(envelope, token, text, key, tracking)

    async def _send_one(
        self, envelope: Envelope, token: str, text: str, key: str, tracking: str | None
    ) -> None:
        try:
            result = await self._graph.send_text(
                envelope.phone_number_id,
                token,
                envelope.recipient,
                text,
                reply_to=envelope.message_id,
                tracking=tracking,
            )
        except OutsideWindowError:
            log.error("reply.outside_window")
            self._metrics.sends.labels("outside_window", "131047").inc()
            return
        except GraphApiUnavailableError as error:
            self._metrics.sends.labels("retry_later", str(error.code or error.status)).inc()
            log.warning("reply.failed", code=error.code, status=error.status, retry=True)
            raise RetryLaterError(
                self._backoff(envelope.attempts), "graph api unavailable"
            ) from error
        except GraphApiError as error:
            self._metrics.sends.labels("failed", str(error.code or error.status)).inc()
            log.error("reply.failed", code=error.code, status=error.status, retry=False)
            return
        await self._inbox.mark_sent(envelope.message_id, key)
        self._metrics.sends.labels("sent", "").inc()
        log.info("reply.sent", part=key, attempts=result.attempts)
