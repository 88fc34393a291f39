"""Handoff to a person: the owner is told, the agent stays quiet in that conversation until
the owner releases it ("release <ref>" from the owner's number, or an admin call) or the
handoff times out. The owner can also take a conversation over by simply replying from the
WhatsApp Business app on the same number (coexistence): the same quiet, without a notice.

The owner's notice is words inside the owner's own 24-hour window and the Business's
`handoffNotice` template outside it (router.outreach). A release puts a `handoff_ended`
entry in the inbox, in the customer's conversation: the worker then tells the customer
the assistant is back (words or the `handoffEnded` template), in order with their
messages, and durably."""

import dataclasses
import time
from datetime import UTC, datetime

from katha.contracts.messages import AgentReply, CustomerMessage, InboundMessage, MessageType
from katha.contracts.routing import Route
from katha.observability import bind_ids, get_logger
from router import canned, history, identity
from router.conversations import handoff_ref, release_ref, with_human
from router.envelope import Envelope, Recipient
from router.history import History
from router.inbox.base import ConversationState, Inbox
from router.notification import Sender
from router.outreach import Outgoing, Outreach

log = get_logger("router")
# The sent-part mark of the message that handed its conversation over (beside "owner",
# its notice, in the inbox's per-message record of what was done).
STARTED = "handoff"


class Handoff:
    def __init__(
        self,
        inbox: Inbox,
        outreach: Outreach,
        key: bytes,
        timeout_seconds: float,
        owner_quiet_seconds: float,
        history: History | None = None,
    ) -> None:
        self._history = history
        self._inbox = inbox
        self._outreach = outreach
        self._key = key
        self._timeout = timeout_seconds
        self._owner_quiet = owner_quiet_seconds

    async def owner_replied(self, envelope: Envelope) -> bool:
        """The owner wrote to this customer from the Business app: the conversation is with
        a human from now until the quiet period after this reply ends (never shortening a
        longer handoff already running). Nobody is told: the owner is the one talking.
        True when this took the conversation over, False when it only extended the quiet
        (so a redelivered echo is not counted twice)."""
        now = time.time()
        state = await self._inbox.conversation(envelope.conversation_id)
        took_over = not with_human(state, now)
        until = max(now + self._owner_quiet, state.handoff_until or 0.0)
        state = dataclasses.replace(
            state,
            handoff_until=until,
            handoff_ref=handoff_ref(envelope.conversation_id),
            phone_number_id=envelope.phone_number_id,
        )
        await self._inbox.save_conversation(envelope.conversation_id, state)
        log.info("owner.took_over" if took_over else "owner.still_talking")
        if took_over and self._history is not None:
            reason = "the owner replied from the WhatsApp Business app"
            self._history.add(history.handoff_started(envelope, until, reason))
        return took_over

    async def owner_wait(self, route: Route, envelope: Envelope) -> float:
        """Seconds until the owner's number can take this handoff's notice: Meta paces the
        messages to one person, and many customers handed over at once take turns, each
        kept when its message comes back. 0 when no notice is due or it may go now."""
        if route.owner_number is None:
            return 0.0
        if "owner" in await self._inbox.sent_parts(envelope.message_id):
            return 0.0
        owner = Recipient(wa_id=route.owner_number.lstrip("+"))
        return self._outreach.pair_turn(envelope.phone_number_id, owner, envelope.message_id)

    async def start(
        self, route: Route, envelope: Envelope, state: ConversationState, reply: AgentReply
    ) -> None:
        """Hand the conversation to a person: the agent stays quiet from now on. The owner
        is told after (`tell_owner`): a message retried because that failed finds the
        conversation with a person, and tells the owner then."""
        ref = handoff_ref(envelope.conversation_id)
        until = time.time() + self._timeout
        state = dataclasses.replace(state, handoff_until=until, handoff_ref=ref)
        await self._inbox.save_conversation(envelope.conversation_id, state)
        # This message started it: a retry (its notice failed) tells the owner, and never
        # hands the conversation over again once it was released meanwhile.
        await self._inbox.mark_sent(envelope.message_id, STARTED)
        log.info("handoff.started", reason=reply.handoff_reason)
        if self._history is not None:
            self._history.add(history.handoff_started(envelope, until, reply.handoff_reason))

    async def started_here(self, envelope: Envelope) -> bool:
        """Whether `envelope` started a handoff (an earlier attempt of it)."""
        return STARTED in await self._inbox.sent_parts(envelope.message_id)

    async def tell_owner(self, route: Route, envelope: Envelope, reply: AgentReply) -> None:
        """The owner's notice of the handoff `envelope` started, once. Raises
        GraphApiUnavailableError (try the message later) when Meta cannot take it now."""
        if route.owner_number is None:
            return
        if "owner" in await self._inbox.sent_parts(envelope.message_id):
            return
        ref = handoff_ref(envelope.conversation_id)
        name, recipient = envelope.message.sender_name, envelope.recipient
        customer = recipient.wa_id or recipient.username or "a WhatsApp user without a number"
        notice = canned.handoff_notice(ref, customer, name, reply.handoff_reason)
        owner = Sender(wa_id=route.owner_number.lstrip("+"))
        conversation = await identity.resolve(
            self._inbox, self._key, envelope.phone_number_id, owner
        )
        who = f"{name} ({customer})" if name else customer
        outgoing = Outgoing(
            purpose="handoff_notice",
            recipient=Recipient(wa_id=owner.wa_id),
            conversation_id=conversation,
            text=notice,
            parameters=[ref, who, reply.handoff_reason or "-"],
            language=None,
        )
        if await self._outreach.send(route, envelope.phone_number_id, outgoing):
            await self._inbox.mark_sent(envelope.message_id, "owner")
            log.info("handoff.owner_told")
        else:
            log.error("handoff.owner_not_told")

    async def owner_command(self, route: Route, envelope: Envelope) -> None:
        ref = release_ref(envelope.message.text)
        if ref is None:
            log.info("owner.message")
            return
        conversation = await self._inbox.find_handoff(envelope.phone_number_id, ref)
        if conversation is None:
            log.info("handoff.release_unknown")
            return
        await release(self._inbox, conversation, route, self._history)

    async def ended(self, route: Route, envelope: Envelope, language: str | None) -> None:
        """Tell the customer of a released conversation that the assistant is back."""
        if "ended" in await self._inbox.sent_parts(envelope.message_id):
            return
        assistant = route.assistant_name or "the assistant"
        outgoing = Outgoing(
            purpose="handoff_ended",
            recipient=envelope.recipient,
            conversation_id=envelope.conversation_id,
            text=canned.handoff_ended(language, assistant),
            parameters=[assistant],
            language=language,
        )
        if await self._outreach.send(route, envelope.phone_number_id, outgoing):
            await self._inbox.mark_sent(envelope.message_id, "ended")
            if self._history is not None and outgoing.text is not None:
                self._history.add(history.router_words(envelope, "ended", outgoing.text))


