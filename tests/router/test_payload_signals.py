"""Meta's signals besides messages are parsed from the shapes Meta documents (its own
examples, verbatim where it gives them): account restrictions and bans, number quality
and template status. Nothing unusual raises, and whatever else the body carries is still
read. (A customer's marketing choice and change of identity: test_payload_customers.py.)"""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from peers.whatsapp_webhooks import notification, text

from router.notification import (
    AccountUpdate,
    Notification,
    QualityUpdate,
    RestrictionInfo,
    TemplateUpdate,
)
from router.payload import parse_notification

WABA = "102290129340398"
NUMBER = "106540352242922"


def _parsed(raw: str) -> Notification:
    return parse_notification(json.loads(raw))


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _signal(field: str, value: Any, *, entry_id: Any = WABA, time: Any = 1743451903) -> Any:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": entry_id, "time": time, "changes": [{"field": field, "value": value}]}],
    }


def _with_a_message(payload: dict[str, Any], body: str = "still read") -> dict[str, Any]:
    """`payload` with a customer's message in another change of the same entry."""
    message_change = notification(NUMBER, [text(body)])["entry"][0]["changes"][0]
    payload["entry"][0]["changes"].append(message_change)
    return payload


# account_update ----------------------------------------------------------------------------


BIZ, CUSTOMER = "RESTRICTED_BIZ_INITIATED_MESSAGING", "RESTRICTED_CUSTOMER_INITIATED_MESSAGING"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (  # the documented shape, with the expiry real traffic carries
            '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398",'
            '"time":1743451903,"changes":[{"field":"account_update","value":{"event":'
            '"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":'
            '"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":"2026-04-19T13:59:20+0000"}]}}]}]}',
            AccountUpdate(
                WABA,
                "ACCOUNT_RESTRICTION",
                (RestrictionInfo(BIZ, datetime(2026, 4, 19, 13, 59, 20, tzinfo=UTC)),),
                None,
                None,
                _at(1743451903),
            ),
        ),
        (  # Meta's legacy sample: placeholders for expiries, a display number (documented)
            '{ "object": "whatsapp_business_account", "entry": [ { "id": '
            '"whatsapp-business-account-id", "time": 1604703141, "changes": [ { "field": '
            '"account_update", "value": { "phone_number": "<PHONE_NUMBER>", "event": '
            '"ACCOUNT_RESTRICTION", "restriction_info": [ { "restriction_type": '
            '"RESTRICTED_ADD_PHONE_NUMBER_ACTION", "expiration": "<TIMESTAMP>" }, { '
            '"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": '
            '"<TIMESTAMP>" }, { "restriction_type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING", '
            '"expiration": "<TIMESTAMP>" } ] } } ] } ] }',
            AccountUpdate(
                "whatsapp-business-account-id",
                "ACCOUNT_RESTRICTION",
                tuple(
                    RestrictionInfo(kind, None)
                    for kind in ("RESTRICTED_ADD_PHONE_NUMBER_ACTION", BIZ, CUSTOMER)
                ),
                None,
                None,
                _at(1604703141),
            ),
        ),
    ],
)
def test_account_restrictions_are_read_with_their_expiry(raw: str, expected: AccountUpdate) -> None:
    found = _parsed(raw)
    assert found.accounts == [expected]
    assert (found.unknown, found.skipped, found.messages) == ([], [], [])


@pytest.mark.parametrize(
    ("value", "event", "violation", "ban_state"),
    [
        ('{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"ADULT"}}',
         "ACCOUNT_VIOLATION", "ADULT", None),
        ('{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"REINSTATE",'
         '"waba_ban_date":"April 17, 2025"}}', "DISABLED_UPDATE", None, "REINSTATE"),
        ('{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"SCHEDULE_FOR_DISABLE",'
         '"waba_ban_date":"January 31, 2021"}}', "DISABLED_UPDATE", None, "SCHEDULE_FOR_DISABLE"),
        ('{"event":"ACCOUNT_DELETED"}', "ACCOUNT_DELETED", None, None),
        ('{"event":"ACCOUNT_OFFBOARDED"}', "ACCOUNT_OFFBOARDED", None, None),
        ('{"event":"SOMETHING_META_ADDS_LATER"}', "SOMETHING_META_ADDS_LATER", None, None),
    ],
)  # fmt: skip
def test_metas_account_update_examples_are_read(
    value: str, event: str, violation: str | None, ban_state: str | None
) -> None:
    found = _parsed(
        '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398",'
        f'"time":1743451903,"changes":[{{"value":{value},"field":"account_update"}}]}}]}}'
    )
    (update,) = found.accounts
    assert (update.event, update.violation, update.ban_state) == (event, violation, ban_state)
    assert update.restrictions == ()
    assert found.skipped == []


