"""`katha chat` and `katha ask`: be a customer of a business that `katha up` serves.

Each line becomes a WhatsApp Cloud API webhook (the `messages` field, Meta's current
shape), signed with the tenant's app secret as Meta signs it, and posted to the router;
the reply is read back from the local outbox with the language and sources the router
attached to it. The local Graph API is told of each message first, as Meta knows every
message it delivers: it opens the customer's 24-hour window for free-form replies. A template
reply reads "[template NAME LANGUAGE] parameters".
"""

import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx

from katha.contracts.messages import ReplyTracking
from katha_cli.local.meta_rules import template_parameters
from katha_cli.local.outbox import MAX_WAIT_SECONDS, OutboxMessage
from katha_cli.local.router_process import LOCAL_HANDOFF_SECONDS
from katha_cli.local.state import TenantInfo, UpState
from router.signature import sign

DEFAULT_CUSTOMER = "94770000000"
# While a person may have the conversation (the agent's last reply to this customer
# handed them over, less than the local handoff timeout ago), a message the router has
# not marked read within this long is one the agent stays quiet on: the customer is told
# so rather than waiting the whole timeout. A message marked read is with the agent (the
# owner gave the conversation back), and its reply gets the whole timeout.
WITH_PERSON_WAIT_SECONDS = 8.0
RELEASE = re.compile(r"release ([0-9a-z]+)")
RELEASE_REF = re.compile(r"[0-9a-z]+")
WEBHOOK_PATH = "/webhooks/whatsapp"
INBOUND_PATH = "/local/inbound"  # the local Graph API learns of each customer message
# Sample questions for --lang when a Business has no FAQ question in that language.
FALLBACK_SAMPLES = {
    "si": ["ඔබ විවෘතව තිබෙන වේලාවන් මොනවාද?"],
    "singlish": ["oyala kiyatada arinne?"],
    "ta": ["நீங்கள் எத்தனை மணிக்கு திறப்பீர்கள்?"],
    "en": ["What are your opening hours?"],
}


class ChatError(RuntimeError):
    pass


class WithPersonError(ChatError):
    """No reply came because the conversation is with a person: the agent stays quiet."""


@dataclass(frozen=True)
class Answer:
    parts: list[OutboxMessage]
    seconds: float  # from posting the webhook to the first part in the outbox

    @property
    def text(self) -> str:
        return "\n".join(part.text or "" for part in self.parts)

    @property
    def tracking(self) -> ReplyTracking | None:
        return next((part.tracking for part in self.parts if part.tracking), None)

    def as_dict(self) -> dict[str, Any]:
        tracking = self.tracking
        return {
            "text": self.text,
            "seconds": round(self.seconds, 3),
            "language": tracking.language if tracking else None,
            "intent": tracking.intent if tracking else None,
            "confidence": tracking.confidence if tracking else None,
            "handoff": tracking.handoff if tracking else None,
            "sources": tracking.sources if tracking else [],
        }


def webhook_body(
    tenant: TenantInfo, customer: str, name: str, message_id: str, text: str
) -> dict[str, Any]:
    message = {
        "from": customer,
        "id": message_id,
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": tenant.phone_number_id,
            "phone_number_id": tenant.phone_number_id,
        },
        "contacts": [{"profile": {"name": name}, "wa_id": customer}],
        "messages": [message],
    }
    account = tenant.business_account_id or tenant.phone_number_id
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": account, "changes": [{"field": "messages", "value": value}]}],
    }


