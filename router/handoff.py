"""Handoff to a person: the owner is told, the agent stays quiet in that conversation until
the owner releases it ("release <ref>" from the owner's number, or an admin call) or the
handoff times out. The owner can also take a conversation over by simply replying from the
WhatsApp Business app on the same number (coexistence): the same quiet, without a notice."""

import dataclasses
import time

from katha.contracts.messages import AgentReply
from katha.contracts.routing import Route
from katha.observability import bind_ids, get_logger
from router import canned
from router.conversations import handoff_ref, release_ref, with_human
from router.envelope import Envelope, Recipient
from router.graph_api import GraphApiClient, GraphApiError
from router.inbox.base import ConversationState, Inbox

log = get_logger("router")


class Handoff:
    def __init__(
        self,
        inbox: Inbox,
        graph: GraphApiClient,
        timeout_seconds: float,
        owner_quiet_seconds: float,
    ) -> None:
        self._inbox = inbox
        self._graph = graph
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
        return took_over

    async def start(
        self, route: Route, envelope: Envelope, state: ConversationState, reply: AgentReply
    ) -> None:
        ref = handoff_ref(envelope.conversation_id)
        until = time.time() + self._timeout
        state = dataclasses.replace(state, handoff_until=until, handoff_ref=ref)
        await self._inbox.save_conversation(envelope.conversation_id, state)
        log.info("handoff.started", reason=reply.handoff_reason)
        if route.owner_number is None:
            return
        if "owner" in await self._inbox.sent_parts(envelope.message_id):
            return
        customer = envelope.recipient.wa_id or envelope.recipient.user_id or "unknown"
        notice = canned.handoff_notice(
            ref, customer, envelope.message.sender_name, reply.handoff_reason
        )
        owner = Recipient(wa_id=route.owner_number.lstrip("+"))
        token = route.credentials.access_token.get_secret_value()
        try:
            await self._graph.send_text(envelope.phone_number_id, token, owner, notice)
        except GraphApiError as error:
            # Outside the owner's own 24-hour window only a template would reach them.
            log.error("handoff.owner_not_told", code=error.code)
            return
        await self._inbox.mark_sent(envelope.message_id, "owner")
        log.info("handoff.owner_told")

    async def owner_command(self, envelope: Envelope) -> None:
        ref = release_ref(envelope.message.text)
        if ref is None:
            log.info("owner.message")
            return
        conversation = await self._inbox.find_handoff(envelope.phone_number_id, ref)
        if conversation is None:
            log.info("handoff.release_unknown")
            return
        await release(self._inbox, conversation)


async def release(inbox: Inbox, conversation_id: str) -> bool:
    """Give a conversation back to the agent (the owner's command or an admin call)."""
    state = await inbox.conversation(conversation_id)
    if state.handoff_until is None:
        return False
    await inbox.save_conversation(
        conversation_id, dataclasses.replace(state, handoff_until=None, handoff_ref=None)
    )
    with bind_ids(conversation_id=conversation_id):
        log.info("handoff.released")
    return True
