"""Meta's signals about an account, a number, a template or a customer, applied.

Account-wide webhooks (`account_update`, `phone_number_quality_update`,
`message_template_status_update`) name the WhatsApp Business Account, not a number: they
reach every Business that declares that account (`spec.whatsapp.businessAccountId`) and
whose Meta app signed the webhook, since one app must not speak for another's tenants. A
quality update names the display number too; the router learns which number id that is
from the messages it sees, and otherwise applies it to the whole account (messaging limits
are per business portfolio since October 2025).

Each signal is recorded for the router's own behaviour first (router.account: every
replica reads it from the inbox), then counted, logged, and written to the Business's
status for people (router.business_status), in the background so the webhook is answered
at once.
"""

import asyncio
import hmac
from typing import Any

from katha.contracts.routing import Route
from katha.observability import get_logger
from router import identity
from router.account import (
    BIZ_INITIATED,
    CUSTOMER_INITIATED,
    AccountState,
    account_state,
    expiry,
    set_marketing,
    update_account,
)
from router.business_status import StatusWriter
from router.notification import (
    AccountUpdate,
    IdentityChange,
    MarketingPreference,
    Notification,
    QualityUpdate,
    RestrictionInfo,
    TemplateUpdate,
)
from router.services import Services

log = get_logger("router")

NUMBER = "number:"  # display phone number (digits) -> phone number id
ACCOUNT_OF = "account-of:"  # phone number id -> the WhatsApp Business Account Meta names
# Events known to Meta's documentation; anything else is counted as "other" so a signed
# body cannot mint metric series.
KNOWN_EVENTS = frozenset(
    {
        "ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE", "ACCOUNT_DELETED",
        "ACCOUNT_OFFBOARDED", "ACCOUNT_RECONNECTED", "PARTNER_ADDED", "PARTNER_REMOVED",
        "FLAGGED", "UNFLAGGED", "DOWNGRADE", "UPGRADE", "ONBOARDING", "THROUGHPUT_UPGRADE",
        "APPROVED", "REJECTED", "PENDING", "PAUSED", "DISABLED", "IN_APPEAL", "REINSTATED",
        "PENDING_DELETION", "DELETED", "ARCHIVED", "LIMIT_EXCEEDED", "LOCKED",
    }
)  # fmt: skip


WRITE_ATTEMPTS = 8  # about two minutes of back-off


