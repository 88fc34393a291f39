"""What the LLM backend lets through: facts copied from the knowledge, in the reader's script,
and nothing invented (links, phone numbers, e-mail addresses, prices, other numbers)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from peers.openai_compatible import ChatServer, ExtractiveModel
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import ValidationError

from agent_runtime.agent import Agent
from agent_runtime.generation import Question
from agent_runtime.generation.grounding import (
    derived,
    drew_on,
    evidence,
    stated_facts,
    uncited,
    ungrounded,
    written_in,
)
from agent_runtime.generation.llm import DEFAULT_BUDGET_SECONDS, Fallbacks, LlmResponder
from agent_runtime.prompts import system_prompt
from agent_runtime.retrieval import Passage
from katha.api.business import Model, Persona
from katha.contracts.messages import InboundMessage

from .bakery import bakery_spec
from .conftest import AgentFactory

FAQ = (
    "Do you deliver? Yes, within 5 km of Kandy for Rs. 250. Order at https://mihiri.lk/order "
    "or call 077 123 4567, or write to orders@mihiri.lk. We open at 6.30 am; on Sunday "
    "09:00-12:00 and 15:00-18:00. Order birthday cakes two days ahead."
)


def passage(text: str, locator: str, language: str = "en") -> Passage:
    return Passage(
        id=locator,
        source="faq",
        source_uri="file:faq.yaml",
        locator=locator,
        title="FAQ",
        language=language,
        text=text,
    )


def question(text: str, *passages: Passage, instructions: str | None = None) -> Question:
    return Question(
        text=text,
        reply_language="en",
        passages=list(passages),
        business="Mihiri Bakery",
        persona=Persona(name="Nila", instructions=instructions),
    )


@pytest.mark.parametrize(
    "answer",
    [
        "Yes! Order at mihiri.lk/order or https://www.mihiri.lk/order.",
        "Call +94 77 123 4567 or 0771234567, or mail Orders@Mihiri.lk.",
        "Delivery is Rs 250/= within 5 km.",
        "We open at 6:30 am; on Sunday from 9 am to 12 and 3 pm to 6 pm.",
        "Please order 2 days ahead.",
    ],
)
def test_facts_copied_from_the_knowledge_pass(answer: str) -> None:
    assert ungrounded(answer, [FAQ]) == set()


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("See our photos at https://www.flickr.com/photos/mihiri", "url"),
        ("Order at mihiri.lk/cakes", "url"),
        ("Our site is mihiri-cakes.com", "url"),
        ("Call 077 999 1234.", "phone"),
        ("WhatsApp +94 71 555 0000", "phone"),
        ("Mail cakes@gmail.com", "email"),
        ("Delivery is Rs. 350.", "price"),
        ("Delivery costs 300 rupees.", "price"),
        ("We deliver within 8 km.", "number"),
    ],
)
def test_each_kind_of_invented_fact_is_caught(answer: str, kind: str) -> None:
    assert ungrounded(answer, [FAQ]) == {kind}


def test_what_the_owner_wrote_in_the_instructions_is_a_fact_too() -> None:
    asked = question("How do I order?", passage(FAQ, "faq 1"), instructions="Hotline 011 222 3333")
    assert ungrounded("Call our hotline, 011 222 3333.", evidence(asked)) == set()
    assert ungrounded("Call 011 222 4444.", evidence(asked)) == {"phone"}


def test_a_total_for_the_quantity_asked_is_worked_out_for_the_model_and_accepted() -> None:
    menu = passage("Butter cake, 1 kg: Rs. 2,600\nLove cake, 500 g: Rs. 2,200", "page 1")
    asked = question("How much for 2 butter cakes?", menu)
    assert "[calc] 2 × Rs. 2,600 = Rs. 5,200" in system_prompt(asked)
    assert ungrounded("2 butter cakes are Rs. 5,200.", evidence(asked), derived(asked)) == set()
    assert ungrounded("2 butter cakes are Rs. 5,000.", evidence(asked), derived(asked)) == {"price"}


def test_the_prompt_asks_for_the_script_and_for_citations() -> None:
    asked = question("butter cake eka kiyada?", passage("බටර් කේක් රු. 2,600", "page 2", "si"))
    singlish = system_prompt(Question(**{**asked.__dict__, "reply_language": "singlish"}))
    assert "Use Latin letters only" in singlish
    assert "never Sinhala letters" in singlish
    tamil = system_prompt(Question(**{**asked.__dict__, "reply_language": "ta"}))
    assert "Reply in Tamil, in Tamil script. Use Tamil letters; never Sinhala letters." in tamil
    assert "put its number in brackets, like [2]" in singlish
    assert "never give one that they do not" in singlish


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("butter cake eka Rs. 2,600 yi.", "singlish", True),
        ("බටර් කේක් රු. 2,600 යි.", "singlish", False),  # Singlish is never Sinhala script
        ("Butter cake is Rs. 2,600.", "singlish", False),
        ("Butter cake is Rs. 2,600.", "en", True),
        ("බටර් කේක් රු. 2,600 යි.", "si", True),
        ("We take Visa, Mastercard and LankaQR (කාඩ්).", "si", False),
        ("பட்டர் கேக் ரூ. 2,600.", "ta", True),
        ("பட்டர் கேக் (බටර් කේක්) ரூ. 2,600.", "ta", False),  # Sinhala to a Tamil reader
        ("බටර් කේක් (பட்டர் கேக்) රු. 2,600.", "si", False),
        ("Butter cake is Rs. 2,600.", "ta", False),
    ],
)
def test_an_answer_counts_as_in_a_language_only_in_its_script(
    text: str, language: str, expected: bool
) -> None:
    assert written_in(text, language) is expected


def test_cited_passages_are_the_ones_drawn_on_and_markers_never_reach_the_customer() -> None:
    english, sinhala = passage(FAQ, "faq 1"), passage("රු. 250 ට ඩිලිවරි කරනවා.", "faq 2", "si")
    other = passage("We accept Visa.", "faq 7")
    passages = [sinhala, english, other]
    assert drew_on("Delivery is Rs. 250 [2].", passages, "en") == [english]
    assert uncited("Delivery is Rs. 250 [2]. Visa too [3] [hours].") == (
        "Delivery is Rs. 250. Visa too."
    )
    # Uncited: the passages stating its numbers, the reply's language first.
    assert drew_on("Delivery is Rs. 250.", passages, "en") == [english, sinhala]
    assert drew_on("We take Visa cards.", passages, "en") == [other]


def test_two_answers_state_the_same_facts_however_they_write_them() -> None:
    assert stated_facts("Rs. 2,600; call +94 77 123 4567, https://mihiri.lk/") == stated_facts(
        "රු. 2600 යි. 0771234567 අමතන්න. mihiri.lk"
    )


def test_the_answer_budget_is_a_few_seconds_and_bounded() -> None:
    endpoint = {"baseUrl": "https://api.openai.com/v1", "model": "gpt-4o-mini"}
    assert Model.model_validate({"endpoint": endpoint}).answer_budget_seconds == 6.0
    assert DEFAULT_BUDGET_SECONDS == 6.0
    assert Model.model_validate({"endpoint": endpoint, "answerBudgetSeconds": 2.5})
    for wrong in (0, 0.2, 26, -1):
        with pytest.raises(ValidationError):
            Model.model_validate({"endpoint": endpoint, "answerBudgetSeconds": wrong})


def test_fallbacks_are_exposed_as_prometheus_counters() -> None:
    fallbacks = Fallbacks()
    fallbacks.count("budget")
    fallbacks.count("ungrounded", {"url", "phone"})
    registry = CollectorRegistry()
    registry.register(fallbacks)
    exposed = generate_latest(registry).decode()
    assert 'katha_agent_llm_fallbacks_total{reason="budget"} 1.0' in exposed
    assert 'katha_agent_llm_fallbacks_total{reason="error"} 0.0' in exposed
    assert 'katha_agent_llm_ungrounded_total{kind="url"} 1.0' in exposed
    assert 'katha_agent_llm_ungrounded_total{kind="price"} 0.0' in exposed


TWO_PARTS = "Do you deliver and can I pay by card?"


def llm_agent(make_agent: AgentFactory, chat_server: ChatServer, budget: float) -> Agent:
    """The bakery answered by the loopback model within `budget` seconds a message."""
    endpoint = {"baseUrl": f"{chat_server.base}/v1", "model": "sinhala-llm"}
    spec = bakery_spec(model={"endpoint": endpoint, "answerBudgetSeconds": budget})
    return make_agent(spec=spec, llm={"base_url": f"{chat_server.base}/v1", "model": "sinhala-llm"})


def reply_to(agent: Agent, text: str) -> str:
    reply = agent.reply(
        InboundMessage(
            message_id="wamid.parts",
            tenant="tenants/mihiri",
            conversation_id="parts",
            type="text",
            timestamp=datetime.now(UTC),
            text=text,
        )
    )
    return reply.text or ""


def fallbacks(agent: Agent) -> Fallbacks:
    responder = agent.context.responder
    assert isinstance(responder, LlmResponder)
    return responder.fallbacks


def test_parts_already_in_the_reply_language_are_not_sent_to_be_translated(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = ExtractiveModel()
    agent = llm_agent(make_agent, chat_server, budget=6.0)
    text = reply_to(agent, TWO_PARTS)
    assert "Rs. 250" in text
    assert "Visa" in text
    # One call a part, answered in English: no second call to translate English to English.
    assert [system(request) for request in chat_server.requests] == ["answer", "answer"]
    assert not fallbacks(agent).reasons


def test_the_parts_of_a_message_share_one_answer_budget(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    """The first part's call spends the whole budget: the second part is answered by the
    grounded responder at once, not given a fresh budget of its own to wait through."""

    def slow_first(request: dict[str, Any]) -> float:
        return 2.0 if len(chat_server.requests) == 1 else 0.0

    chat_server.reply = ExtractiveModel(delay=slow_first)
    agent = llm_agent(make_agent, chat_server, budget=0.5)
    text = reply_to(agent, TWO_PARTS)
    assert "Rs. 250" in text  # both parts still answered, by the grounded responder
    assert "Visa" in text
    assert len(chat_server.requests) == 1  # the model was not asked again past the deadline
    assert fallbacks(agent).reasons == {"budget": 2}


def system(request: dict[str, Any]) -> str:
    """Whether a request to the model asked for an answer or for a translation."""
    content = str(request["messages"][0]["content"])
    return "translate" if content.startswith("Translate") else "answer"


def test_a_size_in_the_question_is_no_quantity_for_the_model() -> None:
    rows = passage("Trouser shortening: Rs. 600\nTrouser: Rs. 2,500", "sheet Alterations row 3")
    asked = question("How much to shorten trousers, waist 34?", rows)
    assert "[calc]" not in system_prompt(asked)
