"""Handoff: a request for a person, a complaint, or low confidence, politely, in their language."""

import re

from fastapi.testclient import TestClient

from agent_runtime.api.app import create_app

from .bakery import bakery_spec
from .conftest import AgentFactory, ask


def test_asking_for_a_person_hands_over_in_the_customers_language(client: TestClient) -> None:
    reply = ask(client, "මනුස්සයෙක් එක්ක කතා කරන්න ඕනේ")
    assert reply["handoff"] is True
    assert reply["handoff_reason"] == "human"
    assert reply["language"] == "si"
    assert "Mihiri Bakery හි කෙනෙක්" in reply["text"]


def test_a_complaint_hands_over_with_an_apology(client: TestClient) -> None:
    reply = ask(client, "The cake was stale, I want a refund")
    assert reply["handoff"] is True
    assert reply["handoff_reason"] == "complaint"
    assert reply["text"].startswith("I'm sorry to hear that.")


def test_a_singlish_customer_with_an_unanswerable_question_is_told_in_singlish(
    client: TestClient,
) -> None:
    reply = ask(client, "job vacancy thiyenawada")
    assert reply["handoff"] is True
    assert reply["language"] == "singlish"
    assert "kenek oyata reply karai" in reply["text"]


def test_without_handoff_the_agent_says_honestly_it_does_not_know(
    make_agent: AgentFactory,
) -> None:
    spec = bakery_spec(handoff={"enabled": False})
    with TestClient(create_app(make_agent(spec=spec))) as client:
        reply = ask(client, "Do you sell pizza?")
    assert reply["handoff"] is False
    assert reply["text"] == "I'm not sure about that. Please contact Mihiri Bakery directly."


def test_abuse_gets_a_short_boundary_and_no_handoff(client: TestClient) -> None:
    reply = ask(client, "you idiot")
    assert reply["intent"] == "abuse"
    assert reply["handoff"] is False
    assert reply["sources"] == []


def test_a_voice_note_without_a_speech_model_goes_to_a_person(client: TestClient) -> None:
    response = client.post(
        "/v1/messages",
        json={
            "message_id": "wamid.voice",
            "tenant": "tenants/mihiri",
            "conversation_id": "conv-voice",
            "type": "audio",
            "timestamp": "2026-01-01T00:00:00Z",
            "media": {"id": "m1", "voice": True},
            "previous_language": "si",
        },
    )
    reply = response.json()
    assert reply["intent"] == "media"
    assert reply["language"] == "si"
    assert reply["handoff"]
    assert reply["handoff_reason"] == "voice_note"
    assert re.search("[\u0d80-\u0dff]", reply["text"])  # said in Sinhala, as they wrote


def test_a_reaction_needs_no_reply(client: TestClient) -> None:
    response = client.post(
        "/v1/messages",
        json={
            "message_id": "wamid.reaction",
            "tenant": "tenants/mihiri",
            "conversation_id": "conv-r",
            "type": "reaction",
            "timestamp": "2026-01-01T00:00:00Z",
            "reaction": {"message_id": "wamid.1", "emoji": "👍"},
        },
    )
    assert response.json()["text"] is None


def test_a_question_sharing_one_word_with_the_knowledge_is_not_answered_from_it(
    client: TestClient,
) -> None:
    # "bread" and "bakery" are in the knowledge; gluten-free bread and weddings are not.
    for number, question in enumerate(
        ["Do you sell gluten-free bread?", "Can I book the bakery for a wedding party?"]
    ):
        reply = ask(client, question, number=number)
        assert reply["handoff"] is True, question
        assert reply["sources"] == []
