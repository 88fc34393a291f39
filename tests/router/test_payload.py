"""Every webhook shape Meta documents is parsed: all entries and changes, every message
type, statuses with errors, username-only senders, the owner's echoes with their words, the
numbers and accounts metadata names; unknown shapes are kept, never fatal."""

import json
from pathlib import Path
from typing import Any

import pytest
from peers.whatsapp_webhooks import echo, echoes, message, notification, text

from katha.contracts.messages import MessageType
from router.payload import parse_notification

NUMBER = "105954558954427"
WABA = "102290129340398"  # the account the webhook builders name


@pytest.mark.parametrize("name", ["incoming", "sent", "delivered", "read"])
def test_every_shared_webhook_body_parses(shared_data: Path, name: str) -> None:
    payload = json.loads((shared_data / "whatsapp" / f"{name}.json").read_text())
    found = parse_notification(payload)
    assert found.unknown == []
    if name == "incoming":
        (only,) = found.messages
        assert only.message.type is MessageType.TEXT
        assert only.message.text == "this is a text message"
        assert only.phone_number_id == "123456123"
        assert only.sender.wa_id == "16315551181"
        assert only.sender.user_id == "US.13491208655302741918"
        assert only.sender.username == "@testusername"
        assert only.sender.name == "test user name"
        assert (
            "from_parent_user_id" not in only.message.whatsapp_fields
        )  # another id of the person stays here
    else:
        (status,) = found.statuses
        assert status.status == name
        assert status.message_id == "ABGGFlA5Fpa"


# (type on the wire, its object as Meta documents it, what the router makes of it)
CASES: list[tuple[str, dict[str, Any], MessageType]] = [
    ("text", {"body": "kohomada"}, MessageType.TEXT),
    (
        "image",
        {"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "abc", "caption": "menu?"},
        MessageType.IMAGE,
    ),
    (
        "audio",
        {"id": "1003383421387256", "mime_type": "audio/ogg; codecs=opus", "voice": True},
        MessageType.AUDIO,
    ),
    ("voice", {"id": "1003383421387257", "mime_type": "audio/ogg; codecs=opus"}, MessageType.AUDIO),
    ("video", {"id": "1200000000000001", "mime_type": "video/mp4"}, MessageType.VIDEO),
    (
        "document",
        {"id": "1200000000000002", "mime_type": "application/pdf", "filename": "order.pdf"},
        MessageType.DOCUMENT,
    ),
    (
        "sticker",
        {"id": "1200000000000003", "mime_type": "image/webp", "animated": False},
        MessageType.STICKER,
    ),
    (
        "location",
        {"latitude": 6.9271, "longitude": 79.8612, "name": "Colombo Fort", "address": "Colombo 01"},
        MessageType.LOCATION,
    ),
    (
        "contacts",
        [{"name": {"formatted_name": "Kamal"}, "phones": [{"phone": "+94770000000"}]}],
        MessageType.CONTACTS,
    ),
    (
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}},
        MessageType.INTERACTIVE,
    ),
    (
        "interactive",
        {
            "type": "list_reply",
            "list_reply": {"id": "rice", "title": "Rice & curry", "description": "Lunch"},
        },
        MessageType.INTERACTIVE,
    ),
    ("button", {"payload": "STOP", "text": "Stop promotions"}, MessageType.BUTTON),
    ("reaction", {"message_id": "wamid.ORIGINAL", "emoji": "👍"}, MessageType.REACTION),
    (
        "order",
        {
            "catalog_id": "123",
            "text": "for pickup",
            "product_items": [
                {
                    "product_retailer_id": "kottu",
                    "quantity": 2,
                    "item_price": 1200,
                    "currency": "LKR",
                }
            ],
        },
        MessageType.ORDER,
    ),
    ("unsupported", {}, MessageType.UNSUPPORTED),
    ("poll_vote", {"option": "A"}, MessageType.UNKNOWN),
]


