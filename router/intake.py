"""Webhook notifications in: verify the signature, parse, route, and store durably.

`Intake.receive` returns the HTTP status to answer with; `WebhookFastPath` serves it in raw
ASGI, without FastAPI's per-request machinery (Meta can send a busy number 1,000
notifications a second). Nothing a signed body carries may turn into a 5xx: Meta would
retry the whole batch, legitimate messages included, for a week.
"""

import hmac
import time
from collections import Counter as Tally

from prometheus_client import Counter

from katha.contracts.messages import InboundMessage
from katha.observability import get_logger
from router import identity
from router.business_status import LoggedStatusWriter, StatusWriter
from router.envelope import Envelope, EnvelopeKind, Recipient
from router.inbox.base import InboxUnavailableError
from router.limits import FailureAllowance
from router.notification import (
    IncomingMessage,
    Notification,
    OwnerEcho,
    Sender,
    SkippedMessage,
)
from router.payload import parse_notification
from router.services import Services
from router.signals import Signals
from router.signature import HASH_BUDGET_BYTES, authenticate
from router.webhook_json import UnreadableBodyError, loggable, read_body

log = get_logger("router")

OK, BAD_REQUEST, UNAUTHORIZED, TOO_LARGE, TOO_MANY, UNAVAILABLE = 200, 400, 401, 413, 429, 503
# Delivery statuses Meta documents; any other value is counted as "other", so a body
# cannot mint metric series.
_STATUSES = frozenset({"sent", "delivered", "read", "failed", "deleted", "warning", "played"})


