"""A Business's status from what the operator observed: conditions a human can act on."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from katha.api import BusinessPhase


@dataclass(frozen=True)
class Check:
    """One observed fact, as a condition: ok True/False, or None for "not known yet"."""

    ok: bool | None
    reason: str
    message: str


@dataclass(frozen=True)
class Signals:
    """What Meta says of the number (business_operator.signals reads them from the status)."""

    restricted: Check  # MessagingRestricted: ok=True means restricted
    templates: Check
    quality: Check | None = None  # once Meta sent a quality update
    limit: Check | None = None  # once a quality update named a messaging limit
    silenced: bool = False  # the restriction stops the number answering customers


@dataclass(frozen=True)
class Observation:
    whatsapp: Check
    agent: Check
    knowledge: Check
    model: Check | None = None  # only when the Business names a LanguageModel
    voice: Check | None = None  # only when it names a model for voice notes (spec.voice)
    vision: Check | None = None  # only when it names a model for photos (spec.vision)
    memory: Check | None = None  # only when the Business keeps conversations in Postgres
    secrets: Check | None = None  # whether every Secret it names is granted to it
    suspended: bool = False
    endpoint: str | None = None
    index_stats: dict[str, Any] = field(default_factory=dict)
    signals: Signals | None = None


def _status_word(ok: bool | None) -> str:
    return {True: "True", False: "False", None: "Unknown"}[ok]


def phase(observed: Observation) -> BusinessPhase:
    if observed.suspended:
        return BusinessPhase.SUSPENDED
    silenced = observed.signals is not None and observed.signals.silenced
    if (
        silenced
        or observed.whatsapp.ok is False
        or any(
            check is not None and not check.ok
            for check in (
                observed.model,
                observed.voice,
                observed.vision,
                observed.memory,
                observed.secrets,
            )
        )
    ):
        return BusinessPhase.DEGRADED
    if observed.agent.ok is not True:
        return BusinessPhase.PENDING if observed.agent.ok is None else BusinessPhase.DEGRADED
    if observed.knowledge.ok is not True:
        return BusinessPhase.INDEXING
    return BusinessPhase.READY


def _ready(observed: Observation, current: BusinessPhase) -> Check:
    if current is BusinessPhase.READY:
        return Check(True, "AllChecksPassed", "The agent answers customers from its knowledge.")
    silenced = None
    if observed.signals is not None and observed.signals.silenced:
        restricted = observed.signals.restricted
        silenced = Check(False, restricted.reason, restricted.message)
    checks = [
        ("SecretsGranted", observed.secrets),
        ("WhatsAppConfigured", observed.whatsapp),
        ("MessagingRestricted", silenced),
        ("ModelAvailable", observed.model),
        ("VoiceReady", observed.voice),
        ("VisionReady", observed.vision),
        ("MemoryConfigured", observed.memory),
        ("AgentAvailable", observed.agent),
        ("KnowledgeIndexed", observed.knowledge),
    ]
    if observed.suspended:
        return Check(False, "Suspended", "spec.suspend is true: scaled to zero, no route.")
    for _, check in checks:
        if check is not None and check.ok is not True:
            return Check(False, check.reason, check.message)
    return Check(None, "Reconciling", "Waiting for the first observation.")


def conditions(
    observed: Observation,
    generation: int | None,
    previous: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """metav1.Condition dicts; lastTransitionTime moves only when a status changes."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = {item.get("type"): item for item in previous or []}
    current = phase(observed)
    named: list[tuple[str, Check | None]] = [
        ("Ready", _ready(observed, current)),
        ("WhatsAppConfigured", observed.whatsapp),
        ("AgentAvailable", observed.agent),
        ("KnowledgeIndexed", observed.knowledge),
        ("ModelAvailable", observed.model),
        ("VoiceReady", observed.voice),
        ("VisionReady", observed.vision),
        ("MemoryConfigured", observed.memory),
        ("SecretsGranted", observed.secrets),
    ]
    if observed.signals is not None:
        named += [
            ("MessagingRestricted", observed.signals.restricted),
            ("QualityRating", observed.signals.quality),
            ("MessagingLimit", observed.signals.limit),
            ("TemplatesReady", observed.signals.templates),
        ]
    result = []
    for kind, check in named:
        if check is None:
            continue
        status = _status_word(check.ok)
        old = before.get(kind, {})
        moved = old.get("status") != status
        result.append(
            {
                "type": kind,
                "status": status,
                "reason": check.reason,
                "message": check.message,
                "lastTransitionTime": when if moved else old.get("lastTransitionTime", when),
                "observedGeneration": generation,
            }
        )
    return result


def business_status(
    observed: Observation, generation: int | None, previous: dict[str, Any] | None
) -> dict[str, Any]:
    """The whole `status` block for a Business (what `kubectl get biz` shows)."""
    status: dict[str, Any] = {
        "phase": phase(observed).value,
        "observedGeneration": generation,
        "conditions": conditions(observed, generation, (previous or {}).get("conditions")),
        "endpoint": observed.endpoint,
    }
    if observed.index_stats:
        status["knowledge"] = observed.index_stats
    return status
