"""Language is respect: the customer's language where the business serves it, English as the
bridge where it does not, and never Sinhala script to a Tamil reader or Tamil to a Sinhala one."""

import re

import pytest
from fastapi.testclient import TestClient

from agent_runtime.api.app import create_app
from agent_runtime.languages import readable_by, reply_language
from agent_runtime.phrases import greeting
from katha.api.business import Persona

from .bakery import bakery_spec
from .conftest import AgentFactory, ask

SINHALA = re.compile(r"[\u0d80-\u0dff]")
TAMIL = re.compile(r"[\u0b80-\u0bff]")


@pytest.mark.parametrize(
    ("customer", "served", "expected"),
    [
        ("ta", ["si", "en"], "en"),  # Tamil to a Sinhala-first shop: English, never Sinhala
        ("ta", ["si"], "en"),  # even where the owner listed no English
        ("tanglish", ["si", "singlish"], "en"),
        ("si", ["ta", "en"], "en"),  # and the other way round
        ("singlish", ["si", "en", "singlish"], "singlish"),
        ("singlish", ["si", "en"], "si"),  # Singlish not listed: Sinhala script
        ("singlish", ["si"], "si"),  # the same language in the other script
        ("si", ["singlish", "en"], "singlish"),
        ("en", ["si"], "en"),
        ("ta", ["si", "ta"], "ta"),
        ("ta", [], "ta"),  # no list: every language the customer writes
        ("mixed", ["si", "en"], "si"),
        ("unknown", ["si", "en"], "en"),
    ],
)
def test_the_reply_language_is_the_customers_or_the_english_bridge(
    customer: str, served: list[str], expected: str
) -> None:
    assert reply_language(customer, Persona(languages=served)) == expected


def test_singlish_is_answered_in_sinhala_script_when_the_owner_says_so() -> None:
    persona = Persona(languages=["si", "singlish"], singlish_replies="sinhala")
    assert reply_language("singlish", persona) == "si"


@pytest.mark.parametrize(
    ("text", "language", "readable"),
    [
        ("ආයුබෝවන්! Welcome to Mihiri.", "ta", False),
        ("ආයුබෝවන්! Welcome to Mihiri.", "en", True),
        ("வணக்கம்!", "si", False),
        ("வணக்கம்!", "singlish", False),
        ("வணக்கம்!", "en", False),
        ("Welcome! 🍰", "ta", True),
        ("ආයුබෝවන්!", "singlish", True),
    ],
)
def test_what_each_reader_can_read(text: str, language: str, readable: bool) -> None:
    assert readable_by(text, language) is readable


def test_a_sinhala_greeting_of_the_owner_is_not_sent_to_a_tamil_reader() -> None:
    persona = Persona(name="Nila", greeting="ආයුබෝවන්! මිහිරි බේකරියට සාදරයෙන් පිළිගනිමු.")
    assert greeting("si", persona, "Mihiri") == persona.greeting
    tamil = greeting("ta", persona, "Mihiri")
    assert TAMIL.search(tamil)
    assert not SINHALA.search(tamil)


@pytest.fixture
def sinhala_shop(make_agent: AgentFactory) -> TestClient:
    """The bakery serving Sinhala and English only, with a Sinhala greeting of its own."""
    spec = bakery_spec(
        persona={"name": "Nila", "languages": ["si", "en"], "greeting": "ආයුබෝවන්! මම නිලා."}
    )
    return TestClient(create_app(make_agent(spec=spec)))


def test_a_tamil_customer_of_a_sinhala_and_english_shop_is_answered_in_english(
    sinhala_shop: TestClient,
) -> None:
    with sinhala_shop as client:
        hello = ask(client, "வணக்கம்")
        assert hello["language"] == "en"
        assert not SINHALA.search(hello["text"])
        assert "Nila" in hello["text"]
        asked = ask(client, "கடை எத்தனை மணிக்கு திறக்கும்?", number=2)
        handed = ask(client, "உங்களிடம் வேலை வாய்ப்புகள் உள்ளதா?", number=3)
        person = ask(client, "மேலாளருடன் பேச வேண்டும்", number=4)
    for reply in (asked, handed, person):
        assert reply["language"] == "en", reply
        assert not SINHALA.search(reply["text"] or ""), reply["text"]
    assert handed["handoff"]
    assert person["handoff"]
    assert "person" in person["text"]


def test_media_without_words_is_answered_in_a_language_the_customer_reads(
    sinhala_shop: TestClient,
) -> None:
    from .conftest import message

    with sinhala_shop as client:
        body = message(
            None, previous="ta", type="image", media={"id": "m1", "mime_type": "image/jpeg"}
        )
        reply = client.post("/v1/messages", json=body).json()
    assert reply["language"] == "en"
    assert not SINHALA.search(reply["text"])
    assert not TAMIL.search(reply["text"])


def test_every_canned_sentence_exists_in_all_four_languages() -> None:
    """Greetings, thanks, handoffs, "I'm not sure", the web and the media reply: none falls
    back to English for a customer who wrote Sinhala, Singlish or Tamil."""
    from agent_runtime.phrases import _PHRASES, REPLY_LANGUAGES
    from katha.replies import text_only
    from router.canned import handoff_ended, slow_down

    notes = {"in_english", "in_sinhala"}  # said only where the details are in another language
    for key, table in _PHRASES.items():
        if key not in notes:
            assert set(REPLY_LANGUAGES) <= set(table), key
            assert all(table[language] for language in REPLY_LANGUAGES), key
    for say in (text_only, slow_down, lambda language: handoff_ended(language, "Nila")):
        said = {language: say(language) for language in REPLY_LANGUAGES}
        assert len(set(said.values())) == len(REPLY_LANGUAGES), said
        assert not SINHALA.search(said["ta"])
        assert not TAMIL.search(said["si"] + said["singlish"])


def test_a_tamil_reader_answered_in_english_never_gets_the_owners_sinhala_greeting() -> None:
    persona = Persona(name="Nila", languages=["si", "en"], greeting="Ayubowan! ආයුබෝවන්!")
    assert greeting("en", persona, "Mihiri") == persona.greeting  # an English customer
    bridged = greeting("en", persona, "Mihiri", customer="ta")
    assert not SINHALA.search(bridged)
    assert "Nila" in bridged