class Intake:
    """What `POST /webhooks/whatsapp` does, with the state it keeps between requests: the
    allowance of failed signatures and the count of skipped messages."""

    def __init__(
        self,
        services: Services,
        failures: FailureAllowance | None = None,
        hash_budget: int = HASH_BUDGET_BYTES,
        status: StatusWriter | None = None,
    ) -> None:
        self.services = services
        self.signals = Signals(services, status if status is not None else LoggedStatusWriter())
        self.failures = failures if failures is not None else FailureAllowance()
        self.hash_budget = hash_budget
        self.skipped: Counter = services.metrics.metrics.counter(
            "webhook_messages_skipped_total",
            "Messages in signed webhooks that were not accepted, by reason.",
            ["reason"],
        )

    def _secret_for(self, phone_number_id: str) -> bytes | None:
        route = self.services.routes.route_for(phone_number_id)
        return route.credentials.app_secret.get_secret_value().encode() if route else None

    async def receive(self, body: bytes | None, signature: str | None, client: str = "") -> int:
        metrics = self.services.metrics.webhooks
        if body is None:
            metrics.labels("too_large").inc()
            log.warning("webhook.too_large")
            return TOO_LARGE
        if not self.failures.allows(client):
            # Too many bad signatures lately: answered without hashing anything. Meta
            # retries a 429, so a genuine webhook caught in a flood is delayed, not lost.
            metrics.labels("signature_rate_limited").inc()
            return TOO_MANY
        secrets = self.services.routes.app_secrets
        app_secret = authenticate(body, signature, self._secret_for, secrets, self.hash_budget)
        if app_secret is None:
            self.failures.failed(client)
            metrics.labels("bad_signature").inc()
            log.warning("webhook.bad_signature", signed=signature is not None)
            return UNAUTHORIZED
        try:
            payload = read_body(body)
        except UnreadableBodyError as error:
            # 400, not 200: Meta retries any non-2xx for up to a week, and a retry may bring
            # an intact body (a truncated delivery), while a 200 would lose it silently.
            # Nothing in it could be read, so no readable message is held back by the retry.
            metrics.labels("unreadable").inc()
            log.error("webhook.unreadable", size=len(body), problem=str(error))
            return BAD_REQUEST
        notification = parse_notification(payload)
        try:
            await self._signals(notification, app_secret)
            await self._accept(notification, app_secret)
        except InboxUnavailableError:
            # No 200: Meta keeps the message and retries; nothing is lost.
            metrics.labels("inbox_unavailable").inc()
            log.exception("webhook.inbox_unavailable")
            return UNAVAILABLE
        self._report(notification)
        metrics.labels("accepted").inc()
        return OK

    async def _signals(self, notification: Notification, app_secret: bytes) -> None:
        """What the webhook says besides messages (identity changes first: a message in the
        same batch then lands in the conversation it carried over)."""
        try:
            await self.signals.apply(notification, app_secret)
        except InboxUnavailableError:
            raise
        except Exception as error:  # the store behind the inbox is down: Meta retries
            raise InboxUnavailableError(type(error).__name__) from error

    async def _accept(self, notification: Notification, app_secret: bytes) -> None:
        """Store every admissible customer message and owner echo in one inbox write: the
        webhook is answered 200 only once all of them are stored."""
        services = self.services
        envelopes: list[Envelope] = []
        now = time.time()
        parsed: list[tuple[IncomingMessage | OwnerEcho, EnvelopeKind]] = [
            *((incoming, "customer") for incoming in notification.messages),
            *((echo, "owner_echo") for echo in notification.echoes),
        ]
        for item, kind in parsed:
            tenant = self._tenant_for(item.phone_number_id, item.message.message_id, app_secret)
            if tenant is None:
                continue
            party = item.sender if isinstance(item, IncomingMessage) else item.customer
            conversation = await self._conversation(item.phone_number_id, party)
            envelope = _admitted(tenant, item, conversation, party, kind, now)
            if isinstance(envelope, SkippedMessage):
                notification.skipped.append(envelope)
                continue
            envelopes.append(envelope)
        if not envelopes:
            return
        fresh = await services.inbox.accept(envelopes)
        arrived: Tally[str] = Tally()
        for envelope, new in zip(envelopes, fresh, strict=True):
            event = "echo" if envelope.kind == "owner_echo" else "message"
            log.info(
                f"{event}.accepted" if new else f"{event}.duplicate",
                tenant=envelope.tenant,
                conversation_id=envelope.conversation_id,
                message_id=envelope.message_id,
            )
            arrived[envelope.phone_number_id] += new
        if services.graph is not None:  # Meta counts what a number receives toward its pace
            for number, count in arrived.items():
                if count:
                    services.graph.received(number, count)
        if any(fresh):
            services.wake_workers()

    async def _conversation(self, number: str, party: Sender) -> str:
        try:
            return await identity.resolve(
                self.services.inbox, self.services.conversation_key, number, party
            )
        except Exception as error:  # the store behind the inbox is down: Meta retries
            raise InboxUnavailableError(type(error).__name__) from error

    def _tenant_for(self, number: str, message_id: str, app_secret: bytes) -> str | None:
        """The tenant a message to `number` is for, if it may be accepted for it."""
        route = self.services.routes.route_for(number)
        if route is None:
            log.warning("route.unknown", phone_number_id=number, message_id=message_id)
            return None
        secret = route.credentials.app_secret.get_secret_value().encode()
        if not hmac.compare_digest(secret, app_secret):
            # Another tenant's Meta app signed this: it must not speak for this number.
            log.error("message.wrong_app", phone_number_id=number, message_id=message_id)
            return None
        if route.suspended:
            log.info("message.suspended", tenant=route.tenant, message_id=message_id)
            return None
        return route.tenant

    def _report(self, notification: Notification) -> None:
        metrics = self.services.metrics
        for skipped in notification.skipped:
            self.skipped.labels(skipped.reason).inc()
            log.warning(
                "message.skipped",
                phone_number_id=skipped.phone_number_id,
                message_id=skipped.message_id,
                reason=skipped.reason,
                kind=skipped.kind,
            )
        for update in notification.statuses:
            status = update.status if update.status in _STATUSES else "other"
            metrics.statuses.labels(status).inc()
            message_id = loggable(update.message_id)
            if update.error_codes:
                log.warning(
                    "message.delivery_failed",
                    message_id=message_id,
                    status=status,
                    codes=update.error_codes[:10],
                )
            else:
                log.info("message.status", message_id=message_id, status=status)
        for error in notification.errors:
            log.warning("webhook.error", code=error.code, title=error.title)
        if notification.unknown:
            log.info("webhook.unknown_shape", shapes=notification.unknown[:20])


def _admitted(
    tenant: str,
    item: IncomingMessage | OwnerEcho,
    conversation: str,
    party: Sender,
    kind: EnvelopeKind,
    now: float,
) -> Envelope | SkippedMessage:
    """The envelope of a message (`party` wrote it) or of an owner's echo (`party` is the
    customer it went to), or why it cannot be accepted. Both are keyed by the customer, so
    an echo lands in the same conversation as that customer's messages. An envelope is
    admitted only if the inbox will be able to read back what it writes: anything else
    would be accepted (200) and then fail every claim."""
    envelope = Envelope(
        message=InboundMessage.addressed(item.message, tenant, conversation),
        phone_number_id=item.phone_number_id,
        recipient=Recipient(wa_id=party.wa_id, user_id=party.user_id, username=party.username),
        received_at=now,
        kind=kind,
    )
    try:
        Envelope.model_validate_json(envelope.stored())  # what `Envelope.restored` loads
    except ValueError:  # unencodable text outside the message (a contact's name), too deep
        message_id = loggable(item.message.message_id)
        return SkippedMessage(item.phone_number_id, message_id, "unstorable")
    return envelope