@pytest.mark.parametrize(("kind", "content", "expected"), CASES)
def test_every_message_type_is_parsed(
    kind: str, content: dict[str, Any], expected: MessageType
) -> None:
    sent = message(kind, content)
    if kind == "unsupported":
        sent["errors"] = [{"code": 131051, "title": "Message type unknown"}]
    (parsed,) = parse_notification(notification(NUMBER, [sent])).messages
    assert parsed.message.type is expected
    assert parsed.message.message_id == sent["id"]
    if expected in (
        MessageType.IMAGE,
        MessageType.AUDIO,
        MessageType.VIDEO,
        MessageType.DOCUMENT,
        MessageType.STICKER,
    ):
        assert parsed.message.media is not None
        assert parsed.message.media.id == content["id"]
        assert parsed.message.media.voice == (kind == "voice" or bool(content.get("voice")))
    if expected is MessageType.LOCATION:
        assert parsed.message.location is not None
        assert parsed.message.location.name == "Colombo Fort"
    if expected is MessageType.INTERACTIVE:
        assert parsed.message.choice is not None
        assert parsed.message.choice.id in ("yes", "rice")
    if expected is MessageType.BUTTON:
        assert parsed.message.choice is not None
        assert parsed.message.choice.id == "STOP"
    if expected is MessageType.REACTION:
        assert parsed.message.reaction is not None
        assert parsed.message.reaction.message_id == "wamid.ORIGINAL"
    if expected in (MessageType.CONTACTS, MessageType.ORDER, MessageType.UNKNOWN):
        assert parsed.message.whatsapp_fields[kind] == content  # passed on for the agent
    if kind == "unsupported":
        assert parsed.message.whatsapp_fields["errors"][0]["code"] == 131051


def test_an_unknown_message_type_is_kept_and_reported() -> None:
    found = parse_notification(notification(NUMBER, [message("poll_vote", {"option": "A"})]))
    assert found.messages[0].raw_type == "poll_vote"
    assert found.unknown == ["message type poll_vote"]


def test_every_entry_and_every_change_is_read() -> None:
    first = notification(NUMBER, [message("text", {"body": "one"})])
    second = notification(
        "206065669065538", [message("text", {"body": "two"}), message("text", {"body": "three"})]
    )
    statuses = notification(
        NUMBER, statuses=[{"id": "wamid.X", "status": "read", "timestamp": "1700000000"}]
    )
    payload = first
    payload["entry"][0]["changes"].append(statuses["entry"][0]["changes"][0])
    payload["entry"].append(second["entry"][0])
    found = parse_notification(payload)
    assert [m.message.text for m in found.messages] == ["one", "two", "three"]
    assert [m.phone_number_id for m in found.messages] == [
        NUMBER,
        "206065669065538",
        "206065669065538",
    ]
    assert [s.status for s in found.statuses] == ["read"]


def test_a_username_only_sender_is_identified_by_user_id() -> None:
    sent = {
        "from_user_id": "LK.1502576394655843",
        "id": "wamid.U1",
        "timestamp": "1700000000",
        "type": "text",
        "text": {"body": "hi"},
    }
    payload = notification(NUMBER, [sent])
    payload["entry"][0]["changes"][0]["value"]["contacts"] = [
        {"profile": {"name": "Sachini", "username": "@sachini"}, "user_id": "LK.1502576394655843"}
    ]
    (parsed,) = parse_notification(payload).messages
    assert parsed.sender.wa_id is None
    assert parsed.sender.user_id == "LK.1502576394655843"
    assert parsed.sender.username == "@sachini"
    assert parsed.sender.key == "LK.1502576394655843"


def test_a_failed_status_carries_its_error_codes() -> None:
    failed = {
        "id": "wamid.F",
        "status": "failed",
        "timestamp": "1700000000",
        "recipient_id": "94771234567",
        "errors": [{"code": 131047, "title": "Re-engagement message"}],
    }
    (status,) = parse_notification(notification(NUMBER, statuses=[failed])).statuses
    assert status.status == "failed"
    assert status.error_codes == (131047,)


def test_change_level_errors_are_reported() -> None:
    payload = notification(NUMBER)
    payload["entry"][0]["changes"][0]["value"]["errors"] = [
        {"code": 131000, "title": "Something went wrong"}
    ]
    (error,) = parse_notification(payload).errors
    assert error.code == 131000
    assert error.phone_number_id == NUMBER


def test_replies_keep_their_context() -> None:
    sent = message("text", {"body": "this one"})
    sent["context"] = {"from": "94112345678", "id": "wamid.EARLIER"}
    (parsed,) = parse_notification(notification(NUMBER, [sent])).messages
    assert parsed.message.reply_to == "wamid.EARLIER"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "text",
        {"entry": "x"},
        {"entry": [None, {"changes": [None, {"value": 3}]}]},
        {
            "entry": [
                {
                    "changes": [
                        {"field": "messages", "value": {"metadata": {}, "messages": [{"id": "x"}]}}
                    ]
                }
            ]
        },
        notification(
            NUMBER,
            [
                {
                    "type": "location",
                    "id": "wamid.L",
                    "location": {"latitude": "north", "longitude": 1},
                }
            ],
        ),
        notification(NUMBER, [{"type": "text"}]),
    ],
)
def test_malformed_bodies_are_never_fatal(payload: Any) -> None:
    found = parse_notification(payload)
    assert found.unknown or not found.messages


