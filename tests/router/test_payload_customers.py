"""Who a customer is and what they chose, as webhooks say it: username-only customers (a
user id, no phone), marketing opt-outs (`user_preferences`), and a customer who changes
number or user id (a system message that moves their conversation and is never answered).
Shapes as Meta documents them, its own examples verbatim; nothing unusual raises."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from peers.whatsapp_webhooks import notification, text

from katha.contracts.messages import MessageType
from router.notification import Sender
from router.payload import parse_notification

WABA = "102290129340398"
NUMBER = "106540352242922"


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# Username-only customers ------------------------------------------------------------------


# Meta's 2026 example: a customer with a username shares no phone.
USERNAME_ONLY = (
    '{ "object": "whatsapp_business_account", "entry": [ { "id": "102290129340398", '
    '"changes": [ { "value": { "messaging_product": "whatsapp", "metadata": { '
    '"display_phone_number": "15550783881", "phone_number_id": "106540352242922" }, '
    '"contacts": [ { "profile": { "name": "Sheena Nelson", "username": '
    '"@realsheenanelson" }, "user_id": "US.13491208655302741918", "parent_user_id": '
    '"US.ENT.11815799212886844830" } ], "messages": [ { "from_user_id": '
    '"US.13491208655302741918", "from_parent_user_id": "US.ENT.11815799212886844830", '
    '"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", '
    '"timestamp": "1749416383", "type": "text", "text": { "body": '
    '"Does it come in another color?" } } ] }, "field": "messages" } ] } ] }'
)


def test_metas_username_only_message_is_read_by_its_user_id() -> None:
    found = parse_notification(json.loads(USERNAME_ONLY))
    (only,) = found.messages
    assert only.sender == Sender(
        user_id="US.13491208655302741918", username="@realsheenanelson", name="Sheena Nelson"
    )
    assert only.sender.key == "US.13491208655302741918"
    assert only.message.text == "Does it come in another color?"
    assert "from_parent_user_id" not in only.message.whatsapp_fields
    assert (found.unknown, found.skipped) == ([], [])


def test_an_empty_from_is_no_phone_number() -> None:
    """The December 2025 shape: the phone is "" rather than left out."""
    sent = text("hello", sender="", from_user_id="LK.1502576394655843")
    payload = notification(NUMBER, [sent])
    payload["entry"][0]["changes"][0]["value"]["contacts"] = [
        {"profile": {"name": "Sachini", "username": "@sachini"}, "wa_id": "",
         "user_id": "LK.1502576394655843"}
    ]  # fmt: skip
    (only,) = parse_notification(payload).messages
    assert only.sender.wa_id is None
    assert only.sender.user_id == "LK.1502576394655843"
    assert only.sender.username == "@sachini"
    assert only.message.sender_name == "Sachini"


# user_preferences --------------------------------------------------------------------------

META_PREFERENCE = (
    '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":'
    '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",'
    '"phone_number_id":"106540352242922"},"contacts":[{"wa_id":"16505551234"}],'
    '"user_preferences":[{"wa_id":"16505551234","detail":"User requested to resume marketing '
    'messages","category":"marketing_messages","value":"resume","timestamp":1731705721}]},'
    '"field":"user_preferences"}]}]}'
)


def _preferences(items: list[Any], contacts: Any = None, metadata: Any = None) -> Any:
    value = {
        "messaging_product": "whatsapp",
        "metadata": metadata
        if metadata is not None
        else {"display_phone_number": "15550783881", "phone_number_id": NUMBER},
        "contacts": contacts if contacts is not None else [],
        "user_preferences": items,
    }
    return {"entry": [{"id": WABA, "changes": [{"field": "user_preferences", "value": value}]}]}


def test_metas_user_preferences_example_is_read() -> None:
    found = parse_notification(json.loads(META_PREFERENCE))
    (preference,) = found.preferences
    assert preference.phone_number_id == NUMBER
    assert preference.customer == Sender(wa_id="16505551234")
    assert preference.stopped is False
    assert preference.at == _at(1731705721)
    assert found.numbers == {"15550783881": NUMBER}
    assert found.waba_of == {NUMBER: WABA}
    assert (found.unknown, found.skipped, found.messages) == ([], [], [])


def test_a_username_only_customer_who_stops_marketing_is_named_by_user_id() -> None:
    item = {
        "user_id": "US.13491208655302741918",
        "detail": "User requested to stop marketing messages",
        "category": "marketing_messages",
        "value": "stop",
        "timestamp": 1731705800,
    }
    contacts = [
        {
            "profile": {"name": "Pablo M.", "username": "@pablomorales"},
            "user_id": "US.13491208655302741918",
        }
    ]
    (preference,) = parse_notification(_preferences([item], contacts)).preferences
    assert preference.stopped is True
    assert preference.customer == Sender(
        user_id="US.13491208655302741918", username="@pablomorales", name="Pablo M."
    )


def test_a_preference_without_its_own_time_takes_the_entrys() -> None:
    payload = _preferences([{"wa_id": "16505551234", "value": "stop"}])
    payload["entry"][0]["time"] = 1731705900
    (preference,) = parse_notification(payload).preferences
    assert preference.at == _at(1731705900)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"wa_id": "16505551234", "value": "maybe"}, "unknown_preference"),
        ({"wa_id": "16505551234", "value": ["stop"]}, "unknown_preference"),
        ({"wa_id": "16505551234", "value": {"stop": 1}}, "unknown_preference"),
        ({"wa_id": "16505551234"}, "unknown_preference"),
        ({"wa_id": "16505551234", "value": "stop", "category": "offers"}, "unknown_preference"),
        ({"value": "stop"}, "malformed"),
        ({"wa_id": 16505551234, "value": "stop"}, "malformed"),
        ({"wa_id": "16505551234", "value": "stop", "detail": "\ud800"}, "unencodable_text"),
        ({"wa_id": "16505551234", "value": "stop", "timestamp": float("nan")}, "non_finite_number"),
        ("stop", "malformed"),
        (None, "malformed"),
    ],
)
def test_a_preference_that_cannot_be_read_is_skipped_and_the_next_read(
    item: Any, reason: str
) -> None:
    good = {"wa_id": "16505559999", "value": "stop", "timestamp": 1731705721}
    found = parse_notification(_preferences([item, good]))
    (skipped,) = found.skipped
    assert (skipped.kind, skipped.reason, skipped.phone_number_id) == (
        "user_preferences",
        reason,
        NUMBER,
    )
    assert [p.customer.wa_id for p in found.preferences] == ["16505559999"]


def test_a_preference_whose_contact_name_cannot_be_written_is_skipped() -> None:
    contacts = [{"profile": {"name": "\udc80"}, "wa_id": "16505551234"}]
    found = parse_notification(_preferences([{"wa_id": "16505551234", "value": "stop"}], contacts))
    assert found.preferences == []
    assert [s.reason for s in found.skipped] == ["unencodable_text"]


def test_preferences_for_no_number_are_skipped() -> None:
    found = parse_notification(
        _preferences([{"wa_id": "16505551234", "value": "stop"}], metadata={"x": 1})
    )
    assert found.preferences == []
    assert [(s.reason, s.phone_number_id) for s in found.skipped] == [("malformed", None)]
    assert found.numbers == {}


def test_odd_preference_lists_are_read_as_empty() -> None:
    for items in ("stop", {"value": "stop"}, None, 5):
        found = parse_notification(_preferences(items))  # type: ignore[arg-type]
        assert (found.preferences, found.skipped) == ([], [])


# A customer's number or user id changed ---------------------------------------------------


def _system(system: dict[str, Any], **sent: Any) -> dict[str, Any]:
    """A system message as Meta sends it: no contacts array."""
    message = {"id": "wamid.SYS1", "timestamp": "1754900000", "type": "system", "system": system}
    message.update(sent)
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": NUMBER,
                            },
                            "messages": [message],
                        },
                    }
                ],
            }
        ],
    }


def test_a_new_user_id_moves_the_customer_and_is_not_a_message() -> None:
    payload = _system(
        {
            "body": "User Sheena changed from US.111 to US.222",
            "user_id": "US.222",
            "previous_user_id": "US.111",
            "parent_user_id": "US.ENT.9",
            "previous_parent_user_id": "US.ENT.8",
            "type": "user_changed_user_id",
        },
        from_user_id="US.222",
    )
    found = parse_notification(payload)
    (change,) = found.identity_changes
    assert change.phone_number_id == NUMBER
    assert change.previous == Sender(user_id="US.111")
    assert change.current == Sender(user_id="US.222")
    assert change.message_id == "wamid.SYS1"
    assert change.at == _at(1754900000)
    assert (found.messages, found.skipped, found.unknown) == ([], [], [])


def test_without_previous_user_id_the_old_id_is_read_from_the_body() -> None:
    payload = _system(
        {
            "body": "User Sheena changed from US.13491208655302741918 to US.99.",
            "user_id": "US.99",
            "type": "user_changed_user_id",
        },
        from_user_id="US.99",
    )
    (change,) = parse_notification(payload).identity_changes
    assert change.previous == Sender(user_id="US.13491208655302741918")
    assert change.current == Sender(user_id="US.99")


def test_a_sender_id_other_than_the_new_one_is_the_old_one() -> None:
    payload = _system(
        {"body": "User Sheena changed", "user_id": "US.222", "type": "user_changed_user_id"},
        from_user_id="US.111",
    )
    (change,) = parse_notification(payload).identity_changes
    assert change.previous == Sender(user_id="US.111")


def test_a_new_phone_number_moves_the_customer_with_both_ids() -> None:
    payload = _system(
        {
            "body": "User Nimal changed from 94771234567 to 94779876543",
            "wa_id": "94779876543",
            "user_id": "LK.222",
            "previous_user_id": "LK.111",
            "type": "user_changed_number",
        },
        **{"from": "94771234567", "from_user_id": "LK.111"},
    )
    found = parse_notification(payload)
    (change,) = found.identity_changes
    assert change.previous == Sender(wa_id="94771234567", user_id="LK.111")
    assert change.current == Sender(wa_id="94779876543", user_id="LK.222")
    assert found.messages == []


def test_a_new_phone_number_before_user_ids_is_read() -> None:
    """The shape before August 2026: no previous_user_id, one sender id for both."""
    payload = _system(
        {
            "body": "User Nimal changed from 94771234567 to 94779876543",
            "wa_id": "94779876543",
            "user_id": "LK.111",
            "type": "user_changed_number",
        },
        **{"from": "94771234567", "from_user_id": "LK.111"},
    )
    (change,) = parse_notification(payload).identity_changes
    assert change.previous == Sender(wa_id="94771234567")
    assert change.current == Sender(wa_id="94779876543", user_id="LK.111")


def test_the_legacy_changed_number_message_is_read() -> None:
    payload = _system(
        {
            "body": "NAME changed from 16315551234 to 16315557777",
            "new_wa_id": "16315557777",
            "type": "customer_changed_number",
        },
        **{"from": "16315551234"},
    )
    (change,) = parse_notification(payload).identity_changes
    assert change.previous == Sender(wa_id="16315551234")
    assert change.current == Sender(wa_id="16315557777")


def test_a_changed_number_without_a_sender_takes_both_numbers_from_the_body() -> None:
    payload = _system(
        {
            "body": "User Nimal changed from +94771234567 to +94779876543.",
            "type": "user_changed_number",
        }
    )
    (change,) = parse_notification(payload).identity_changes
    assert (change.previous.wa_id, change.current.wa_id) == ("94771234567", "94779876543")


@pytest.mark.parametrize(
    "system",
    [
        {"type": "user_changed_user_id"},
        {"type": "user_changed_user_id", "body": 5, "user_id": ["US.2"]},
        {"type": "user_changed_user_id", "user_id": "US.2"},  # nothing says who they were
        {"type": "user_changed_number", "body": "User changed from a to b"},  # not numbers
        {"type": "user_changed_user_id", "user_id": "US.1", "previous_user_id": "US.1"},
    ],
)
def test_an_identity_change_that_says_too_little_is_skipped_not_answered(
    system: dict[str, Any],
) -> None:
    payload = _system(system)
    payload["entry"][0]["changes"][0]["value"]["messages"].append(text("after"))
    found = parse_notification(payload)
    assert found.identity_changes == []
    assert [(s.reason, s.message_id) for s in found.skipped] == [("malformed", "wamid.SYS1")]
    assert [m.message.text for m in found.messages] == ["after"]


def test_an_identity_change_that_cannot_be_stored_is_skipped() -> None:
    for sent, reason in (
        ({"id": "w" * 300}, "malformed"),
        ({"note": "\ud800"}, "unencodable_text"),
    ):
        payload = _system(
            {"type": "user_changed_user_id", "user_id": "US.2", "previous_user_id": "US.1"}, **sent
        )
        found = parse_notification(payload)
        assert (found.identity_changes, found.messages) == ([], [])
        assert [s.reason for s in found.skipped] == [reason]


def test_other_system_messages_stay_messages() -> None:
    payload = _system({"body": "security code changed", "type": "customer_identity_changed"})
    found = parse_notification(payload)
    assert found.identity_changes == []
    (only,) = found.messages
    assert (only.raw_type, only.message.type) == ("system", MessageType.UNKNOWN)
