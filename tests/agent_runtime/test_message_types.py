"""The agent answers every message type the routes send it (AGENT_READS, which the operator
and `katha up` write into each route): text, a chosen button or list item, and the caption
of a photo, video or document. A photo without a caption is asked, politely, to type."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from katha.contracts.messages import MessageType
from katha.contracts.serving import AGENT_READS
from katha.replies import text_only

from .conftest import ask

QUESTION = "What are your opening hours?"
MEDIA = {
    MessageType.IMAGE: "image/jpeg",
    MessageType.VIDEO: "video/mp4",
    MessageType.DOCUMENT: "application/pdf",
}


def _fields(kind: MessageType) -> dict[str, Any]:
    if kind in MEDIA:
        return {"media": {"id": "1479537139650973", "mime_type": MEDIA[kind], "caption": QUESTION}}
    if kind is MessageType.TEXT:
        return {"text": QUESTION}
    return {"choice": {"id": "hours", "title": QUESTION}}


@pytest.mark.parametrize("kind", AGENT_READS, ids=lambda kind: kind.value)
def test_every_type_the_routes_send_is_answered_from_its_words(
    client: TestClient, kind: MessageType
) -> None:
    fields = _fields(kind)
    reply = ask(client, fields.pop("text", None), type=kind.value, **fields)
    assert "6.30 am to 9 pm" in reply["text"]


def test_a_photo_without_a_caption_is_asked_to_type(client: TestClient) -> None:
    photo = {"id": "1479537139650973", "mime_type": "image/jpeg"}
    reply = ask(client, None, type="image", media=photo, previous="si")
    assert reply["text"] == text_only("si")
