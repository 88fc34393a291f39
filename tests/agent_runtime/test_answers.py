"""The built-in grounded responder answers each language from the right source, or hands over."""

import re

import pytest
from fastapi.testclient import TestClient

from katha.lang import detect_language

from .bakery import bakery_spec
from .conftest import AgentFactory, ask

SINHALA = re.compile(r"[\u0d80-\u0dff]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def test_an_english_question_gets_the_english_faq_answer_verbatim(client: TestClient) -> None:
    reply = ask(client, "What time do you open?")
    assert reply["text"] == (
        "We are open every day from 6.30 am to 9 pm, and from 8 am to 1 pm on Poya days."
    )
    assert reply["language"] == "en"
    assert reply["intent"] == "question"
    assert not reply["handoff"]
    assert [source["locator"] for source in reply["sources"]] == ["faq 1"]
    assert reply["confidence"] >= 0.5


def test_a_sinhala_question_gets_the_sinhala_answer_from_the_sinhala_faq(
    client: TestClient,
) -> None:
    reply = ask(client, "ඔබ ඩිලිවරි කරනවද?")
    assert reply["language"] == "si"
    assert SINHALA.search(reply["text"])
    assert "250" in reply["text"]
    assert reply["sources"][0]["locator"] == "faq 4"
    assert not reply["handoff"]


def test_an_english_price_question_reads_the_menu_pdf_line(client: TestClient) -> None:
    reply = ask(client, "How much is the butter cake?")
    assert reply["text"] == "Butter cake, 1 kg: Rs. 2,600"
    assert reply["sources"][0]["uri"].endswith("menu.pdf")
    assert reply["sources"][0]["locator"] == "page 1"


def test_a_singlish_question_is_answered_in_singlish_from_the_sinhala_knowledge(
    client: TestClient,
) -> None:
    reply = ask(client, "butter cake eka kiyada?")
    assert reply["language"] == "singlish"
    assert "2,600" in reply["text"]
    assert not SINHALA.search(reply["text"])  # Latin letters, as the customer typed
    assert reply["sources"][0]["locator"] == "page 2"


def test_a_singlish_question_finds_the_price_row_of_the_spreadsheet(client: TestClient) -> None:
    reply = ask(client, "maalu banis ekak kiyada?")
    assert "120" in reply["text"]
    assert reply["sources"][0]["uri"].endswith("prices.xlsx")
    assert reply["sources"][0]["locator"] == "sheet Prices row 2"


def test_a_price_row_is_rendered_readably_for_an_english_customer(client: TestClient) -> None:
    reply = ask(client, "fish bun price?")
    assert reply["text"] == "Fish bun: Rs. 120"  # never the column name "Price (Rs.)"


def test_singlish_is_answered_in_sinhala_script_when_the_persona_says_so(
    make_agent: AgentFactory,
) -> None:
    from agent_runtime.api.app import create_app

    spec = bakery_spec(persona={"name": "Nila", "singlishReplies": "sinhala"})
    with TestClient(create_app(make_agent(spec=spec))) as client:
        reply = ask(client, "butter cake eka kiyada?")
    assert reply["language"] == "si"
    assert SINHALA.search(reply["text"])
    assert "2,600" in reply["text"]


def test_a_tamil_customer_is_told_honestly_that_the_details_are_in_english(
    client: TestClient,
) -> None:
    reply = ask(client, "நீங்கள் கார்டு மூலம் பணம் ஏற்றுக்கொள்கிறீர்களா?")
    assert reply["language"] == "ta"
    assert "ஆங்கிலத்தில் மட்டுமே" in reply["text"]  # "only in English"


@pytest.mark.parametrize(
    "question",
    [
        "Do you sell pizza?",
        "Do you cater for office events?",
        "පීසා තියෙනවද?",
        "job vacancy thiyenawada",
    ],
)
def test_an_unknown_question_is_handed_over_not_invented(client: TestClient, question: str) -> None:
    reply = ask(client, question)
    assert reply["handoff"] is True
    assert reply["handoff_reason"] == "low_confidence"
    assert reply["sources"] == []
    assert not NUMBER.search(reply["text"])  # no price, time or quantity without a source


@pytest.mark.parametrize(
    "question",
    [
        "What time do you open?",
        "how much is a ribbon cake",
        "බටර් කේක් කීයද?",
        "kiri tea ekak kiyada",
        "Can I pay by card?",
        "eggless cake thiyenawada?",
    ],
)
def test_every_number_in_an_answer_is_in_its_sources(client: TestClient, question: str) -> None:
    from agent_runtime.generation.grounded import numbers

    reply = ask(client, question)
    assert reply["sources"], question
    chunk_numbers: set[str] = set()
    for source in reply["sources"]:
        chunk_numbers |= _numbers_of_source(source["locator"])
    assert numbers(reply["text"]) <= chunk_numbers


def _numbers_of_source(locator: str) -> set[str]:
    from agent_runtime.generation.grounded import numbers

    from .bakery import FAQ_ITEMS, MENU_PAGES, PRICE_ROWS

    if locator.startswith("faq"):
        item = FAQ_ITEMS[int(locator.split()[1]) - 1]
        return numbers(item["q"] + " " + item["a"])
    if locator.startswith("page"):
        page = MENU_PAGES[int(locator.split()[1]) - 1]
        return numbers(" ".join(line if isinstance(line, str) else " ".join(line) for line in page))
    row = PRICE_ROWS[int(locator.split()[-1]) - 2]
    return numbers(" ".join(str(cell) for cell in row))


def test_a_greeting_is_answered_from_the_persona_without_retrieval(client: TestClient) -> None:
    reply = ask(client, "ආයුබෝවන්")
    assert reply["intent"] == "greeting"
    assert reply["language"] == "si"
    assert "Nila" in reply["text"] or "නිලා" in reply["text"]
    assert reply["sources"] == []


def test_the_personas_own_greeting_is_used_when_it_has_one(make_agent: AgentFactory) -> None:
    from agent_runtime.api.app import create_app

    spec = bakery_spec(persona={"name": "Nila", "greeting": "Welcome to Mihiri! 🍰"})
    with TestClient(create_app(make_agent(spec=spec))) as client:
        assert ask(client, "hello")["text"] == "Welcome to Mihiri! 🍰"


def test_thanks_get_a_thank_you_in_the_conversations_language(client: TestClient) -> None:
    reply = ask(client, "sthuthiyi", previous="singlish")
    assert reply["intent"] == "thanks"
    assert reply["language"] == "singlish"
    assert detect_language(reply["text"]).language != "si"


def test_a_short_message_keeps_the_conversations_language(client: TestClient) -> None:
    reply = ask(client, "ok", previous="si")
    assert reply["language"] == "si"


def test_open_now_is_answered_with_the_hours_and_the_time_in_colombo(
    make_agent: AgentFactory,
) -> None:
    from datetime import UTC, datetime

    from agent_runtime.api.app import create_app

    tuesday_evening = datetime(2026, 11, 24, 13, 45, tzinfo=UTC)  # 19:15 in Colombo
    agent = make_agent(clock=lambda: tuesday_evening)
    with TestClient(create_app(agent)) as client:
        english = ask(client, "Are you open now?", number=1)
        sinhala = ask(client, "ඔබ දැන් විවෘතද?", number=2)
    assert english["text"].startswith("We are open every day from 6.30 am to 9 pm")
    assert english["text"].endswith("(It is Tuesday 19:15 here now.)")
    assert sinhala["text"].endswith("(දැන් මෙහි වේලාව Tuesday 19:15.)")