CUSTOMER = "customer:"  # conversation id -> the customer's WhatsApp ids (whom to answer)
# The customer's ids are personal data: kept only as long as a follow-up may be due.
CUSTOMER_TTL_SECONDS = 30 * 86400.0


async def remember_customer(inbox: Inbox, conversation_id: str, recipient: Recipient) -> None:
    """Whom a conversation answers, for what the business starts later (the follow-up
    after a handoff): written when the ids change or the record expired, never logged."""
    stored = recipient.model_dump_json()
    if await inbox.record(CUSTOMER + conversation_id) != stored:
        await inbox.save_record(
            CUSTOMER + conversation_id, stored, ttl_seconds=CUSTOMER_TTL_SECONDS
        )


async def release(
    inbox: Inbox, conversation_id: str, route: Route | None, kept: History | None = None
) -> bool:
    """Give a conversation back to the agent (the owner's command or an admin call), and
    queue the customer's follow-up in their conversation (when its route is known)."""
    state = await inbox.conversation(conversation_id)
    if state.handoff_until is None:
        return False
    await inbox.save_conversation(
        conversation_id, dataclasses.replace(state, handoff_until=None, handoff_ref=None)
    )
    with bind_ids(conversation_id=conversation_id):
        log.info("handoff.released")
        if kept is not None and route is not None:
            kept.add(history.handoff_released(route.tenant, conversation_id, state.handoff_until))
        stored = await inbox.record(CUSTOMER + conversation_id)
        if route is None or stored is None or state.phone_number_id is None:
            log.warning("handoff.follow_up_unaddressed")
            return True
        now = time.time()
        # Named after the handoff it ends: two releases of one handoff (the owner and an
        # admin, on two replicas) queue one follow-up, the inbox's dedupe drops the other.
        message = CustomerMessage(
            message_id=f"katha.handoff-ended.{conversation_id}.{int(state.handoff_until)}",
            type=MessageType.TEXT,
            timestamp=datetime.fromtimestamp(now, UTC),
        )
        follow_up = Envelope(
            message=InboundMessage.addressed(message, route.tenant, conversation_id),
            phone_number_id=state.phone_number_id,
            recipient=Recipient.model_validate_json(stored),
            received_at=now,
            kind="handoff_ended",
        )
        await inbox.accept([follow_up])
    return True
