"""The owner's settings reach the right place: spec.paused the router's route entry (the
agent keeps running), spec.hours the agent's configuration as written, and the owner's FAQ
the knowledge digest that starts an index writer run."""

import json
from typing import Any

from example_tenants import example_tenant
from pydantic import SecretStr

from business_operator.render import render_agent_children, render_route
from business_operator.render.index import knowledge_digest
from katha.api.hours import OpeningHours
from katha.api.knowledge import FaqItem
from katha.contracts.routing import Credentials, Route

CREDENTIALS = Credentials(
    access_token=SecretStr("EAAG-test-token"),
    app_secret=SecretStr("app-secret-0123456789"),
    verify_token=SecretStr("verify-token-0123456789"),
)
HOURS = OpeningHours.model_validate(
    {
        "weekly": {"monday": [{"open": "07:00", "close": "20:00"}]},
        "closedDays": ["2026-12-25"],
        "note": "Closed on Poya days",
    }
)


def _agent_business(**changes: Any) -> dict[str, Any]:
    """The Business spec the agent is started with (its Deployment's app-args.json)."""
    children = render_agent_children(example_tenant("01-minimal-business", "deployment", **changes))
    (config,) = [c for c in children if c["kind"] == "ConfigMap" and "app-args.json" in c["data"]]
    business: dict[str, Any] = json.loads(config["data"]["app-args.json"])["business"]
    return business


def test_a_paused_business_is_paused_in_its_route_not_suspended() -> None:
    paused = render_route(
        example_tenant("01-minimal-business", "deployment", paused=True), CREDENTIALS
    )
    assert paused.paused is True
    assert paused.suspended is False
    plain = render_route(example_tenant("01-minimal-business", "deployment"), CREDENTIALS)
    assert plain.paused is False
    # The router reads it back from the routes Secret as written.
    assert Route.model_validate(paused.model_dump(mode="json")).paused is True


def test_the_agent_gets_the_opening_hours_as_written() -> None:
    business = _agent_business(hours=HOURS)
    assert business["hours"] == HOURS.to_yaml_dict()
    assert business["hours"]["weekly"] == {"monday": [{"open": "07:00", "close": "20:00"}]}
    assert "hours" not in _agent_business()  # not stated: nothing for the agent to say


def test_the_owners_faq_starts_a_writer_run_and_pausing_does_not() -> None:
    tenant = example_tenant("01-minimal-business", "deployment")
    knowledge = tenant.spec.knowledge
    with_faq = knowledge.model_copy(update={"faq": [FaqItem(q="Open on Poya?", a="Until noon.")]})
    in_sinhala = knowledge.model_copy(
        update={"faq": [FaqItem(q="Open on Poya?", a="Until noon.", language="si")]}
    )
    digests = {
        knowledge_digest(example_tenant("01-minimal-business", "deployment", **changes))
        for changes in ({}, {"knowledge": with_faq}, {"knowledge": in_sinhala})
    }
    assert len(digests) == 3
    paused = example_tenant("01-minimal-business", "deployment", paused=True, hours=HOURS)
    assert knowledge_digest(paused) == knowledge_digest(tenant)