class Customer:
    """One customer (a phone number) writing to one tenant."""

    def __init__(
        self,
        state: UpState,
        tenant: TenantInfo,
        number: str = DEFAULT_CUSTOMER,
        name: str = "Katha tester",
        timeout: float = 60.0,
        quiet_seconds: float = 0.3,
    ) -> None:
        self.state = state
        self.tenant = tenant
        self.number = number
        self.name = name
        self.timeout = timeout
        self.quiet_seconds = quiet_seconds
        self._http = httpx.Client(timeout=10)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Customer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, text: str) -> str:
        """Post one signed webhook; returns its message id."""
        message_id = "wamid.katha." + secrets.token_hex(12)
        body = webhook_body(self.tenant, self.number, self.name, message_id, text)
        raw = json.dumps(body, ensure_ascii=False).encode()
        self._opened_window(raw)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(raw, self.tenant.app_secret.encode()),
        }
        try:
            response = self._http.post(
                self.state.router_url + WEBHOOK_PATH, content=raw, headers=headers
            )
        except httpx.HTTPError as error:
            raise ChatError(
                f"the router at {self.state.router_url} did not answer: {error}"
            ) from None
        if response.status_code != 200:
            raise ChatError(f"the router refused the webhook: HTTP {response.status_code}")
        return message_id

    def _opened_window(self, raw: bytes) -> None:
        """Tell the local Graph API this message is on its way, before the router could
        answer it: "Meta" then accepts free-form replies to this customer for 24 hours."""
        headers = {"Content-Type": "application/json"}
        try:
            response = self._http.post(
                self.state.graph_url + INBOUND_PATH, content=raw, headers=headers
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise ChatError(
                f"the local Graph API at {self.state.graph_url} did not answer: {error}"
            ) from None

    def ask(self, text: str) -> Answer:
        after = self._last_seq()
        handed_over = self.handed_over_at()
        started = time.perf_counter()
        message_id = self.send(text)
        return self.wait_for_reply(message_id, after, started, handed_over)

    def handed_over_at(self, now: float | None = None) -> float | None:
        """When the agent last handed this customer to a person (wall-clock seconds), if
        that is recent enough that a person may still have the conversation: the agent's
        latest reply to them (a reply of the agent's carries its tracking) was a handoff
        less than the local handoff timeout ago. A release is not seen here: whether the
        router handed a message to the agent is (`wait_for_reply`)."""
        moment = time.time() if now is None else now
        replies = [
            message
            for message in self._outbox(0, 0)
            if message.phone_number_id == self.tenant.phone_number_id and message.tracking
        ]
        if not replies or replies[-1].tracking is None or not replies[-1].tracking.handoff:
            return None
        at = replies[-1].at
        return at if moment - at < LOCAL_HANDOFF_SECONDS else None

    def wait_for_reply(
        self, message_id: str, after: int, started: float, handed_over: float | None = None
    ) -> Answer:
        """Long-poll the outbox for the parts answering `message_id`; the reply is complete
        when no further part came for `quiet_seconds`. When the conversation was handed to
        a person at `handed_over` and the router has not marked `message_id` read within
        WITH_PERSON_WAIT_SECONDS, the agent stays quiet on it: WithPersonError says so."""
        parts: list[OutboxMessage] = []
        first_at = 0.0
        deadline = started + self.timeout
        if handed_over is not None:
            deadline = min(deadline, started + WITH_PERSON_WAIT_SECONDS)
        while True:
            now = time.perf_counter()
            if now >= deadline:
                if parts:
                    return Answer(parts, first_at - started)
                if handed_over is None:
                    raise ChatError(f"no reply within {self.timeout:.0f} s")
                if not self._was_read(message_id):
                    # A last look: a reply that came in since the last poll is still one.
                    parts = [m for m in self._outbox(after, 0) if m.reply_to == message_id]
                    if parts:
                        return Answer(parts, time.perf_counter() - started)
                    raise self._with_person(handed_over)
                # Given back meanwhile: the agent has it, and gets the whole timeout.
                handed_over, deadline = None, started + self.timeout
                continue
            wait = min(deadline - now, self.quiet_seconds) if parts else deadline - now
            wait = min(wait, MAX_WAIT_SECONDS)  # a longer --timeout polls again
            arrived = self._outbox(after, wait)
            for message in arrived:
                after = max(after, message.seq)
                if message.reply_to == message_id:
                    parts.append(message)
                    first_at = first_at or time.perf_counter()
            if parts and not any(message.reply_to == message_id for message in arrived):
                return Answer(parts, first_at - started)

    @staticmethod
    def _with_person(handed_over: float) -> "WithPersonError":
        since, until = (
            time.strftime("%H:%M:%S", time.localtime(moment))
            for moment in (handed_over, handed_over + LOCAL_HANDOFF_SECONDS)
        )
        return WithPersonError(
            f"no reply: this conversation was handed to a person at {since}. The owner sees "
            "your message; the agent stays quiet until they release it (/release in katha "
            f"chat) or until {until}"
        )

    def _was_read(self, message_id: str) -> bool:
        response = self._http.get(
            f"{self.state.graph_url}/outbox/read", params={"message_id": message_id}
        )
        response.raise_for_status()
        return bool(response.json()["read"])

    def release(self) -> str:
        """Play the owner: answer the latest handoff notice about this customer with its
        "release <ref>" command, from the owner's number, as the owner would on WhatsApp.
        Returns the reference released."""
        owner = (self.tenant.owner_number or "").lstrip("+")
        if not owner:
            raise ChatError(f"{self.tenant.key} has no handoff owner number")
        notices = [message.text or "" for message in self._outbox(0, 0, recipient=owner)]
        # By number first: many testers keep the default profile name.
        refs = [ref for notice in notices if (ref := self._handoff_ref(notice, self.number))]
        refs = refs or [ref for notice in notices if (ref := self._handoff_ref(notice, self.name))]
        if not refs:
            raise ChatError("no conversation of this customer is with a person")
        as_customer = self.number
        self.number = owner
        try:
            self.send(f"release {refs[-1]}")
        finally:
            self.number = as_customer
        return refs[-1]

    @staticmethod
    def _handoff_ref(notice: str, customer: str) -> str | None:
        """The reference of a handoff notice naming `customer`: the "release <ref>" of a
        free-form notice, or the first parameter of a handoffNotice template (its second
        names the customer, by name or number)."""
        parameters = template_parameters(notice)
        if parameters is not None:
            about = " ".join(parameters[1:2])
            ref = parameters[0] if parameters else ""
            return ref if customer in about and RELEASE_REF.fullmatch(ref) else None
        found = RELEASE.search(notice)
        return found.group(1) if found and customer in notice else None

    def _last_seq(self) -> int:
        response = self._http.get(f"{self.state.graph_url}/outbox/last")
        response.raise_for_status()
        return int(response.json()["seq"])

    def _outbox(self, after: int, wait: float, recipient: str | None = None) -> list[OutboxMessage]:
        to = recipient or self.number
        params: dict[str, str | int | float] = {"after": after, "to": to, "wait": wait}
        response = self._http.get(
            f"{self.state.graph_url}/outbox", params=params, timeout=wait + 10
        )
        response.raise_for_status()
        return [OutboxMessage.from_dict(item) for item in response.json()["messages"]]


def sample(tenant: TenantInfo, language: str, turn: int = 0) -> str:
    """A question in `language` to try: the business's own FAQ, else a generic one."""
    options = tenant.samples.get(language) or FALLBACK_SAMPLES.get(language)
    if not options:
        known = ", ".join(sorted(FALLBACK_SAMPLES))
        raise ChatError(f"no sample questions in {language!r}; try one of {known}")
    return options[turn % len(options)]


def find_tenant(state: UpState, wanted: str) -> TenantInfo:
    found = [tenant for tenant in state.tenants if tenant.matches(wanted)]
    if len(found) != 1:
        names = ", ".join(tenant.name for tenant in state.tenants)
        raise ChatError(f"no tenant {wanted!r} is running; running: {names}")
    return found[0]
