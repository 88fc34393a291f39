"""The agent's HTTP API fuzzed from its own OpenAPI schema (schemathesis): whatever the
router or anyone who reaches the agent sends, the answer is never a 5xx and never a crash,
and a success matches the schema it promises. Bounded: a few examples per operation.

Every operation the app serves is fuzzed, so a new endpoint is covered without a change
here. (schemathesis's pytest fixture loader does not run on this pytest, so the cases come
from its Hypothesis strategies.)
"""

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from agent_runtime.api.app import create_app

from .conftest import BAKERY, AgentFactory

EXAMPLES = 30  # per operation and mode: seconds in all, the same examples every run


def _to_this_agent(case: Any) -> Any:
    """A message for another tenant is refused (409) before anything runs: address each one
    to the agent under test so the fuzz reaches retrieval, the graph and the reply."""
    if isinstance(case.body, dict) and "tenant" in case.body:
        case.body["tenant"] = BAKERY
    return case


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error_or_an_answer_off_its_schema(
    make_agent: AgentFactory, mode: GenerationMode
) -> None:
    with TestClient(create_app(make_agent())) as client:  # lifespan runs as deployed
        api = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        operations = [result.ok() for result in api.get_all_operations()]
        assert {op.label for op in operations} >= {"POST /v1/messages", "GET /readyz"}
        for operation in operations:
            takes = (operation.path_parameters, operation.query, operation.headers, operation.body)
            if mode is GenerationMode.NEGATIVE and not any(takes):
                continue  # nothing to get wrong in a request without inputs

            @given(case=operation.as_strategy(generation_mode=mode).map(_to_this_agent))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: Any) -> None:
                case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

            fuzz()
