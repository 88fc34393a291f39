"""The LLM backend against a loopback OpenAI-compatible server that checks what it is sent."""

from typing import Any

from fastapi.testclient import TestClient
from peers.openai_compatible import ChatServer

from agent_runtime.api.app import create_app
from agent_runtime.generation.grounding import unsupported_numbers

from .bakery import bakery_spec
from .conftest import AgentFactory, ask


def llm_client(make_agent: AgentFactory, chat_server: ChatServer) -> TestClient:
    agent = make_agent(llm={"base_url": f"{chat_server.base}/v1", "model": "sinhala-llm"})
    return TestClient(create_app(agent))


def system_text(request: dict[str, Any]) -> str:
    system: str = request["messages"][0]["content"]
    assert request["messages"][0]["role"] == "system"
    return system


def test_the_model_gets_the_persona_the_retrieved_facts_and_the_grounding_rule(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = lambda request: "We open at 6.30 am every day 😊"
    with llm_client(make_agent, chat_server) as client:
        reply = ask(client, "What time do you open?")
    assert reply["text"] == "We open at 6.30 am every day 😊"
    assert reply["sources"][0]["locator"] == "faq 1"
    assert not reply["handoff"]
    request = chat_server.requests[-1]
    assert request["model"] == "sinhala-llm"
    system = system_text(request)
    assert "You are Nila, the WhatsApp assistant of Mihiri Bakery" in system
    assert "Answer only from these facts" in system
    assert "6.30 am to 9 pm" in system  # the FAQ chunk
    assert "Reply in English" in system
    assert request["messages"][-1] == {"role": "user", "content": "What time do you open?"}


def test_the_model_is_asked_for_sinhala_script_for_a_sinhala_question(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = lambda request: "අපි උදේ 6.30 සිට විවෘතයි."
    with llm_client(make_agent, chat_server) as client:
        reply = ask(client, "ඔබ කීයටද විවෘත කරන්නේ?")
    assert "Reply in Sinhala, in Sinhala script" in system_text(chat_server.requests[-1])
    assert reply["language"] == "si"
    assert reply["text"] == "අපි උදේ 6.30 සිට විවෘතයි."
    assert len(chat_server.requests) == 1  # already in Sinhala: nothing to translate


def test_an_answer_in_the_wrong_language_is_translated_by_the_model(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    def model(request: dict[str, Any]) -> str:
        if "Translate" in request["messages"][0]["content"]:
            return "අපි උදේ 6.30 සිට විවෘතයි."
        return "We open at 6.30 am."

    chat_server.reply = model
    with llm_client(make_agent, chat_server) as client:
        reply = ask(client, "ඔබ කීයටද විවෘත කරන්නේ?")
    assert reply["text"] == "අපි උදේ 6.30 සිට විවෘතයි."
    translate = chat_server.requests[-1]
    assert "Translate the user's message into Sinhala" in translate["messages"][0]["content"]
    assert translate["messages"][1]["content"] == "We open at 6.30 am."


def test_when_the_model_says_the_facts_do_not_answer_a_person_is_asked(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = lambda request: "HANDOFF"
    with llm_client(make_agent, chat_server) as client:
        reply = ask(client, "How much is the butter cake?")
    assert reply["handoff"] is True
    assert reply["handoff_reason"] == "not_in_knowledge"
    assert client.get("/v1/unanswered").json()["questions"][0]["text"] == (
        "How much is the butter cake?"
    )


def test_a_price_the_model_made_up_is_never_sent(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = lambda request: "A butter cake is Rs. 1,999 today only!"
    with llm_client(make_agent, chat_server) as client:
        reply = ask(client, "How much is the butter cake?")
    assert "1,999" not in reply["text"]
    assert reply["text"] == "Butter cake, 1 kg: Rs. 2,600"  # the grounded responder's


def test_an_unreachable_model_falls_back_to_the_grounded_responder(
    make_agent: AgentFactory,
) -> None:
    agent = make_agent(llm={"base_url": "http://127.0.0.1:9/v1", "model": "gone"})
    with TestClient(create_app(agent)) as client:
        reply = ask(client, "What time do you open?")
        ready = client.get("/readyz")
    assert "6.30" in reply["text"]
    assert ready.status_code == 503
    assert ready.json()["model"] is False


def test_the_conversation_so_far_is_sent_to_the_model(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = lambda request: "We open at 6.30 am."
    with llm_client(make_agent, chat_server) as client:
        ask(client, "What time do you open?", conversation="c-memory", number=1)
        ask(client, "Are you open on Poya days?", conversation="c-memory", number=2)
    roles = [(m["role"], m["content"]) for m in chat_server.requests[-1]["messages"][1:]]
    assert roles == [
        ("user", "What time do you open?"),
        ("assistant", "We open at 6.30 am."),
        ("user", "Are you open on Poya days?"),
    ]


def test_numbers_are_compared_with_and_without_thousands_separators() -> None:
    assert unsupported_numbers("Rs. 4800 or 2,600", ["Rs. 4,800", "2600"]) == set()
    assert unsupported_numbers("Rs. 4,900", ["Rs. 4,800"]) == {"4,900"}


def test_the_businesss_answer_budget_decides_when_the_grounded_answer_goes(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    """spec.model.answerBudgetSeconds reaches the agent: a model slower than the Business's
    half-second budget is not waited for, and the metric says why."""
    import time

    def slow(request: dict[str, Any]) -> str:
        time.sleep(3)
        return "We open at 6.30 am."

    chat_server.reply = slow
    endpoint = {"baseUrl": f"{chat_server.base}/v1", "model": "sinhala-llm"}
    spec = bakery_spec(model={"endpoint": endpoint, "answerBudgetSeconds": 0.5})
    agent = make_agent(
        spec=spec, llm={"base_url": f"{chat_server.base}/v1", "model": "sinhala-llm"}
    )
    with TestClient(create_app(agent)) as client:
        reply = ask(client, "What time do you open?")
        exposed = client.get("/metrics").text
    assert chat_server.requests, "the model was asked"
    assert reply["text"] == (
        "We are open every day from 6.30 am to 9 pm, and from 8 am to 1 pm on Poya days."
    )
    assert 'katha_agent_llm_fallbacks_total{reason="budget"} 1.0' in exposed
