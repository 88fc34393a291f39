"""Opening hours from spec.hours, through the real agent graph over the indexed bakery: open
or closed at a given clock, the next opening, closed days, Poya days and public holidays
(a provisional date said to be expected, none guessed past the calendar) and the owner's
note, in English, Singlish, Sinhala and Tamil, times written the Sri Lankan way; the LLM
gets them as a fact; without spec.hours nothing changes (the knowledge answers, as
before)."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from peers.openai_compatible import ChatServer

from agent_runtime.api.app import create_app
from agent_runtime.hours import asked_day, asks_about_hours

from .bakery import bakery_spec
from .conftest import AgentFactory, ask

COLOMBO = ZoneInfo("Asia/Colombo")
SINHALA = re.compile("[\u0d80-\u0dff]")
TAMIL = re.compile("[\u0b80-\u0bff]")
# Monday to Saturday with a lunch break, a short Sunday; closed on Tuesday 10 March.
HOURS: dict[str, Any] = {
    "weekly": {
        **{
            day: [{"open": "09:00", "close": "13:00"}, {"open": "15:00", "close": "21:00"}]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
        },
        "sunday": [{"open": "09:00", "close": "12:00"}],
    },
    "closedDays": ["2026-03-10"],
    "note": "Closed on Poya days",
}


# The same week, with a morning on Poya days and public holidays closed.
HOLIDAY_HOURS: dict[str, Any] = {
    "weekly": HOURS["weekly"],
    "holidays": [
        {"rule": "public-holidays"},
        {"rule": "poya", "hours": [{"open": "06:30", "close": "12:00"}]},
    ],
}
NIGHT = "\u0dbb\u0dcf\u0dad\u0dca\u200d\u0dbb\u0dd3"  # රාත්‍රී, with its joiner


def colombo(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2026) -> datetime:
    """March `day` 2026 (or another month) at a Colombo wall-clock time (March 2nd 2026 is
    a Monday)."""
    return datetime(year, month, day, hour, minute, tzinfo=COLOMBO).astimezone(UTC)


@contextmanager
def bakery_at(
    make_agent: AgentFactory, at: datetime, hours: dict[str, Any] | None = HOURS, **args: Any
) -> Iterator[TestClient]:
    spec = bakery_spec(hours=hours) if hours is not None else bakery_spec()
    with TestClient(create_app(make_agent(spec=spec, clock=lambda: at, **args))) as client:
        yield client


def test_open_now_says_until_when_and_todays_hours(make_agent: AgentFactory) -> None:
    with bakery_at(make_agent, colombo(2, 10, 30)) as client:
        reply = ask(client, "Are you open now?")
    assert reply["text"] == (
        "Yes, we're open now, until 1 pm. Today: open 9 am to 1 pm, 3 pm to 9 pm. "
        "Closed on Poya days"
    )
    assert (reply["intent"], reply["language"], reply["handoff"]) == ("hours", "en", False)
    assert reply["sources"] == [
        {"title": "Opening hours", "uri": "spec:hours", "locator": "spec.hours"}
    ]


def test_closed_now_says_when_it_opens_next(make_agent: AgentFactory) -> None:
    with bakery_at(make_agent, colombo(2, 14, 0)) as client:
        lunch = ask(client, "What time do you close today?")["text"]
    assert lunch.startswith("We're closed now. We open today at 3 pm. Today: open")
    with bakery_at(make_agent, colombo(2, 22, 15)) as client:
        night = ask(client, "are you open now?")["text"]
    assert night.startswith("We're closed now. We open tomorrow at 9 am.")
    with bakery_at(make_agent, colombo(9, 21, 30)) as client:  # Tuesday 10th is closed
        before_holiday = ask(client, "are you open now?")["text"]
    assert before_holiday.startswith("We're closed now. We open on Wednesday at 9 am.")


def test_a_named_day_and_a_closed_day(make_agent: AgentFactory) -> None:
    with bakery_at(make_agent, colombo(4, 11)) as client:  # a Wednesday
        sunday = ask(client, "Are you open on Sunday?")["text"]
    assert sunday == "Sunday: open 9 am to 12 noon. Closed on Poya days"
    with bakery_at(make_agent, colombo(9, 11)) as client:
        tomorrow = ask(client, "Are you open tomorrow?")["text"]
    assert tomorrow == "Tomorrow (10 March 2026): closed. Closed on Poya days"
    with bakery_at(make_agent, colombo(10, 11)) as client:
        today = ask(client, "open today?")["text"]
    assert today.startswith("We're closed now. We open tomorrow at 9 am. Today (10 March 2026)")


def test_sinhala_singlish_and_tamil_customers_get_their_own_language(
    make_agent: AgentFactory,
) -> None:
    with bakery_at(make_agent, colombo(2, 10, 30)) as client:
        sinhala = ask(client, "ඔයාලා දැන් විවෘතද?", conversation="si")
        singlish = ask(client, "oyala dan open da?", conversation="singlish")
        tamil = ask(client, "நீங்கள் இப்போது திறந்திருக்கிறீர்களா?", conversation="ta")
        sunday = ask(client, "irida kiyatada arinne?", conversation="irida")
    assert (sinhala["language"], sinhala["intent"]) == ("si", "hours")
    assert sinhala["text"].startswith("ඔව්, අපි දැන් විවෘතයි, දහවල් 1 දක්වා. අද විවෘත වේලාව")
    assert singlish["language"] == "singlish"
    assert singlish["text"].startswith("Ow, api dan open, 1 pm wenakan. Ada open welawa")
    assert tamil["language"] == "ta"
    assert tamil["text"].startswith("ஆம், நாங்கள் இப்போது திறந்திருக்கிறோம், மதியம் 1 வரை.")
    assert not SINHALA.search(tamil["text"])
    assert sunday["text"].startswith("Irida open welawa: 9 am idan 12 noon wenakan.")


def test_a_note_in_sinhala_script_never_reaches_a_tamil_speaker(
    make_agent: AgentFactory,
) -> None:
    hours = HOURS | {"note": "පෝය දිනවල වසා ඇත"}
    with bakery_at(make_agent, colombo(2, 22), hours) as client:
        tamil = ask(client, "நாளை திறப்பீர்களா?", conversation="ta")
        sinhala = ask(client, "හෙට විවෘතද?", conversation="si")
    assert tamil["text"] == (
        "நாளை திறந்திருக்கும் நேரம்: காலை 9 முதல் மதியம் 1 வரை, மாலை 3 முதல் இரவு 9 வரை."
    )
    assert TAMIL.search(tamil["text"])
    assert not SINHALA.search(tamil["text"])
    assert sinhala["text"] == (
        f"හෙට විවෘත වේලාව: උදේ 9 සිට දහවල් 1 දක්වා, සවස 3 සිට {NIGHT} 9 දක්වා. පෝය දිනවල වසා ඇත"
    )


def test_a_tamil_speaker_never_gets_sinhala_script(make_agent: AgentFactory) -> None:
    hours = HOURS | {"note": "පෝය දිනවල වසා ඇත"}
    questions = ["இப்போது திறந்திருக்கிறீர்களா?", "இன்று எப்போது மூடுவீர்கள்?",
                 "ஞாயிறு திறந்திருக்குமா?", "நாளை திறப்பீர்களா?"]  # fmt: skip
    for at in (colombo(2, 10), colombo(2, 14), colombo(8, 23), colombo(9, 21)):
        with bakery_at(make_agent, at, hours) as client:
            for number, question in enumerate(questions):
                reply = ask(client, question, conversation=f"ta-{number}")
                assert (reply["language"], reply["intent"]) == ("ta", "hours"), question
                assert TAMIL.search(reply["text"]), reply["text"]
                assert not SINHALA.search(reply["text"]), reply["text"]


def test_poya_and_holiday_questions_get_the_date_and_its_hours(
    make_agent: AgentFactory,
) -> None:
    asked = {
        "now": "Are you open now?",
        "vesak": "Are you open on Vesak Poya?",
        "singlish": "poya dawase arinawada?",
        "si": "වෙසක් පෝයට ඇරලද?",
        "ta": "போயா தினத்தில் திறந்திருக்குமா?",
        "next": "When is the next poya?",
        "christmas": "Are you open on Christmas?",
    }
    # Monday 23 November 2026, 21:30: closed for the night, and tomorrow is Il Poya.
    with bakery_at(make_agent, colombo(23, 21, 30, month=11), HOLIDAY_HOURS) as client:
        said = {key: ask(client, text, conversation=key) for key, text in asked.items()}
    assert {reply["intent"] for reply in said.values()} == {"hours"}
    assert [said[key]["language"] for key in ("singlish", "si", "ta")] == ["singlish", "si", "ta"]
    assert said["now"]["text"] == (
        "We're closed now. We open tomorrow at 6.30 am. Today: open 9 am to 1 pm, 3 pm to 9 pm."
    )
    assert said["vesak"]["text"] == (
        "Vesak Poya is expected on Thursday 20 May 2027 (not yet gazetted). "
        "We're open 6.30 am to 12 noon that day."
    )
    assert said["singlish"]["text"] == (
        "Il poya thiyenne heta, 2026 November 24 Angaharuwada. "
        "E dawase open welawa: 6.30 am idan 12 noon wenakan."
    )
    assert said["si"]["text"] == (
        "වෙසක් පෝය 2027 මැයි 20 බ්\u200dරහස්පතින්දා යෙදෙනු ඇතැයි අපේක්ෂිතයි (තවම ගැසට් කර "
        "නැත). එදින විවෘත වේලාව: උදේ 6.30 සිට දහවල් 12 දක්වා."
    )
    assert said["ta"]["text"] == (
        "இல் போயா நாளை, 2026 நவம்பர் 24 செவ்வாய்க்கிழமை அன்று. "
        "அன்று திறந்திருக்கும் நேரம்: காலை 6.30 முதல் மதியம் 12 வரை."
    )
    assert not SINHALA.search(said["ta"]["text"])
    assert said["next"]["text"].startswith("Il Poya is tomorrow, Tuesday 24 November 2026.")
    assert said["christmas"]["text"] == (
        "Christmas is on Friday 25 December 2026. We're closed that day."
    )


def test_on_a_holiday_its_hours_and_name_and_past_the_calendar_no_guess(
    make_agent: AgentFactory,
) -> None:
    with bakery_at(make_agent, colombo(23, 13, month=12), HOLIDAY_HOURS) as client:
        poya = ask(client, "Are you open now?")["text"]
        sinhala = ask(client, "දැන් විවෘතද?", conversation="si")["text"]
    assert poya == (
        "We're closed now. We open tomorrow at 9 am. "
        "Today (Unduvap Poya, 23 December 2026): open 6.30 am to 12 noon."
    )
    assert sinhala.startswith("අපි දැන් වසා ඇත. හෙට උදේ 9ට විවෘත කරනවා. අද (උඳුවප් පෝය, ")
    with bakery_at(make_agent, colombo(20, 10, month=12, year=2027), HOLIDAY_HOURS) as client:
        vesak = ask(client, "Are you open on Vesak?")["text"]
        tomorrow = ask(client, "ilanga poya kawadada?", conversation="singlish")["text"]
    assert vesak == (
        "We don't know the date of the next Vesak Poya yet. "
        "On Vesak Poya we're open 6.30 am to 12 noon."
    )
    assert tomorrow.startswith("Ilanga poya dawasa api thama danne na.")


def test_without_hours_the_knowledge_answers_as_before(make_agent: AgentFactory) -> None:
    with bakery_at(make_agent, colombo(2, 22), hours=None) as client:
        reply = ask(client, "Are you open now?")
    assert reply["intent"] == "question"
    assert reply["text"].startswith("We are open every day from 6.30 am to 9 pm")


def test_the_llm_gets_the_hours_as_a_fact(
    make_agent: AgentFactory, chat_server: ChatServer
) -> None:
    chat_server.reply = lambda request: "Yes, we bake wedding cakes."
    llm = {"base_url": f"{chat_server.base}/v1", "model": "sinhala-llm"}
    with bakery_at(make_agent, colombo(2, 14), llm=llm) as client:
        ask(client, "Do you make wedding cakes?")
    system = chat_server.requests[-1]["messages"][0]["content"]
    assert "[hours] Opening hours: Monday 09:00-13:00, 15:00-21:00;" in system
    assert "Sunday 09:00-12:00. Closed all day on 2026-03-10. Note: Closed on Poya days" in system
    assert "It is Monday 2026-03-02 14:00 at the business now. We're closed now." in system
    with bakery_at(make_agent, colombo(23, 14, month=11), HOLIDAY_HOURS, llm=llm) as client:
        ask(client, "Do you make wedding cakes?")
    system = chat_server.requests[-1]["messages"][0]["content"]
    assert "public-holidays: closed; poya: 06:30-12:00." in system
    assert (
        "Coming holidays that change the hours: Il Poya Tuesday 2026-11-24: 06:30-12:00; "
        "Unduvap Poya Wednesday 2026-12-23: 06:30-12:00; Christmas Friday 2026-12-25: closed; "
        "Thai Pongal Friday 2027-01-15 (expected, not yet gazetted): closed;"
    ) in system


def test_what_counts_as_an_hours_question() -> None:
    asked = ["What time do you close?", "kiyatada wahanne?", "කීයටද වහන්නේ?", "எப்போது திறக்கும்?"]
    assert all(asks_about_hours(text) for text in asked)
    assert not any(asks_about_hours(t) for t in ["How much is a cake?", "cake ekak kiyada?"])
    wednesday = datetime(2026, 3, 4).date()
    assert asked_day("open on sunday?", wednesday) == datetime(2026, 3, 8).date()
    assert asked_day("බ්‍රහස්පතින්දා විවෘතද?", wednesday) == datetime(2026, 3, 5).date()
    assert asked_day("heta open da?", wednesday) == datetime(2026, 3, 5).date()
    assert asked_day("open now?", wednesday) is None
