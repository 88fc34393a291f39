"""What the business owner and the platform team can read: metrics and unanswered questions."""

import pytest
from fastapi.testclient import TestClient

from .conftest import ask


def test_answers_handoffs_and_unanswered_questions_are_counted(client: TestClient) -> None:
    ask(client, "What time do you open?", number=1)
    ask(client, "Do you sell pizza?", number=2)
    ask(client, "I want to talk to a person", number=3)
    metrics = client.get("/metrics").text
    assert (
        'katha_agent_answers_total{backend="grounded",intent="question",language="en",'
        'outcome="answered"} 1.0'
    ) in metrics
    assert 'katha_agent_handoffs_total{reason="low_confidence"} 1.0' in metrics
    assert 'katha_agent_handoffs_total{reason="human"} 1.0' in metrics
    assert 'katha_agent_unanswered_total{language="en"} 1.0' in metrics
    assert "katha_agent_retrieval_seconds_count 2.0" in metrics
    assert 'katha_agent_generation_seconds_count{backend="grounded"} 1.0' in metrics


def test_the_owner_gets_the_list_of_unanswered_questions(client: TestClient) -> None:
    ask(client, "Do you sell pizza?", number=1)
    ask(client, "What time do you open?", number=2)
    questions = client.get("/v1/unanswered").json()["questions"]
    assert [(q["language"], q["text"]) for q in questions] == [("en", "Do you sell pizza?")]


def test_logs_carry_outcomes_and_ids_but_never_the_message(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    ask(client, "Do you sell pizza?", number=1)
    out = capsys.readouterr().out
    assert "handoff.requested" in out
    assert "retrieval.miss" in out
    assert "wamid.conv-1.1" in out
    assert "pizza" not in out