def test_unknown_fields_are_kept_and_reported() -> None:
    payload = notification(NUMBER, [message("text", {"body": "hi"})])
    payload["entry"][0]["changes"][0]["value"]["shiny_new_field"] = {"a": 1}
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["referral"] = {"source_id": "ad"}
    found = parse_notification(payload)
    assert "value.shiny_new_field" in found.unknown
    assert found.messages[0].message.whatsapp_fields["referral"] == {"source_id": "ad"}


# Owner echoes keep the owner's words ------------------------------------------------------


def test_a_text_echo_keeps_the_owners_words() -> None:
    found = parse_notification(echoes(NUMBER, [echo("Here's the info you requested.")]))
    (kept,) = found.echoes
    assert kept.message.text == "Here's the info you requested."
    assert kept.message.type is MessageType.TEXT
    assert found.numbers == {"94112345678": NUMBER}
    assert found.waba_of == {NUMBER: WABA}


def test_an_echo_that_is_not_text_keeps_no_words() -> None:
    photo = echo("", type="image", image={"id": "1479537139650973", "caption": "menu"})
    del photo["text"]
    (kept,) = parse_notification(echoes(NUMBER, [photo])).echoes
    assert (kept.raw_type, kept.message.text) == ("image", None)


@pytest.mark.parametrize(
    ("words", "reason"),
    [("x" * 65_537, "contract"), ("\ud800", "unencodable_text")],
)
def test_an_echo_whose_words_cannot_travel_is_skipped_and_the_next_kept(
    words: str, reason: str
) -> None:
    found = parse_notification(echoes(NUMBER, [echo(words, id="wamid.BAD"), echo("fine")]))
    assert [(s.reason, s.message_id) for s in found.skipped] == [(reason, "wamid.BAD")]
    assert [e.message.text for e in found.echoes] == ["fine"]


def test_an_echo_with_an_odd_text_keeps_no_words() -> None:
    for body in ({"body": 5}, "text", None, {"body": ""}):
        sent = echo("x")
        sent["text"] = body
        (kept,) = parse_notification(echoes(NUMBER, [sent])).echoes
        assert kept.message.text is None


# Numbers and accounts are learnt from every metadata block --------------------------------


def test_numbers_and_accounts_are_learnt_from_messages_statuses_and_echoes() -> None:
    payload = notification("206065669065538", [text("hi")])
    statuses = notification(
        NUMBER, statuses=[{"id": "wamid.X", "status": "read", "timestamp": "1700000000"}]
    )
    statuses["entry"][0]["id"] = "900000000000001"
    statuses["entry"][0]["changes"][0]["value"]["metadata"]["display_phone_number"] = (
        "+94 11 7654321"
    )
    payload["entry"].append(statuses["entry"][0])
    payload["entry"].append(echoes("306065669065538", [echo("x")])["entry"][0])
    found = parse_notification(payload)
    assert found.numbers == {
        "94112345678": "306065669065538",  # the last block that named it
        "94117654321": NUMBER,
    }
    assert found.waba_of == {
        "206065669065538": WABA,
        NUMBER: "900000000000001",
        "306065669065538": WABA,
    }


def test_odd_metadata_teaches_nothing() -> None:
    for metadata in ({}, {"phone_number_id": 5}, {"display_phone_number": "1555"}, "x"):
        payload = notification(NUMBER, [text("hi")])
        payload["entry"][0]["changes"][0]["value"]["metadata"] = metadata
        del payload["entry"][0]["id"]
        found = parse_notification(payload)
        assert (found.numbers, found.waba_of) == ({}, {})
    payload = notification(NUMBER, [text("hi")])
    payload["entry"][0]["changes"][0]["value"]["metadata"]["display_phone_number"] = "n/a"
    payload["entry"][0]["id"] = "\ud800"
    found = parse_notification(payload)
    assert (found.numbers, found.waba_of) == ({}, {})
    assert len(found.messages) == 1
