"""React when the router writes Meta's signals into a Business's status.whatsapp.

Kopf's change handlers never see the status (its diff-base holds the spec and metadata
only), so main.py calls `settle` on every watch event of a Business. It is level-based: it
computes the conditions from the status as it is, and writes only when they differ, so
the write it makes comes back as an event that changes nothing.

Only the signal conditions, Ready and the phase can move here: the reconciler's own
conditions are read back into the Observation they came from and rewritten as they were.
While the reconciler has not yet observed the current generation, this waits for it (it
computes the signal conditions too), so a spec change never gets two sets of events.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from business_operator.handlers.business import transitions
from business_operator.signals import observe, read_whatsapp
from business_operator.status import Check, Observation, Signals, conditions, phase
from katha.api import BusinessSpec

# The reconciler's conditions, by the Observation field each reports.
RECONCILED = {
    "WhatsAppConfigured": "whatsapp",
    "AgentAvailable": "agent",
    "KnowledgeIndexed": "knowledge",
    "ModelAvailable": "model",
    "VoiceReady": "voice",
    "VisionReady": "vision",
    "MemoryConfigured": "memory",
    "SecretsGranted": "secrets",
}
REQUIRED = ("whatsapp", "agent", "knowledge")
STATUS_WORDS = {"True": True, "False": False}


@dataclass(frozen=True)
class SignalUpdate:
    status: dict[str, Any]  # a merge patch of the status: phase and conditions
    events: list[tuple[str, str, str]]  # (type, reason, message)


def settle(body: dict[str, Any], now: datetime) -> SignalUpdate | None:
    """The status patch and Events that bring a Business's conditions in line with its
    status.whatsapp; None when they already are, or when the reconciler has yet to run."""
    metadata = body.get("metadata") or {}
    status = body.get("status") or {}
    generation = metadata.get("generation")
    if metadata.get("deletionTimestamp") or status.get("observedGeneration") != generation:
        return None
    try:
        spec = BusinessSpec.model_validate(body.get("spec") or {})
    except ValidationError:
        return None  # the reconciler says why in the status
    previous: list[dict[str, Any]] = list(status.get("conditions") or [])
    signals = observe(spec, read_whatsapp(status), now)
    observed = observed_again(previous, spec.suspend, signals)
    if observed is None:
        return None
    current = {
        "phase": phase(observed).value,
        "conditions": conditions(observed, generation, previous, now),
    }
    if current["conditions"] == previous and current["phase"] == status.get("phase"):
        return None
    return SignalUpdate(status=current, events=transitions(status, current))


def observed_again(
    previous: list[dict[str, Any]], suspended: bool, signals: Signals
) -> Observation | None:
    """The Observation the reconciler's conditions were written from, with new signals;
    None when it has not written them yet."""
    checks: dict[str, Check] = {}
    for item in previous:
        field = RECONCILED.get(str(item.get("type")))
        if field is not None:
            ok = STATUS_WORDS.get(str(item.get("status")))
            checks[field] = Check(ok, str(item.get("reason", "")), str(item.get("message", "")))
    if any(name not in checks for name in REQUIRED):
        return None
    return Observation(
        whatsapp=checks["whatsapp"],
        agent=checks["agent"],
        knowledge=checks["knowledge"],
        model=checks.get("model"),
        voice=checks.get("voice"),
        vision=checks.get("vision"),
        memory=checks.get("memory"),
        secrets=checks.get("secrets"),
        suspended=suspended,
        signals=signals,
    )
