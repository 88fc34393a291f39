"""Photos and documents from customers. A photo is described by a vision model (a loopback
OpenAI-compatible chat server that checks the image part it gets) into one English line,
folded into the caption and answered from the bakery's knowledge; a PDF or spreadsheet is
read for the question at hand and never joins the business's knowledge. Without a vision
model, or without a question for a document, a person is asked to look."""

import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from peers.vision import VisionServer
from PIL import Image

from agent_runtime.agent import Agent
from agent_runtime.api.app import create_app
from agent_runtime.media.vision import DESCRIBE_PROMPT
from katha.contracts.messages import InboundMessage, Media, MessageType
from katha.lang.script import count_letters

from .bakery import write_pdf
from .conftest import BAKERY

KEY = "sk-vision-test-0001"
MakeAgent = Callable[..., Agent]


@pytest.fixture(scope="module")
def vision() -> Iterator[VisionServer]:
    with VisionServer(api_key=KEY).serve() as server:
        yield server


@pytest.fixture
def seeing(vision: VisionServer) -> VisionServer:
    vision.description = "A round chocolate fudge cake with strawberries on top."
    vision.status = 200
    vision.photos.clear()
    vision.refused.clear()
    return vision


@pytest.fixture(scope="module")
def looking(make: MakeAgent, vision: VisionServer) -> Agent:
    endpoint = {"base_url": f"{vision.base}/v1", "model": vision.model}
    return make(media={"vision_api_key": KEY}, vision=endpoint)


@pytest.fixture(scope="module")
def photo() -> bytes:
    """A real JPEG, as a phone sends one (small: the server only checks it arrives whole)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (92, 51, 23)).save(out, format="JPEG", quality=80)
    return out.getvalue()


def post(agent: Agent, kind: str, media: dict[str, Any], conversation: str, **fields: Any) -> Any:
    message = InboundMessage(
        message_id=f"wamid.{conversation}",
        tenant=BAKERY,
        conversation_id=conversation,
        type=MessageType(kind),
        timestamp=datetime.now(UTC),
        media=Media.model_validate(media),
        **fields,
    )
    response = TestClient(create_app(agent)).post(
        "/v1/messages",
        content=message.model_dump_json(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def attached(data: bytes | None, mime_type: str, **fields: Any) -> dict[str, Any]:
    media: dict[str, Any] = {"id": "2279537139650973", "mime_type": mime_type, **fields}
    if data is not None:
        media |= {"content": data, "size": len(data)}
    return media


def customer_turn(agent: Agent, conversation: str) -> str:
    state = agent.graph.get_state({"configurable": {"thread_id": conversation}})
    text: str = state.values["history"][0].text
    return text


def counted(agent: Agent, name: str, **labels: str) -> float:
    value = agent.metrics.metrics.registry.get_sample_value(f"katha_agent_{name}", labels)
    return value or 0.0


def test_a_photo_is_described_into_the_question_and_answered(
    looking: Agent, seeing: VisionServer, photo: bytes
) -> None:
    media = attached(photo, "image/jpeg", caption="How much is this cake?")
    reply = post(looking, "image", media, "cake")

    assert "4,800" in reply["text"], reply
    assert not reply["handoff"]
    [shown] = seeing.photos
    assert (shown.mime_type, shown.data) == ("image/jpeg", photo)
    assert shown.prompt == DESCRIBE_PROMPT
    folded = "[photo: A round chocolate fudge cake with strawberries on top] How much is this cake?"
    assert customer_turn(looking, "cake") == folded
    assert counted(looking, "media_total", kind="photo", outcome="described") >= 1
    assert counted(looking, "vision_seconds_count") >= 1


def test_a_photo_with_a_sinhala_caption_is_answered_in_sinhala(
    looking: Agent, seeing: VisionServer, photo: bytes
) -> None:
    """The English line about the photo does not turn a Sinhala question into English."""
    media = attached(photo, "image/jpeg", caption="මේ කේක් එක කීයද?")
    reply = post(looking, "image", media, "cake-si")
    assert reply["language"] == "si"
    assert count_letters(reply["text"]).sinhala > 0, reply
    assert customer_turn(looking, "cake-si").endswith("] මේ කේක් එක කීයද?")


def test_a_photo_alone_is_taken_as_the_question_it_shows(
    looking: Agent, seeing: VisionServer, photo: bytes
) -> None:
    """What the photo shows is the question; the graph answers it or hands it over as it
    would any question, never with the "a person will look at your photo" reply."""
    reply = post(looking, "image", attached(photo, "image/jpeg"), "cake-alone")
    assert reply["intent"] == "question"
    assert reply["handoff_reason"] != "photo"
    turn = "[photo: A round chocolate fudge cake with strawberries on top]"
    assert customer_turn(looking, "cake-alone") == turn


def test_without_a_vision_model_a_person_looks_at_the_photo(make: MakeAgent, photo: bytes) -> None:
    agent = make()
    reply = post(agent, "image", attached(photo, "image/jpeg"), "blind", previous_language="ta")

    assert reply["text"].startswith("புகைப்படத்திற்கு நன்றி.")
    assert reply["handoff"]
    assert reply["handoff_reason"] == "photo"
    assert counted(agent, "media_failures_total", kind="photo", reason="no_model") == 1


def test_a_failing_vision_model_leaves_the_caption_answered(
    looking: Agent, seeing: VisionServer, photo: bytes
) -> None:
    seeing.status = 503
    media = attached(photo, "image/jpeg", caption="Do you deliver?")
    reply = post(looking, "image", media, "overloaded")

    assert "250" in reply["text"], reply
    assert counted(looking, "media_failures_total", kind="photo", reason="refused") >= 1
    assert counted(looking, "media_total", kind="photo", outcome="caption") >= 1


def test_a_failing_vision_model_without_a_caption_hands_over(
    looking: Agent, seeing: VisionServer, photo: bytes
) -> None:
    seeing.status = 500
    reply = post(looking, "image", attached(photo, "image/jpeg"), "overloaded-2")
    assert reply["handoff_reason"] == "photo"
    assert reply["text"].startswith("Thank you for the photo.")


def test_a_wrong_key_is_refused_by_the_vision_server(
    make: MakeAgent, seeing: VisionServer, photo: bytes
) -> None:
    endpoint = {"base_url": f"{seeing.base}/v1", "model": seeing.model}
    agent = make(media={"vision_api_key": "sk-not-the-key-0003"}, vision=endpoint)
    reply = post(agent, "image", attached(photo, "image/jpeg"), "wrong-key")
    assert reply["handoff_reason"] == "photo"
    assert seeing.refused == ["Incorrect API key provided"]


@pytest.fixture(scope="module")
def order_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A customer's order list as a PDF with a real text layer."""
    lines: list[str | tuple[str, str]] = [
        "Order for Saturday's party",
        ("Fish buns", "20"),
        ("Ribbon cake, 1 kg", "1"),
        ("Candles", "12"),
    ]
    path = tmp_path_factory.mktemp("order") / "order.pdf"
    write_pdf(path, [lines], title="Party order")
    return path.read_bytes()


