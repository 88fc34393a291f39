"""The owner's list of unanswered questions: on the tenant's volume, shared, bounded, forgotten."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent_runtime.api.app import create_app
from agent_runtime.unanswered import UnansweredQuestions

from .bakery import bakery_spec
from .conftest import AgentFactory, ask

PIZZA_SI = "පීසා තියෙනවද?"


def test_replicas_on_one_volume_share_the_list_with_counts_by_language(
    make_agent: AgentFactory, index_root: Path
) -> None:
    first, second = make_agent(), make_agent()
    with TestClient(create_app(first)) as client:
        assert ask(client, "Do you sell pizza?", number=1)["handoff"] is True
        ask(client, "What time do you open?", number=2)  # answered: not on the list
    with TestClient(create_app(second)) as client:
        assert ask(client, PIZZA_SI, conversation="conv-2")["handoff"] is True
        assert ask(client, "job vacancy thiyenawada", conversation="conv-3")["handoff"] is True
    with TestClient(create_app(first)) as client:
        listed = client.get("/v1/unanswered").json()
        newest = client.get("/v1/unanswered", params={"limit": 1}).json()
    assert [(q["language"], q["text"]) for q in listed["questions"]] == [
        ("en", "Do you sell pizza?"),
        ("si", PIZZA_SI),  # as the customer wrote it
        ("singlish", "job vacancy thiyenawada"),
    ]
    assert listed["total"] == 3
    assert listed["by_language"] == {"en": 1, "si": 1, "singlish": 1}
    assert [q["text"] for q in newest["questions"]] == ["job vacancy thiyenawada"]
    assert newest["total"] == 3
    assert (index_root / "tenants" / "mihiri" / "unanswered.sqlite").is_file()


def test_an_unanswered_question_is_listed_even_with_nobody_to_hand_over_to(
    make_agent: AgentFactory,
) -> None:
    agent = make_agent(spec=bakery_spec(handoff={"enabled": False}))
    with TestClient(create_app(agent)) as client:
        assert ask(client, "Do you sell pizza?")["handoff"] is False
        listed = client.get("/v1/unanswered").json()
    assert [q["text"] for q in listed["questions"]] == ["Do you sell pizza?"]


def test_the_list_is_bounded_and_forgets_questions_past_the_retention(tmp_path: Path) -> None:
    now = [datetime(2026, 1, 1, 9, 0, tzinfo=UTC)]
    store = UnansweredQuestions(
        tmp_path / "unanswered.sqlite", timedelta(days=30), kept=3, clock=lambda: now[0]
    )
    for number in range(5):
        store.add("en", f"question {number}")
        now[0] += timedelta(days=1)
    report = store.report()
    assert [q.text for q in report.questions] == ["question 2", "question 3", "question 4"]
    assert report.total == 3
    now[0] += timedelta(days=27, hours=12)  # question 2 is past 30 days, 3 and 4 are not
    assert [q.text for q in store.report().questions] == ["question 3", "question 4"]
    now[0] += timedelta(days=2)
    assert store.report().total == 0
    store.close()


def test_unanswered_questions_are_never_logged(
    make_agent: AgentFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(make_agent())) as client:
        ask(client, "Do you sell pizza? My number is 0771234567")
        client.get("/v1/unanswered")
    out = capsys.readouterr().out
    assert "retrieval.miss" in out
    assert "pizza" not in out
    assert "0771234567" not in out