@pytest.mark.parametrize(
    ("expiration", "expected"),
    [
        (1641330498, _at(1641330498)),
        ("1641330498", _at(1641330498)),
        ("2026-04-19T13:59:20+0000", datetime(2026, 4, 19, 13, 59, 20, tzinfo=UTC)),
        ("2026-04-19T13:59:20Z", datetime(2026, 4, 19, 13, 59, 20, tzinfo=UTC)),
        ("2026-04-19T13:59:20", datetime(2026, 4, 19, 13, 59, 20, tzinfo=UTC)),
        ("April 17, 2025", datetime(2025, 4, 17, tzinfo=UTC)),
        ("<TIMESTAMP>", None),
        ("", None),
        (None, None),
        (True, None),
        ([1641330498], None),
        ({"at": 1}, None),
        (10**30, None),
        ("9" * 5000, None),
        ("١٢٣", None),
        ("x" * 10_000, None),
    ],
)
def test_a_restriction_expiry_is_read_in_every_form_meta_used(
    expiration: Any, expected: datetime | None
) -> None:
    restriction = {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING"}
    restriction["expiration"] = expiration
    value = {"event": "ACCOUNT_RESTRICTION", "restriction_info": [restriction]}
    ((only,),) = [
        update.restrictions
        for update in parse_notification(_signal("account_update", value)).accounts
    ]
    assert only.expires_at == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({}, "malformed"),
        ({"event": None}, "malformed"),
        ({"event": 7}, "malformed"),
        ({"event": ""}, "malformed"),
        ({"event": ["ACCOUNT_DELETED"]}, "malformed"),
        ({"event": "E" * 600}, "malformed"),
        ({"event": "X", "violation_info": {"violation_type": "\ud800"}}, "unencodable_text"),
        ({"event": "X", "volume_tier_info": {"tier": float("inf")}}, "non_finite_number"),
    ],
)
def test_an_account_update_that_cannot_be_read_is_skipped_and_the_batch_read_on(
    value: dict[str, Any], reason: str
) -> None:
    found = parse_notification(_with_a_message(_signal("account_update", value)))
    assert found.accounts == []
    assert [(s.kind, s.reason) for s in found.skipped] == [("account_update", reason)]
    assert [m.message.text for m in found.messages] == ["still read"]


def test_an_account_update_without_an_account_id_is_skipped() -> None:
    for entry_id in (None, "", True, ["x"], "\ud800"):
        found = parse_notification(_signal("account_update", {"event": "X"}, entry_id=entry_id))
        assert found.accounts == []
        assert [s.reason for s in found.skipped] == ["malformed"]


def test_unreadable_restrictions_are_reported_and_the_update_kept() -> None:
    for restrictions in ("x", 3, [], [None, {"expiration": 1}, {"restriction_type": 5}]):
        value = {"event": "ACCOUNT_RESTRICTION", "restriction_info": restrictions}
        found = parse_notification(_signal("account_update", value))
        (update,) = found.accounts
        assert update.restrictions == ()
    assert found.unknown == ["account_update restriction without a type"] * 3


def test_an_account_update_without_a_time_is_dated_now() -> None:
    before = datetime.now(UTC)
    (update,) = parse_notification(
        _signal("account_update", {"event": "ACCOUNT_DELETED"}, time="soon")
    ).accounts
    assert update.at >= before


