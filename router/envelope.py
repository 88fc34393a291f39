"""An accepted customer message as the inbox keeps it: the agent's view plus what only the
router may know (whom to answer), and the pseudonymous conversation id that ties them."""

import hashlib
import hmac
from typing import Literal

from pydantic import BaseModel, ConfigDict

from katha.contracts.messages import InboundMessage


class Recipient(BaseModel):
    """Whom a reply goes to. Private to the router: never sent to the agent, never logged."""

    model_config = ConfigDict(frozen=True)

    wa_id: str | None = None
    user_id: str | None = None
    username: str | None = None  # shown to the owner when no number is shared

    def graph_fields(self) -> dict[str, str]:
        """The Graph API addressing: the phone number, else the business-scoped user id."""
        if self.wa_id:
            return {"to": self.wa_id}
        return {"recipient": self.user_id or ""}


EnvelopeKind = Literal["customer", "owner_echo", "handoff_ended"]


class Envelope(BaseModel):
    """One message in the inbox. `handle` and `attempts` are the inbox's bookkeeping.

    `kind` "owner_echo" is a reply the owner typed in the WhatsApp Business app (coexistence):
    it travels through the inbox like a customer message, in the customer's conversation,
    so it is stored before the webhook is acknowledged (a crash after the 200 cannot lose
    the takeover), deduplicated by its id, and handled in order with the customer's own
    messages, all by the inbox code that already promises those things. Its `message`
    holds only the echo's id, type and time; `recipient` is the customer. Entries stored
    before `kind` existed load as "customer".

    `kind` "handoff_ended" is the router's own entry, put in a conversation when the owner
    releases it: the customer is told the assistant is back (router.handoff.release).
    """

    # Non-finite numbers would be written as null and never read back (a dead letter).
    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    message: InboundMessage
    phone_number_id: str
    recipient: Recipient
    received_at: float
    kind: EnvelopeKind = "customer"
    attempts: int = 0
    handle: str = ""

    @property
    def message_id(self) -> str:
        return self.message.message_id

    @property
    def tenant(self) -> str:
        return self.message.tenant

    @property
    def conversation_id(self) -> str:
        return self.message.conversation_id

    def stored(self) -> str:
        return self.model_dump_json(exclude={"attempts", "handle"})

    @classmethod
    def restored(cls, data: str | bytes, *, attempts: int, handle: str) -> "Envelope":
        loaded = cls.model_validate_json(data)
        return loaded.model_copy(update={"attempts": attempts, "handle": handle})


def conversation_id(key: bytes, phone_number_id: str, sender_key: str) -> str:
    """A pseudonym for (business number, customer): stable, unlinkable without the key."""
    material = f"{phone_number_id}:{sender_key}".encode()
    return "c-" + hmac.new(key, material, hashlib.sha256).hexdigest()[:30]
