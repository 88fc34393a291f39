"""How observations become a Business's phase, conditions and events (index statistics:
test_index_writer_status.py)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from business_operator.handlers.business import transitions
from business_operator.handlers.signals import observed_again
from business_operator.status import Check, Observation, Signals, business_status, phase
from katha.api import BusinessPhase

OK = Check(True, "Fine", "fine")
UNKNOWN = Check(None, "Waiting", "waiting")


def _observed(**changes: Any) -> Observation:
    values: dict[str, Any] = {"whatsapp": OK, "agent": OK, "knowledge": OK}
    values.update(changes)
    return Observation(**values)


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        (_observed(), BusinessPhase.READY),
        (_observed(knowledge=UNKNOWN), BusinessPhase.INDEXING),
        (_observed(agent=UNKNOWN, knowledge=UNKNOWN), BusinessPhase.PENDING),
        (_observed(agent=Check(False, "Crash", "crash")), BusinessPhase.DEGRADED),
        (_observed(whatsapp=Check(False, "SecretNotFound", "no")), BusinessPhase.DEGRADED),
        (_observed(model=Check(False, "ModelNotReady", "loading")), BusinessPhase.DEGRADED),
        (
            _observed(memory=Check(False, "PostgresSecretNotFound", "no"), agent=UNKNOWN),
            BusinessPhase.DEGRADED,
        ),
        (_observed(memory=Check(True, "PostgresConfigured", "pg")), BusinessPhase.READY),
        (_observed(suspended=True, agent=Check(False, "Suspended", "s")), BusinessPhase.SUSPENDED),
    ],
)
def test_phase_follows_the_worst_observation(
    observed: Observation, expected: BusinessPhase
) -> None:
    assert phase(observed) is expected


def test_ready_condition_names_the_first_blocker() -> None:
    observed = _observed(whatsapp=Check(False, "SecretNotFound", "create the Secret"))
    status = business_status(observed, generation=3, previous=None)
    ready = next(item for item in status["conditions"] if item["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "SecretNotFound")
    assert ready["message"] == "create the Secret"
    assert ready["observedGeneration"] == 3
    assert status["observedGeneration"] == 3


def test_a_missing_postgres_secret_is_named_before_the_agent_that_waits_for_it() -> None:
    missing = Check(False, "PostgresSecretNotFound", "create Secret tenants/db with the key url")
    status = business_status(_observed(memory=missing, agent=UNKNOWN), 1, None)
    by_type = {item["type"]: item for item in status["conditions"]}
    assert (by_type["Ready"]["reason"], by_type["Ready"]["message"]) == (
        "PostgresSecretNotFound",
        "create Secret tenants/db with the key url",
    )
    assert by_type["MemoryConfigured"]["status"] == "False"
    assert "MemoryConfigured" not in {
        c["type"] for c in business_status(_observed(), 1, None)["conditions"]
    }


def test_transition_time_moves_only_when_the_status_changes() -> None:
    first = business_status(_observed(knowledge=UNKNOWN), 1, None)
    again = business_status(_observed(knowledge=UNKNOWN), 1, first)
    assert again["conditions"] == first["conditions"]
    assert transitions(first, again) == []
    ready = business_status(_observed(), 1, first)
    events = transitions(first, ready)
    assert ("Normal", "AllChecksPassed") in {(kind, reason) for kind, reason, _ in events}


def test_timestamps_are_utc_rfc3339() -> None:
    status = business_status(_observed(), 1, None)
    stamp = status["conditions"][0]["lastTransitionTime"]
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_voice_and_vision_models_report_their_own_conditions_and_survive_a_signal() -> None:
    waiting = Check(False, "ModelNotReady", "LanguageModel whisper is Loading; voice notes go")
    photos = Check(True, "EndpointConfigured", "Photos are read by gemma at https://x.lk/v1")
    observed = _observed(voice=waiting, vision=photos)
    assert phase(observed) is BusinessPhase.DEGRADED
    status = business_status(observed, 2, None)
    by_type = {item["type"]: item for item in status["conditions"]}
    assert (by_type["Ready"]["reason"], by_type["VoiceReady"]["status"]) == (
        "ModelNotReady",
        "False",
    )
    assert by_type["VisionReady"]["status"] == "True"
    # When Meta's signals move the status, the reconciler's media conditions stay as written.
    again = observed_again(status["conditions"], False, Signals(restricted=OK, templates=OK))
    assert again is not None
    assert (again.voice, again.vision) == (waiting, photos)
    assert "VoiceReady" not in {
        c["type"] for c in business_status(_observed(), 1, None)["conditions"]
    }
