"""What Meta says about a Business's number and account, as conditions a person can act on.

The router writes Meta's newest account, quality and template webhooks into
`status.whatsapp` (katha.api.business.WhatsAppStatus); this module reads them, with the
spec's templates, into four conditions:

- MessagingRestricted: True while Meta restricts the account (an unexpired restriction, a
  ban, the account offboarded or deleted); only a restriction that stops the number
  answering customers makes the Business Degraded (`Signals.silenced`);
- QualityRating: False while Meta flags or downgrades the number;
- MessagingLimit: the number's messaging tier, once Meta has told one;
- TemplatesReady: False while a template the spec names is paused, rejected, disabled ...

Everything here is a pure function of the spec, the signals and the time: the reconciler
and the signal handler compute the same conditions, so neither undoes the other's.
"""

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from business_operator.status import Check, Signals
from katha.api.business import (
    TEMPLATE_STOPPED_EVENTS,
    AccountSignal,
    BusinessSpec,
    QualitySignal,
    TemplateSignal,
    WhatsAppStatus,
)
from katha.observability import get_logger

log = get_logger("operator")

RESTRICTED = "MessagingRestricted"
QUALITY = "QualityRating"
LIMIT = "MessagingLimit"
TEMPLATES = "TemplatesReady"
SIGNAL_CONDITIONS = (RESTRICTED, QUALITY, LIMIT, TEMPLATES)

GONE_EVENTS = {"ACCOUNT_OFFBOARDED": "offboarded", "ACCOUNT_DELETED": "deleted"}
BAN_STATES = {"DISABLE": "disabled", "SCHEDULE_FOR_DISABLE": "scheduled for disabling"}
RESTRICTION_WORDS = {
    "RESTRICTED_ADD_PHONE_NUMBER_ACTION": "no phone number may be added",
    "RESTRICTED_BIZ_INITIATED_MESSAGING": "no business-initiated message (template) may be sent",
    "RESTRICTED_CUSTOMER_INITIATED_MESSAGING": "customers' messages may not be answered",
}
# What leaves the number unable to answer customers at all: the Business is Degraded.
SILENCING_RESTRICTIONS = {"RESTRICTED_CUSTOMER_INITIATED_MESSAGING"}
BAD_QUALITY = {"FLAGGED", "DOWNGRADE"}
# The router sends none of these either (katha.api.business.TEMPLATE_STOPPED_EVENTS).
BAD_TEMPLATE_EVENTS = TEMPLATE_STOPPED_EVENTS
# One stopped translation in TemplatesReady's message: "reopen:si is PAUSED (NONE)".
STOPPED_TEMPLATE = re.compile(r"([a-z0-9_]+:[A-Za-z_-]+) is ([A-Z_]+) \(([^)]*)\)")


def camel(word: str) -> str:
    """Meta's SHOUTING_CASE as a condition reason: TIER_1K -> Tier1K, FLAGGED -> Flagged.

    Anything a condition reason may not hold is dropped, so Meta's text never makes the
    status invalid."""
    parts = re.split(r"[^A-Za-z0-9]+", word)
    joined = "".join(
        part[:1].upper() + (part[1:].lower() if part[:1].isalpha() else part[1:]) for part in parts
    )
    return joined if joined[:1].isalpha() else f"X{joined}" if joined else "Unknown"


def read_whatsapp(status: dict[str, Any] | None) -> WhatsAppStatus | None:
    """`status.whatsapp` as the router wrote it; None (logged) when it cannot be read, so a
    bad write there never fails the Business's reconcile."""
    found = (status or {}).get("whatsapp")
    if not found:
        return None
    try:
        return WhatsAppStatus.model_validate(found)
    except ValidationError as error:
        log.warning("signals.unreadable", errors=error.error_count())
        return None


def observe(spec: BusinessSpec, whatsapp: WhatsAppStatus | None, now: datetime) -> Signals:
    signals = whatsapp or WhatsAppStatus()
    restricted, silenced = _restriction(signals.account, now)
    return Signals(
        restricted=restricted,
        silenced=silenced,
        quality=_quality(signals.quality),
        limit=_limit(signals.quality),
        templates=_templates(spec, signals.templates),
    )