def test_unknown_account_update_keys_are_reported() -> None:
    value = {"event": "ACCOUNT_OFFBOARDED", "waba_info": {"waba_id": WABA}, "new_thing": 1}
    found = parse_notification(_signal("account_update", value))
    assert found.unknown == ["account_update value.new_thing"]
    assert [u.event for u in found.accounts] == ["ACCOUNT_OFFBOARDED"]


# phone_number_quality_update ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (  # Meta's example
            '{"entry":[{"id":"102290129340398","time":1748454394,"changes":[{"value":'
            '{"display_phone_number":"15550783881","event":"THROUGHPUT_UPGRADE","current_limit":'
            '"TIER_UNLIMITED"},"field":"phone_number_quality_update"}]}],"object":'
            '"whatsapp_business_account"}',
            QualityUpdate(
                WABA, "15550783881", "THROUGHPUT_UPGRADE", "TIER_UNLIMITED", None, _at(1748454394)
            ),
        ),
        (  # Meta's legacy sample
            '{"object":"whatsapp_business_account","entry":[{"id":"waba-id","time":1608243062,'
            '"changes":[{"field":"phone_number_quality_update","value":{"display_phone_number":'
            '"16505551111","event":"FLAGGED","current_limit":"TIER_10K"}}]}]}',
            QualityUpdate("waba-id", "16505551111", "FLAGGED", "TIER_10K", None, _at(1608243062)),
        ),
    ],
)
def test_metas_quality_update_examples_are_read(raw: str, expected: QualityUpdate) -> None:
    found = _parsed(raw)
    assert found.qualities == [expected]
    assert (found.unknown, found.skipped) == ([], [])


def test_the_portfolio_limit_wins_and_the_old_limit_is_kept() -> None:
    value = {
        "display_phone_number": "+1 555-078-3881",
        "event": "DOWNGRADE",
        "old_limit": "TIER_10K",
        "current_limit": "TIER_1K",
        "max_daily_conversations_per_business": "TIER_2K",
    }
    (update,) = parse_notification(_signal("phone_number_quality_update", value)).qualities
    assert update.display_phone_number == "15550783881"  # as keyed in Notification.numbers
    assert (update.messaging_limit, update.previous_limit) == ("TIER_2K", "TIER_10K")


@pytest.mark.parametrize(
    "value",
    [
        {"display_phone_number": "15550783881"},
        {"event": 3, "current_limit": "TIER_1K"},
        {"event": "FLAGGED", "current_limit": "\udcff"},
    ],
)
def test_a_quality_update_that_cannot_be_read_is_skipped(value: dict[str, Any]) -> None:
    found = parse_notification(_with_a_message(_signal("phone_number_quality_update", value)))
    assert found.qualities == []
    assert [s.kind for s in found.skipped] == ["phone_number_quality_update"]
    assert len(found.messages) == 1


def test_a_quality_update_with_odd_fields_is_kept_without_them() -> None:
    value = {"event": "UPGRADE", "display_phone_number": 15550783881, "current_limit": ["x"]}
    (update,) = parse_notification(_signal("phone_number_quality_update", value)).qualities
    assert (update.display_phone_number, update.messaging_limit) == (None, None)


# message_template_status_update -----------------------------------------------------------


