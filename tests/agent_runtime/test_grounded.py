"""The built-in responder's choices: which passage, which lines, and in which language."""

from agent_runtime.generation.base import Question
from agent_runtime.generation.grounded import GroundedResponder, compose, excerpt, written_in
from agent_runtime.retrieval import Passage
from katha.api.business import Persona

PERSONA = Persona(name="Nila")
SINGLISH_FAQ = Passage(
    "s",
    "faq",
    "inline:faq",
    "faq 11",
    "delivery karanawada?",
    "singlish",
    "delivery karanawada?\nOw, Kandy town eke km 5k athulata Rs. 250ta delivery karanawa.",
    similarity=0.86,
)
ENGLISH_FAQ = Passage(
    "e",
    "faq",
    "inline:faq",
    "faq 3",
    "Do you deliver?",
    "en",
    "Do you deliver?\nYes, we deliver within 5 km of Kandy town for Rs. 250.",
    similarity=0.85,
)


def ask(text: str, language: str, passages: list[Passage]) -> Question:
    return Question(text, language, passages, "Mihiri Bakery", PERSONA)


def test_a_singlish_faq_answer_is_singlish_and_needs_no_note() -> None:
    responder = GroundedResponder()
    draft = responder.answer(ask("delivery karanawada?", "singlish", [SINGLISH_FAQ]))
    assert draft is not None
    assert draft.language == "singlish"
    assert responder.translate(draft, "singlish", PERSONA).text == (
        "Ow, Kandy town eke km 5k athulata Rs. 250ta delivery karanawa."
    )


def test_an_english_customer_gets_the_english_twin_of_a_singlish_faq() -> None:
    passage, lines = compose([SINGLISH_FAQ, ENGLISH_FAQ], "Do you deliver?", "en")
    assert passage is ENGLISH_FAQ
    assert lines == ["Yes, we deliver within 5 km of Kandy town for Rs. 250."]


def test_latin_text_is_in_the_language_its_chunk_was_indexed_in() -> None:
    singlish = "Ow, oralosu kanuwe sita km 6k athulata delivery karanawa."
    assert written_in(singlish, "singlish") == "singlish"
    assert written_in("Kimbula bun: Price (Rs.) 90", "si") == "en"  # a row's Latin cells
    assert written_in("ඔව්, ඩිලිවරි කරනවා.", "singlish") == "si"


def test_a_section_heading_is_never_the_whole_excerpt() -> None:
    section = Passage(
        "f",
        "website",
        "http://127.0.0.1/rooms.html",
        "http://127.0.0.1/rooms.html#Family Room",
        "Rooms and rates",
        "en",
        "Family Room\nA large room for up to four people, Rs. 26,000 per night.",
    )
    lines = excerpt(section, "What is the rate for the Family Room?")
    assert lines == ["Family Room", "A large room for up to four people, Rs. 26,000 per night."]


def test_a_heading_the_question_did_not_name_is_left_out() -> None:
    section = Passage(
        "c",
        "website",
        "http://127.0.0.1/getting-there.html",
        "http://127.0.0.1/getting-there.html#By car",
        "Getting here",
        "en",
        "By car\nLeave the expressway at Pinnaduwa.\nWe have free parking for two cars.",
    )
    assert excerpt(section, "Is there parking?") == ["We have free parking for two cars."]
