"""The agent answers every message type the routes send it (AGENT_READS, which the operator
and `katha up` write into each route): text, a chosen button or list item, and the caption
of a photo, video or document. A photo without a caption, where the Business names no model
that reads photos, goes to a person, and the customer is told so politely (voice notes, which
carry no words of their own, are tested in test_media_voice.py)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent_runtime.phrases import phrase
from katha.api.business import Persona
from katha.contracts.messages import MessageType
from katha.contracts.serving import AGENT_READS

from .bakery import bakery_spec
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


WORDED = [kind for kind in AGENT_READS if kind is not MessageType.AUDIO]


@pytest.mark.parametrize("kind", WORDED, ids=lambda kind: kind.value)
def test_every_type_the_routes_send_is_answered_from_its_words(
    client: TestClient, kind: MessageType
) -> None:
    fields = _fields(kind)
    reply = ask(client, fields.pop("text", None), type=kind.value, **fields)
    assert "6.30 am to 9 pm" in reply["text"]


def test_a_photo_without_a_caption_goes_to_a_person(client: TestClient) -> None:
    photo = {"id": "1479537139650973", "mime_type": "image/jpeg"}
    reply = ask(client, None, type="image", media=photo, previous="si")
    spec = bakery_spec()
    persona = Persona.model_validate(spec["persona"])
    assert reply["text"] == phrase("photo", "si", persona, spec["displayName"])
    assert reply["handoff"]
    assert reply["handoff_reason"] == "photo"