def test_a_pdf_is_read_for_the_question_and_never_kept_in_the_knowledge(
    looking: Agent, order_pdf: bytes
) -> None:
    before = looking.knowledge.stats()
    media = attached(
        order_pdf, "application/pdf", filename="order.pdf", caption="How much is the ribbon cake?"
    )
    reply = post(looking, "document", media, "order")

    assert "2,900" in reply["text"], reply
    turn = customer_turn(looking, "order")
    assert turn.startswith("[document: ")
    assert "Ribbon cake" in turn
    assert turn.endswith("] How much is the ribbon cake?")
    assert looking.knowledge.stats() == before
    assert not looking.knowledge.location.documents().path.exists()  # nor as an upload
    assert counted(looking, "media_total", kind="document", outcome="read") >= 1


def test_a_spreadsheet_is_read_for_the_question(looking: Agent) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Item", "Quantity"])
    sheet.append(["Milk tea", 30])
    sheet.append(["Egg roll", 30])
    data = io.BytesIO()
    book.save(data)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    media = attached(data.getvalue(), xlsx, filename="list.xlsx", caption="price of egg roll?")
    reply = post(looking, "document", media, "sheet")
    assert "150" in reply["text"], reply
    assert "Egg roll" in customer_turn(looking, "sheet")


def test_a_document_without_a_question_goes_to_a_person(looking: Agent, order_pdf: bytes) -> None:
    media = attached(order_pdf, "application/pdf", filename="order.pdf")
    reply = post(looking, "document", media, "order-alone", previous_language="si")
    assert reply["text"].startswith("ලේඛනයට ස්තූතියි.")
    assert reply["handoff_reason"] == "document"


def test_a_document_that_is_not_what_it_says_leaves_the_caption_answered(looking: Agent) -> None:
    media = attached(b"MZ\x90\x00 not a pdf", "application/pdf", caption="Do you deliver?")
    reply = post(looking, "document", media, "fake-pdf")
    assert "250" in reply["text"], reply
    assert counted(looking, "media_failures_total", kind="document", reason="unreadable") >= 1


def test_a_tamil_question_about_a_sinhala_document_is_answered_in_tamil(looking: Agent) -> None:
    """The reply's language is the caption's: the document's Sinhala lines folded in front
    of a Tamil question made the whole 'mixed', and a Tamil customer got Sinhala script."""
    data = "භාණ්ඩය,මිල\nකේක් 1kg,රු. 4500\nපාන් ගෙඩිය,රු. 220\n".encode()
    media = attached(data, "text/csv", filename="මිල.csv", caption="இது எவ்வளவு?")
    reply = post(looking, "document", media, "doc-ta", previous_language="ta")

    assert reply["language"] == "ta", reply
    assert count_letters(reply["text"]).sinhala == 0, reply
    assert "කේක්" in customer_turn(looking, "doc-ta")  # the lines are still read with it


@pytest.mark.parametrize(("previous", "language"), [("si", "si"), ("ta", "ta"), (None, "en")])
def test_a_photo_alone_is_answered_in_the_conversations_language(
    looking: Agent, seeing: VisionServer, photo: bytes, previous: str | None, language: str
) -> None:
    """The English line about the photo is not the customer's language; without a caption
    the conversation's language is, and English only when there is none."""
    media = attached(photo, "image/jpeg")
    reply = post(looking, "image", media, f"alone-{previous}", previous_language=previous)
    assert reply["language"] == language, reply


def test_a_crafted_workbook_gets_a_reply_not_an_error(looking: Agent) -> None:
    """A workbook whose sheet is broken XML (the parser's own error, no loader's) leaves the
    caption answered: the router never sees a 500 that would trip the shop's breaker."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Item", "Quantity"])
    good = io.BytesIO()
    book.save(good)
    crafted = io.BytesIO()
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            broken = item.filename.endswith("sheet1.xml")
            target.writestr(item, b"<worksheet><sheetData><row>" if broken else source.read(item))
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    media = attached(crafted.getvalue(), xlsx, filename="list.xlsx", caption="Do you deliver?")
    reply = post(looking, "document", media, "crafted")  # post asserts HTTP 200

    assert "250" in reply["text"], reply
    assert counted(looking, "media_failures_total", kind="document", reason="unreadable") >= 1
