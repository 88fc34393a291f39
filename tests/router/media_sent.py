"""A customer's media message sent through the router's webhook, and what the agent
stand-in received for it (the router's media tests)."""

from typing import Any

from harness import RouterHarness, wait_for
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import message, notification

from katha.contracts.messages import InboundMessage, Media


def send_media(
    router: RouterHarness, tenant: str, kind: str, content: dict[str, Any], sender: str
) -> str:
    """`sender` sends `kind` media to `tenant`'s number; the message id."""
    who = router.tenants[tenant]
    sent = message(kind, content, sender=sender)
    response = router.post(notification(who.phone_number_id, [sent]), who.app_secret)
    assert response.status_code == 200, response.text
    return str(sent["id"])


def received(agent: Agent, message_id: str) -> InboundMessage:
    found: InboundMessage = wait_for(
        lambda: next((m for m in agent.received if m.message_id == message_id), None),
        what=f"the agent to receive {message_id}",
    )
    return found


def media_of(agent: Agent, message_id: str) -> Media:
    """The media the agent received with `message_id`."""
    media = received(agent, message_id).media
    assert media is not None
    return media