def _restriction(account: AccountSignal | None, now: datetime) -> tuple[Check, bool]:
    """MessagingRestricted (True means restricted), and whether the number is silenced."""
    if account is None:
        return Check(False, "None", "Meta has reported no restriction."), False
    causes: list[tuple[str, str, bool]] = []  # (reason, sentence, silences)
    if account.event in GONE_EVENTS:
        sentence = f"Meta {GONE_EVENTS[account.event]} the WhatsApp Business Account."
        causes.append((camel(account.event), sentence, True))
    if account.ban_state in BAN_STATES:
        sentence = f"Meta {BAN_STATES[account.ban_state]} the WhatsApp Business Account."
        causes.append((f"Ban{camel(account.ban_state)}", sentence, account.ban_state == "DISABLE"))
    for restriction in account.restrictions:
        expires = restriction.expires_at
        if expires is not None and _aware(expires) <= now:
            continue  # lifted
        words = RESTRICTION_WORDS.get(restriction.type, restriction.type)
        until = f" until {_aware(expires):%Y-%m-%d %H:%M} UTC" if expires else ""
        sentence = f"Meta restricts the account: {words}{until}."
        causes.append(
            (camel(restriction.type), sentence, restriction.type in SILENCING_RESTRICTIONS)
        )
    if not causes:
        return Check(False, "None", "Meta's restrictions have been lifted or expired."), False
    reasons = list(dict.fromkeys(reason for reason, _, _ in causes))
    message = " ".join(sentence for _, sentence, _ in causes)
    return Check(True, ",".join(reasons), message), any(silences for _, _, silences in causes)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _quality(quality: QualitySignal | None) -> Check | None:
    if quality is None:
        return None
    if quality.event in BAD_QUALITY:
        what = "flagged" if quality.event == "FLAGGED" else "downgraded"
        message = (
            f"Meta {what} the number's quality after customers' feedback: its messaging limit "
            "drops (or dropped) unless the quality improves."
        )
        return Check(False, camel(quality.event), message)
    return Check(True, camel(quality.event), f"Meta's latest quality update: {quality.event}.")


def _limit(quality: QualitySignal | None) -> Check | None:
    if quality is None or not quality.messaging_limit:
        return None
    limit = quality.messaging_limit
    before = f" (was {quality.previous_limit})" if quality.previous_limit else ""
    message = f"Meta's messaging limit for the number: {limit}{before}."
    return Check(True, camel(limit), message)


def _templates(spec: BusinessSpec, signals: dict[str, TemplateSignal]) -> Check:
    configured: list[str] = []
    for template in (
        spec.whatsapp.templates.handoff_notice,
        spec.whatsapp.templates.handoff_ended,
        spec.whatsapp.templates.reopen,
        spec.whatsapp.templates.login_code,
    ):
        if template is not None:
            configured += [f"{template.name}:{language}" for language in template.languages]
    configured = list(dict.fromkeys(configured))
    if not configured:
        return Check(
            True, "NoneConfigured", "No templates are configured (spec.whatsapp.templates)."
        )
    found = {key: _signal_for(key, signals) for key in configured}
    stopped = [
        (key, s) for key, s in found.items() if s is not None and s.event in BAD_TEMPLATE_EVENTS
    ]
    if stopped:
        reason = ",".join(dict.fromkeys(camel(s.event) for _, s in stopped))
        listed = "; ".join(
            f"{key} is {s.event} ({s.reason or 'no reason given'})" for key, s in stopped
        )
        return Check(False, reason, f"Meta stopped templates Katha sends: {listed}.")
    unheard = [key for key, s in found.items() if s is None]
    if unheard:
        message = f"No template is stopped; Meta has said nothing yet of {', '.join(unheard)}."
        return Check(True, "NoneStopped", message)
    return Check(
        True, "Approved", f"Meta approved every configured template: {', '.join(configured)}."
    )


def _signal_for(key: str, signals: dict[str, TemplateSignal]) -> TemplateSignal | None:
    """The signal for `name:language`; Meta writes a locale either en_US or en-US."""
    if key in signals:
        return signals[key]
    name, _, language = key.partition(":")
    wanted = language.replace("-", "_")
    for signal in signals.values():
        if signal.name == name and signal.language.replace("-", "_") == wanted:
            return signal
    return None


def condition_events(
    before: dict[str, Any] | None, after: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """Events for a signal condition that changed: a Warning when something went wrong
    (one per template Meta stopped), a Normal one when it is over; none when a condition
    first appears fine."""
    kind, status, reason = after["type"], after["status"], after["reason"]
    was = (before or {}).get("status")
    text = f"{kind}: {after['message']}"
    if kind == RESTRICTED:
        if status == "True":
            return [("Warning", reason, text)]
        return [("Normal", "RestrictionLifted", text)] if was == "True" else []
    if kind == QUALITY:
        if status == "False":
            return [("Warning", reason, text)]
        return [("Normal", reason, text)] if was == "False" else []
    if kind == LIMIT:
        return [("Normal", reason, text)]
    if kind == TEMPLATES:
        if status == "True":
            return [("Normal", "TemplatesRecovered", text)] if was == "False" else []
        earlier = STOPPED_TEMPLATE.findall((before or {}).get("message", ""))
        seen = {(key, event) for key, event, _ in earlier}
        return [
            ("Warning", f"Template{camel(event)}", f"Meta stopped template {key}: {event} ({why})")
            for key, event, why in STOPPED_TEMPLATE.findall(after["message"])
            if (key, event) not in seen
        ]
    return []
