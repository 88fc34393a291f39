"""Meta's signals (status.whatsapp) as conditions, the phase they change, and the Events
they post; the same computation from the reconciler and from the signal handler. The real
operator doing it against the emulator: test_meta_signals.py."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from business_operator.handlers.business import transitions
from business_operator.handlers.signals import settle
from business_operator.signals import camel, condition_events, observe, read_whatsapp
from business_operator.status import Check, Observation, Signals, business_status, phase
from katha.api import BusinessPhase, BusinessSpec
from katha.api.business import WhatsAppStatus

NOW = datetime(2026, 4, 19, 12, 0, tzinfo=UTC)
REASON = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")  # metav1.Condition's
OK = Check(True, "Fine", "fine")


def _spec(**templates: Any) -> BusinessSpec:
    return BusinessSpec.model_validate(
        {
            "displayName": "Kandy Bakehouse",
            "whatsapp": {
                "phoneNumberId": "106540352242922",
                "credentialsSecretRef": {"name": "creds"},
                "templates": templates,
            },
        }
    )


TEMPLATED = _spec(
    handoffNotice={"name": "owner_handoff", "languages": ["en"]},
    reopen={"name": "reopen_chat", "languages": ["si", "en_US"], "category": "MARKETING"},
)


def _signals(spec: BusinessSpec = TEMPLATED, **whatsapp: Any) -> Signals:
    return observe(spec, WhatsAppStatus.model_validate(whatsapp), NOW)


def _account(event: str = "ACCOUNT_RESTRICTION", **fields: Any) -> dict[str, Any]:
    return {"event": event, "at": "2026-04-19T10:00:00Z", **fields}


def _template(name: str, language: str, event: str, reason: str = "NONE") -> dict[str, Any]:
    return {"name": name, "language": language, "event": event, "reason": reason, "at": NOW}


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        ("TIER_1K", "Tier1K"),
        ("TIER_250", "Tier250"),
        ("TIER_UNLIMITED", "TierUnlimited"),
        ("THROUGHPUT_UPGRADE", "ThroughputUpgrade"),
        ("RESTRICTED_BIZ_INITIATED_MESSAGING", "RestrictedBizInitiatedMessaging"),
        ("FLAGGED", "Flagged"),
        ("1st pause!", "X1stPause"),
        ("", "Unknown"),
    ],
)
def test_meta_words_become_valid_condition_reasons(meta: str, reason: str) -> None:
    assert camel(meta) == reason
    assert REASON.match(camel(meta))


def test_an_unexpired_restriction_restricts_and_an_expired_one_is_lifted() -> None:
    later = (NOW + timedelta(hours=3)).isoformat()
    earlier = (NOW - timedelta(seconds=1)).isoformat()
    restrictions = [
        {"type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiresAt": later},
        {"type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION", "expiresAt": earlier},
    ]
    signals = _signals(account=_account(restrictions=restrictions))
    assert signals.restricted == Check(
        True,
        "RestrictedBizInitiatedMessaging",
        "Meta restricts the account: no business-initiated message (template) may be sent "
        "until 2026-04-19 15:00 UTC.",
    )
    assert not signals.silenced, "the number still answers customers"
    lifted = _signals(account=_account(restrictions=restrictions[1:]))
    assert (lifted.restricted.ok, lifted.restricted.reason) == (False, "None")
    assert _signals().restricted == Check(False, "None", "Meta has reported no restriction.")


@pytest.mark.parametrize(
    ("account", "reason", "silenced"),
    [
        (
            _account(restrictions=[{"type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING"}]),
            "RestrictedCustomerInitiatedMessaging",
            True,
        ),
        (_account("DISABLED_UPDATE", banState="DISABLE"), "BanDisable", True),
        (
            _account("DISABLED_UPDATE", banState="SCHEDULE_FOR_DISABLE"),
            "BanScheduleForDisable",
            False,
        ),
        (_account("ACCOUNT_OFFBOARDED"), "AccountOffboarded", True),
        (_account("ACCOUNT_DELETED"), "AccountDeleted", True),
        (
            _account(
                restrictions=[
                    {"type": "RESTRICTED_BIZ_INITIATED_MESSAGING"},
                    {"type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING"},
                ]
            ),
            "RestrictedBizInitiatedMessaging,RestrictedCustomerInitiatedMessaging",
            True,
        ),
    ],
)
def test_bans_offboarding_and_restrictions_name_themselves(
    account: dict[str, Any], reason: str, silenced: bool
) -> None:
    signals = _signals(account=account)
    assert (signals.restricted.ok, signals.restricted.reason) == (True, reason)
    assert signals.silenced is silenced
    reinstated = _signals(account=_account("DISABLED_UPDATE", banState="REINSTATE"))
    assert reinstated.restricted.ok is False


def test_quality_and_messaging_limit_follow_the_latest_quality_update() -> None:
    assert _signals().quality is None
    assert _signals().limit is None
    flagged = _signals(quality={"event": "FLAGGED", "messagingLimit": "TIER_250", "at": NOW})
    assert flagged.quality is not None
    assert flagged.limit is not None
    assert (flagged.quality.ok, flagged.quality.reason) == (False, "Flagged")
    assert (flagged.limit.ok, flagged.limit.reason) == (True, "Tier250")
    assert "TIER_250" in flagged.limit.message
    downgraded = _signals(quality={"event": "DOWNGRADE", "at": NOW})
    assert downgraded.quality is not None
    assert (downgraded.quality.ok, downgraded.quality.reason) == (False, "Downgrade")
    assert downgraded.limit is None, "set only once a quality signal with a limit arrived"
    upgraded = _signals(
        quality={"event": "THROUGHPUT_UPGRADE", "messagingLimit": "TIER_UNLIMITED", "at": NOW}
    )
    assert upgraded.quality is not None
    assert upgraded.limit is not None
    assert (upgraded.quality.ok, upgraded.quality.reason) == (True, "ThroughputUpgrade")
    assert upgraded.limit.reason == "TierUnlimited"


def test_templates_ready_names_each_stopped_translation_the_spec_uses() -> None:
    assert _signals(_spec()).templates == Check(
        True, "NoneConfigured", "No templates are configured (spec.whatsapp.templates)."
    )
    assert (_signals().templates.ok, _signals().templates.reason) == (True, "NoneStopped")
    templates = {
        "reopen_chat:si": _template("reopen_chat", "si", "PAUSED"),
        # Meta wrote the locale with a hyphen: still the spec's en_US translation.
        "reopen_chat:en-US": _template("reopen_chat", "en-US", "REJECTED", "SCAM"),
        "owner_handoff:en": _template("owner_handoff", "en", "APPROVED"),
        "someone_elses:en": _template("someone_elses", "en", "DISABLED"),
    }
    stopped = _signals(templates=templates).templates
    assert (stopped.ok, stopped.reason) == (False, "Paused,Rejected")
    assert "reopen_chat:si is PAUSED (NONE)" in stopped.message
    assert "reopen_chat:en_US is REJECTED (SCAM)" in stopped.message
    assert "someone_elses" not in stopped.message
    approved = {
        key: _template(*key.split(":"), "APPROVED" if "si" in key else "REINSTATED")
        for key in ("reopen_chat:si", "reopen_chat:en_US", "owner_handoff:en")
    }
    assert (
        _signals(templates=approved).templates.ok,
        _signals(templates=approved).templates.reason,
    ) == (
        True,
        "Approved",
    )


def test_only_a_restriction_that_silences_the_number_degrades_the_business() -> None:
    silenced = _signals(account=_account("DISABLED_UPDATE", banState="DISABLE"))
    observed = Observation(whatsapp=OK, agent=OK, knowledge=OK, signals=silenced)
    assert phase(observed) is BusinessPhase.DEGRADED
    status = business_status(observed, 4, None)
    by_type = {item["type"]: item for item in status["conditions"]}
    assert (by_type["Ready"]["status"], by_type["Ready"]["reason"]) == ("False", "BanDisable")
    assert by_type["MessagingRestricted"]["status"] == "True"
    assert by_type["TemplatesReady"]["status"] == "True"
    assert "QualityRating" not in by_type
    assert "MessagingLimit" not in by_type
    restricted = _signals(
        account=_account(restrictions=[{"type": "RESTRICTED_BIZ_INITIATED_MESSAGING"}])
    )
    assert (
        phase(Observation(whatsapp=OK, agent=OK, knowledge=OK, signals=restricted))
        is BusinessPhase.READY
    )
    suspended = Observation(whatsapp=OK, agent=OK, knowledge=OK, signals=silenced, suspended=True)
    assert phase(suspended) is BusinessPhase.SUSPENDED


def _condition(kind: str, status: str, reason: str, message: str = "m") -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def test_events_warn_when_meta_stops_something_and_tell_when_it_is_over() -> None:
    restricted = _condition("MessagingRestricted", "True", "BanDisable")
    lifted = _condition("MessagingRestricted", "False", "None")
    assert [e[:2] for e in condition_events(None, restricted)] == [("Warning", "BanDisable")]
    assert [e[:2] for e in condition_events(restricted, lifted)] == [
        ("Normal", "RestrictionLifted")
    ]
    assert condition_events(None, lifted) == [], "a new Business is not news"
    flagged = _condition("QualityRating", "False", "Flagged")
    assert [e[:2] for e in condition_events(None, flagged)] == [("Warning", "Flagged")]
    upgraded = _condition("QualityRating", "True", "Unflagged")
    assert [e[:2] for e in condition_events(flagged, upgraded)] == [("Normal", "Unflagged")]
    assert condition_events(None, upgraded) == []
    limit = _condition("MessagingLimit", "True", "Tier250")
    assert [e[:2] for e in condition_events(None, limit)] == [("Normal", "Tier250")]


def test_each_template_meta_stops_gets_its_own_warning_once() -> None:
    paused = "Meta stopped templates Katha sends: reopen_chat:si is PAUSED (NONE)."
    both = (
        "Meta stopped templates Katha sends: reopen_chat:si is PAUSED (NONE); "
        "owner_handoff:en is REJECTED (SCAM)."
    )
    first = _condition("TemplatesReady", "False", "Paused", paused)
    second = _condition("TemplatesReady", "False", "Paused,Rejected", both)
    assert condition_events(None, first) == [
        ("Warning", "TemplatePaused", "Meta stopped template reopen_chat:si: PAUSED (NONE)")
    ]
    assert condition_events(first, second) == [
        ("Warning", "TemplateRejected", "Meta stopped template owner_handoff:en: REJECTED (SCAM)")
    ]
    fine = _condition("TemplatesReady", "True", "Approved")
    assert [e[:2] for e in condition_events(second, fine)] == [("Normal", "TemplatesRecovered")]


def _reconciled(whatsapp: dict[str, Any] | None = None, generation: int = 2) -> dict[str, Any]:
    """A Business as the reconciler last wrote it (no signals then), with `whatsapp`."""
    agent = Check(None, "AgentStarting", "Waiting for the agent pod to become ready")
    observed = Observation(
        whatsapp=Check(True, "CredentialsFound", "Credentials read from Secret creds"),
        agent=agent,
        knowledge=Check(True, "Indexed", "2 chunks"),
        secrets=Check(True, "AllGranted", "granted"),
        signals=observe(TEMPLATED, None, NOW),
    )
    status = business_status(observed, generation, None)
    status["knowledge"] = {"chunks": 2}
    if whatsapp is not None:
        status["whatsapp"] = whatsapp
    spec = TEMPLATED.model_dump(mode="json", by_alias=True, exclude_none=True)
    metadata = {"name": "b", "namespace": "shop", "generation": generation}
    return {"metadata": metadata, "spec": spec, "status": status}


def test_the_signal_handler_moves_only_signal_conditions_ready_and_the_phase() -> None:
    body = _reconciled()
    assert settle(body, NOW) is None, "nothing to change"
    account = _account(restrictions=[{"type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING"}])
    body = _reconciled({"account": account})
    update = settle(body, NOW)
    assert update is not None
    assert set(update.status) == {"phase", "conditions"}, "the reconciler's fields stay its own"
    assert update.status["phase"] == "Degraded"
    before = {item["type"]: item for item in body["status"]["conditions"]}
    after = {item["type"]: item for item in update.status["conditions"]}
    assert list(after) == list(before)
    for kind in ("WhatsAppConfigured", "AgentAvailable", "KnowledgeIndexed", "SecretsGranted"):
        assert after[kind] == before[kind], kind
    assert (after["Ready"]["status"], after["Ready"]["reason"]) == (
        "False",
        "RestrictedCustomerInitiatedMessaging",
    )
    assert after["MessagingRestricted"]["status"] == "True"
    assert [(kind, reason, message.split(":")[0]) for kind, reason, message in update.events] == [
        ("Warning", "RestrictedCustomerInitiatedMessaging", "Ready"),
        ("Warning", "RestrictedCustomerInitiatedMessaging", "MessagingRestricted"),
    ]
    # The reconciler, computing from the same status, writes the same conditions, and
    # has nothing to tell once the handler wrote them.
    again = Observation(
        whatsapp=Check(True, "CredentialsFound", "Credentials read from Secret creds"),
        agent=Check(None, "AgentStarting", "Waiting for the agent pod to become ready"),
        knowledge=Check(True, "Indexed", "2 chunks"),
        secrets=Check(True, "AllGranted", "granted"),
        signals=observe(TEMPLATED, read_whatsapp(body["status"]), NOW),
    )
    body["status"].update(update.status)
    reconciled = business_status(again, 2, body["status"])
    assert reconciled["conditions"] == update.status["conditions"]
    assert reconciled["phase"] == update.status["phase"]
    assert transitions(body["status"], reconciled) == []
    # Written back, it settles: the write's own watch event changes nothing.
    assert settle(body, NOW) is None


def test_the_signal_handler_waits_for_the_reconciler_to_see_the_generation() -> None:
    account = _account("ACCOUNT_DELETED")
    body = _reconciled({"account": account})
    body["metadata"]["generation"] = 3  # a spec change the reconciler has not handled yet
    assert settle(body, NOW) is None
    body = _reconciled({"account": account})
    body["status"]["conditions"] = [_condition("Ready", "False", "InvalidSpec")]
    assert settle(body, NOW) is None, "nothing reconciled to keep"
    # Not what the router writes: read as no signal, never as a failure.
    body = _reconciled({"account": {"event": 42}})
    assert settle(body, NOW) is None