def _template(**fields: Any) -> TemplateUpdate:
    expected = {"waba_id": WABA, "template_id": "1689556908129832", "name": "order_confirmation"}
    expected |= {"reason": "NONE", "category": None, "title": None, "at": _at(1751247548)}
    return TemplateUpdate(**(expected | fields))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (  # Meta's example
            '{"entry":[{"id":"102290129340398","time":1751247548,"changes":[{"value":{"event":'
            '"APPROVED","message_template_id":1689556908129832,"message_template_name":'
            '"order_confirmation","message_template_language":"en-US","reason":"NONE",'
            '"message_template_category":"UTILITY"},"field":"message_template_status_update"}]}],'
            '"object":"whatsapp_business_account"}',
            _template(language="en-US", event="APPROVED", category="UTILITY"),
        ),
        (  # Meta's legacy sample: scheduled for disabling, no reason
            '{"object":"whatsapp_business_account","entry":[{"id":"whatsapp-business-account-id",'
            '"time":1604703141,"changes":[{"field":"message_template_status_update","value":'
            '{"event":"FLAGGED","message_template_id":1234567,"message_template_name":'
            '"My message template","message_template_language":"en-US","reason":null,'
            '"disable_info":{"disable_date":"January 31, 2021"}}}]}]}',
            _template(
                waba_id="whatsapp-business-account-id",
                template_id="1234567",
                name="My message template",
                language="en-US",
                event="FLAGGED",
                reason=None,
                at=_at(1604703141),
            ),
        ),
        (  # paused, from the documented fields
            '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":'
            '1751247548,"changes":[{"field":"message_template_status_update","value":{"event":'
            '"PAUSED","message_template_id":1689556908129832,"message_template_name":'
            '"order_confirmation","message_template_language":"en_US","reason":"NONE",'
            '"message_template_category":"MARKETING","other_info":{"title":"FIRST_PAUSE",'
            '"description":"Your WhatsApp message template has been paused for 3 hours until '
            'Jul 1 at 3:00 PM UTC because it had issues."}}}]}]}',
            _template(language="en_US", event="PAUSED", category="MARKETING", title="FIRST_PAUSE"),
        ),
    ],
)
def test_metas_template_status_examples_are_read(raw: str, expected: TemplateUpdate) -> None:
    found = _parsed(raw)
    assert found.templates == [expected]
    assert (found.unknown, found.skipped) == ([], [])


@pytest.mark.parametrize(
    "value",
    [
        {"event": "APPROVED", "message_template_language": "en"},
        {"event": "APPROVED", "message_template_name": "reopen"},
        {"message_template_name": "reopen", "message_template_language": "en"},
        {"event": "APPROVED", "message_template_name": 5, "message_template_language": "en"},
    ],
)
def test_a_template_update_without_its_name_language_or_event_is_skipped(
    value: dict[str, Any],
) -> None:
    found = parse_notification(_with_a_message(_signal("message_template_status_update", value)))
    assert found.templates == []
    assert [(s.kind, s.reason) for s in found.skipped] == [
        ("message_template_status_update", "malformed")
    ]
    assert len(found.messages) == 1


def test_an_odd_template_id_is_dropped_and_the_update_kept() -> None:
    for template_id in (True, None, [1], -1, {"id": 1}):
        value = {
            "event": "REJECTED",
            "message_template_id": template_id,
            "message_template_name": "reopen",
            "message_template_language": "si",
            "reason": "PROMOTIONAL",
        }
        (update,) = parse_notification(_signal("message_template_status_update", value)).templates
        assert update.template_id is None
        assert update.reason == "PROMOTIONAL"


# One body, every kind ---------------------------------------------------------------------


def test_a_body_mixing_every_kind_reads_each_and_reports_the_rest() -> None:
    stop = {"wa_id": "16505551234", "value": "stop"}
    payload = _with_a_message(_signal("account_update", {"event": "ACCOUNT_DELETED"}))
    changes = payload["entry"][0]["changes"]
    changes.append({"field": "phone_number_quality_update"})  # no value
    changes.append({"field": "account_update", "value": None})
    changes.append({"field": "user_preferences", "value": "stop"})
    changes.append({"field": "phone_number_quality_update", "value": {"event": "UNFLAGGED"}})
    changes.append({"field": "history", "value": {"history": []}})
    changes.append(
        {
            "field": "message_template_status_update",
            "value": {
                "event": "APPROVED",
                "message_template_name": "reopen",
                "message_template_language": "en",
            },
        }
    )
    preference = {"metadata": {"phone_number_id": NUMBER}, "user_preferences": [stop]}
    changes.append({"field": "user_preferences", "value": preference})
    found = parse_notification(payload)
    assert [a.event for a in found.accounts] == ["ACCOUNT_DELETED"]
    assert [q.event for q in found.qualities] == ["UNFLAGGED"]
    assert [t.name for t in found.templates] == ["reopen"]
    assert [p.stopped for p in found.preferences] == [True]
    assert [m.message.text for m in found.messages] == ["still read"]
    assert found.unknown == [
        "change without a value",
        "change without a value",
        "change without a value",
        "field history",
        "value.history",
    ]
    assert found.skipped == []
