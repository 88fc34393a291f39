"""Envelopes as the inbox stores them, for the inbox tests of both backends."""

import time
from datetime import UTC, datetime

from katha.contracts.messages import InboundMessage, MessageType
from router.envelope import Envelope, Recipient


def envelope(message_id: str, conversation: str, tenant: str = "tenants/alpha") -> Envelope:
    return Envelope(
        message=InboundMessage(
            message_id=message_id,
            tenant=tenant,
            conversation_id=conversation,
            type=MessageType.TEXT,
            timestamp=datetime.now(UTC),
            text=f"text of {message_id}",
        ),
        phone_number_id="105954558954427",
        recipient=Recipient(wa_id="94771234567"),
        received_at=time.time(),
    )


def no_limit(_tenant: str) -> int:
    """A per-tenant claim limit that never limits."""
    return 100