def merged(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two merge patches as one (the second wins where both speak)."""
    out = dict(first)
    for key, value in second.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


RESTRICTION_LABELS = (
    (BIZ_INITIATED, "business_initiated"),
    (CUSTOMER_INITIATED, "customer_initiated"),
)


def _signed_by(route: Route, app_secret: bytes) -> bool:
    """Whether the app that signed the webhook is this tenant's: one Meta app must not
    speak for another's tenants, even about an account they share."""
    secret = route.credentials.app_secret.get_secret_value().encode()
    return hmac.compare_digest(secret, app_secret)


def _event(event: str) -> str:
    return event if event in KNOWN_EVENTS else "other"


class Signals:
    def __init__(self, services: Services, writer: StatusWriter) -> None:
        self.services = services
        self.writer = writer
        self._numbers: dict[str, str] = {}  # display number -> id, as recorded
        self._accounts: dict[str, str | None] = {}  # number id -> its account, as recorded
        # Per tenant: what is still to be written (later patches merged in) and the task
        # writing it, so a retry never writes an older patch over a newer one.
        self._pending: dict[str, dict[str, Any]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}

    async def apply(self, notification: Notification, app_secret: bytes) -> None:
        """Everything in `notification` but its messages. Raises what the inbox raises."""
        await self._learn_numbers(notification.numbers, app_secret)
        await self._learn_accounts(notification.waba_of, app_secret)
        for change in notification.identity_changes:
            await self._identity(change, app_secret)
        for preference in notification.preferences:
            await self._preference(preference, app_secret)
        for account in notification.accounts:
            for route in await self._routes(account.waba_id, app_secret):
                await self._account(route, account)
        for quality in notification.qualities:
            for route in await self._quality_routes(quality, app_secret):
                await self._quality(route, quality)
        for template in notification.templates:
            for route in await self._routes(template.waba_id, app_secret):
                await self._template(route, template)

    async def refresh_gauges(self) -> None:
        """Set `katha_router_messaging_restricted` for every routed tenant from the state
        every replica shares (a restriction another replica learned of, or one that
        expired, shows here too)."""
        for route in self.services.routes.table.routes:
            state = await account_state(self.services.inbox, route.tenant)
            self._set_restricted(route, state)

    def _set_restricted(self, route: Route, state: AccountState) -> None:
        gauge = self.services.metrics.messaging_restricted
        for kind, label in RESTRICTION_LABELS:
            gauge.labels(route.tenant, label).set(int(state.restricted(kind)))

    async def aclose(self) -> None:
        if self._writers:
            await asyncio.wait(self._writers.values(), timeout=3.0)
        if self._pending:
            log.error("business_status.not_written", tenants=sorted(self._pending))
        for task in self._writers.values():
            task.cancel()
        await self.writer.aclose()

    async def _routes(self, waba_id: str, app_secret: bytes) -> list[Route]:
        """The Businesses an account-wide signal is for: those declaring the account whose
        Meta app signed it, less any whose number Meta's own message webhooks placed in
        another account. When some are proven (their messages named this account), only
        those: a Business cannot collect another's signals by declaring its account."""
        declared = [
            route
            for route in self.services.routes.routes_for_account(waba_id)
            if _signed_by(route, app_secret)
        ]
        seen = {route.tenant: await self._account_of(route.phone_number_id) for route in declared}
        proven = [route for route in declared if seen[route.tenant] == waba_id]
        routes = proven or [route for route in declared if seen[route.tenant] is None]
        if not routes:
            log.warning("signal.unrouted", waba_id=waba_id)
        return routes

    async def _account_of(self, phone_number_id: str) -> str | None:
        if phone_number_id not in self._accounts:
            self._accounts[phone_number_id] = await self.services.inbox.record(
                ACCOUNT_OF + phone_number_id
            )
        return self._accounts[phone_number_id]

    async def _learn_accounts(self, waba_of: dict[str, str], app_secret: bytes) -> None:
        """Which account each number is in, as Meta's signed message webhooks say (only
        for numbers routed here and signed by their own app)."""
        for number, waba_id in waba_of.items():
            route = self._route(number, app_secret)
            if route is None or await self._account_of(number) == waba_id:
                continue
            await self.services.inbox.save_record(ACCOUNT_OF + number, waba_id)
            self._accounts[number] = waba_id
            if route.business_account_id != waba_id:
                log.warning(
                    "route.account_unknown",
                    tenant=route.tenant,
                    declared=route.business_account_id,
                    webhook_account=waba_id,
                    hint="set spec.whatsapp.businessAccountId to the webhook's account",
                )

    def _route(self, phone_number_id: str, app_secret: bytes) -> Route | None:
        route = self.services.routes.route_for(phone_number_id)
        return route if route is not None and _signed_by(route, app_secret) else None

    async def _learn_numbers(self, numbers: dict[str, str], app_secret: bytes) -> None:
        """Display number -> number id, for quality updates (routed numbers only)."""
        inbox = self.services.inbox
        for display, number in numbers.items():
            if self._numbers.get(display) == number or self._route(number, app_secret) is None:
                continue
            await inbox.save_record(NUMBER + display, number)
            self._numbers[display] = number

    async def _quality_routes(self, quality: QualityUpdate, app_secret: bytes) -> list[Route]:
        routes = await self._routes(quality.waba_id, app_secret)
        display = quality.display_phone_number
        number = await self.services.inbox.record(NUMBER + display) if display else None
        named = [route for route in routes if route.phone_number_id == number]
        return named or routes

    async def _fresh(self, route: Route, part: str, at: float) -> AccountState | None:
        """The tenant's state when a signal sent at `at` is newer than the last one applied
        to `part`; None (logged) for a retried or late one."""
        state = await account_state(self.services.inbox, route.tenant)
        if state.is_newer(part, at):
            return state
        log.info("signal.stale", tenant=route.tenant, part=part.split(":", 1)[0])
        return None

    async def _account(self, route: Route, account: AccountUpdate) -> None:
        at = account.at.timestamp()
        previous = await self._fresh(route, "account", at)
        if previous is None:
            return
        changes: dict[str, Any] = {"event": account.event, "seen": {**previous.seen, "account": at}}
        if account.event == "ACCOUNT_RESTRICTION":
            changes["restrictions"] = {r.type: expiry(r.expires_at) for r in account.restrictions}
        if account.ban_state is not None:
            changes["ban_state"] = account.ban_state
        if account.event == "ACCOUNT_RECONNECTED":
            changes["restrictions"], changes["ban_state"] = {}, None
        state = await update_account(self.services.inbox, route.tenant, **changes)
        self._count(route, "account_update", account.event, state)
        # A merge patch: what this event does not speak of (the restrictions in force, a
        # ban) stays as the earlier events left it.
        status: dict[str, Any] = {"event": account.event, "at": _iso(account.at)}
        if account.event == "ACCOUNT_RESTRICTION":
            status["restrictions"] = [_restriction(r) for r in account.restrictions]
        if account.event == "ACCOUNT_RECONNECTED":
            status["restrictions"], status["banState"] = [], None
        if account.violation is not None:
            status["violation"] = account.violation
        if account.ban_state is not None:
            status["banState"] = account.ban_state
        self._write(route.tenant, {"account": status})

    async def _quality(self, route: Route, quality: QualityUpdate) -> None:
        at = quality.at.timestamp()
        previous = await self._fresh(route, "quality", at)
        if previous is None:
            return
        changes: dict[str, Any] = {
            "quality": quality.event,
            "seen": {**previous.seen, "quality": at},
        }
        if quality.messaging_limit:
            changes["messaging_limit"] = quality.messaging_limit
        state = await update_account(self.services.inbox, route.tenant, **changes)
        self._count(route, "phone_number_quality_update", quality.event, state)
        status = {
            "event": quality.event,
            "messagingLimit": state.messaging_limit,
            "previousLimit": quality.previous_limit,
            "at": _iso(quality.at),
        }
        self._write(route.tenant, {"quality": status})

    async def _template(self, route: Route, template: TemplateUpdate) -> None:
        # Meta writes a locale "en-US" or "en_US"; the Business names it "en_US".
        key = f"{template.name}:{template.language.replace('-', '_')}"
        at = template.at.timestamp()
        previous = await self._fresh(route, f"template:{key}", at)
        if previous is None:
            return
        state = await update_account(
            self.services.inbox,
            route.tenant,
            templates={**previous.templates, key: template.event},
            seen={**previous.seen, f"template:{key}": at},
        )
        self._count(route, "message_template_status_update", template.event, state)
        status = {
            "name": template.name,
            "language": template.language,
            "event": template.event,
            "reason": template.reason,
            "category": template.category,
            "at": _iso(template.at),
        }
        self._write(route.tenant, {"templates": {key: status}})

    async def _preference(self, preference: MarketingPreference, app_secret: bytes) -> None:
        route = self._route(preference.phone_number_id, app_secret)
        if route is None:
            log.warning("signal.unrouted", phone_number_id=preference.phone_number_id)
            return
        inbox, key = self.services.inbox, self.services.conversation_key
        conversation = await identity.resolve(
            inbox, key, preference.phone_number_id, preference.customer
        )
        if not await set_marketing(
            inbox, conversation, preference.stopped, preference.at.timestamp()
        ):
            log.info("signal.stale", tenant=route.tenant, part="marketing")
            return
        value = "stop" if preference.stopped else "resume"
        self.services.metrics.marketing_preferences.labels(route.tenant, value).inc()
        log.info(
            "customer.marketing", tenant=route.tenant, conversation_id=conversation, value=value
        )

    async def _identity(self, change: IdentityChange, app_secret: bytes) -> None:
        route = self._route(change.phone_number_id, app_secret)
        if route is None:
            log.warning("signal.unrouted", phone_number_id=change.phone_number_id)
            return
        inbox, key = self.services.inbox, self.services.conversation_key
        conversation = await identity.merge(
            inbox, key, change.phone_number_id, change.previous, change.current
        )
        result = "merged" if conversation is not None else "unknown"
        self.services.metrics.identity_changes.labels(route.tenant, result).inc()
        log.info("customer.id_changed", tenant=route.tenant, conversation_id=conversation)

    def _count(self, route: Route, signal: str, event: str, state: AccountState) -> None:
        metrics = self.services.metrics
        metrics.account_signals.labels(route.tenant, signal, _event(event)).inc()
        self._set_restricted(route, state)
        log.warning(
            "signal.applied", tenant=route.tenant, signal=signal, signal_event=_event(event)
        )

    def _write(self, tenant: str, whatsapp: dict[str, Any]) -> None:
        self._pending[tenant] = merged(self._pending.get(tenant, {}), whatsapp)
        if tenant not in self._writers:
            task = asyncio.create_task(self._drain(tenant), name="business-status")
            self._writers[tenant] = task
            task.add_done_callback(lambda _: self._writers.pop(tenant, None))

    async def _drain(self, tenant: str) -> None:
        """Write the tenant's pending patch, retrying with back-off (the API server may be
        rolling or throttling): Meta sends a signal once, so giving up loses it."""
        counter = self.services.metrics.business_status_writes
        delay = 1.0
        while tenant in self._pending:
            patch = self._pending.pop(tenant)
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                if await self.writer.write(tenant, patch):
                    counter.labels("written").inc()
                    break
                if attempt == WRITE_ATTEMPTS:
                    counter.labels("failed").inc()
                    log.error("business_status.gave_up", tenant=tenant, attempts=attempt)
                    break
                counter.labels("retried").inc()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                # A newer patch arrived meanwhile: write both at once.
                patch = merged(patch, self._pending.pop(tenant, {}))


def _restriction(restriction: RestrictionInfo) -> dict[str, str]:
    item = {"type": restriction.type}
    if restriction.expires_at is not None:
        item["expiresAt"] = restriction.expires_at.isoformat()
    return item


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None
