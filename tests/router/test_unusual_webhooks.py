"""Signed webhooks that are unusual but not Meta's fault to retry forever: unreadable JSON
is a 400, and one bad message inside a good batch is skipped (counted, logged by id) while
the rest of the batch is accepted. Nothing here may ever answer 500."""

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from harness import RouterHarness, wait_for
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import message, notification, signed, text

NESTED = 500  # under Python's recursion limit, so json.loads reads it; nothing may recurse


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def _raw(payload: dict[str, Any], marker: str, literal: str) -> bytes:
    """The JSON of `payload` with the string `marker` replaced by a raw JSON literal."""
    body = json.dumps(payload).encode()
    assert body.count(f'"{marker}"'.encode()) == 1
    return body.replace(f'"{marker}"'.encode(), literal.encode())


def _location(latitude: Any) -> dict[str, Any]:
    return message("location", {"latitude": latitude, "longitude": 79.8612, "name": "Fort"})


# (name, the unusual message, the reason it is skipped for)
BAD_MESSAGES: list[tuple[str, Callable[[], dict[str, Any]], str]] = [
    ("text over 65,536 characters", lambda: text("x" * 70_000), "contract"),
    ("id over 256 characters", lambda: text("hi", id="wamid." + "A" * 300), "contract"),
    ("lone surrogate in the text", lambda: text("kohomada \ud800"), "unencodable_text"),
    ("lone surrogate in the id", lambda: text("hi", id="wamid.\udfff"), "unencodable_text"),
    ("NaN latitude", lambda: _location(float("nan")), "non_finite_number"),
    ("Infinity latitude", lambda: _location(float("inf")), "non_finite_number"),
    ("latitude that is text", lambda: _location("north"), "malformed"),
    ("deeply nested unknown field", lambda: {**text("hi"), "x": _nested(NESTED)}, "too_deep"),
    ("deeply nested interactive", lambda: message("interactive", {"type": _nested(NESTED)}),
     "too_deep"),
    ("non-finite number in an unknown type", lambda: message("poll", {"votes": float("inf")}),
     "non_finite_number"),
]  # fmt: skip


def _stored_ids(router: RouterHarness) -> set[str]:
    inbox_file = router.settings.inbox_url.removeprefix("sqlite://")
    with sqlite3.connect(inbox_file) as db:  # a reader of its own, beside the router
        return {row[0] for row in db.execute("SELECT message_id FROM inbox")}


def _skipped(router: RouterHarness, reason: str) -> float:
    prefix = f'katha_router_webhook_messages_skipped_total{{reason="{reason}"}} '
    for line in router.metrics().splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    return 0.0


def _post_raw(router: RouterHarness, body: bytes, secret: str) -> httpx.Response:
    _, headers = signed(body, secret)
    return httpx.post(f"{router.url}/webhooks/whatsapp", content=body, headers=headers)


@pytest.mark.parametrize(("name", "bad", "reason"), BAD_MESSAGES, ids=[c[0] for c in BAD_MESSAGES])
def test_a_bad_message_is_skipped_and_the_rest_of_its_batch_is_accepted(
    harness: RouterHarness,
    agents: dict[str, tuple[Agent, ServerThread]],
    name: str,
    bad: Callable[[], dict[str, Any]],
    reason: str,
) -> None:
    alpha = harness.tenants["alpha"]
    before, after = text("before the bad one"), text("after the bad one")
    payload = notification(alpha.phone_number_id, [before, bad(), after])
    response = harness.post(payload, alpha.app_secret)
    assert response.status_code == 200, name
    assert _stored_ids(harness) == {before["id"], after["id"]}
    assert _skipped(harness, reason) == 1
    agent = agents["alpha"][0]
    wait_for(lambda: len(agent.received) == 2, what="both good messages answered")
    assert [m.text for m in agent.received] == ["before the bad one", "after the bad one"]


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_a_non_finite_latitude_is_never_stored(harness: RouterHarness, literal: str) -> None:
    alpha = harness.tenants["alpha"]
    good = text("still answered")
    payload = notification(alpha.phone_number_id, [_location("LATITUDE"), good])
    response = _post_raw(harness, _raw(payload, "LATITUDE", literal), alpha.app_secret)
    assert response.status_code == 200
    assert _stored_ids(harness) == {good["id"]}
    assert _skipped(harness, "non_finite_number") == 1


def test_a_number_too_long_to_read_is_a_non_finite_one(harness: RouterHarness) -> None:
    alpha = harness.tenants["alpha"]
    good = text("still answered")
    payload = notification(alpha.phone_number_id, [_location("LATITUDE"), good])
    body = _raw(payload, "LATITUDE", "1" * 5000)  # past Python's 4,300-digit int limit
    assert _post_raw(harness, body, alpha.app_secret).status_code == 200
    assert _stored_ids(harness) == {good["id"]}


def _status(code: Any) -> dict[str, Any]:
    return {"id": "wamid.OUT1", "status": "failed", "timestamp": "1700000000",
            "errors": [{"code": code, "title": "Re-engagement message"}]}  # fmt: skip


@pytest.mark.parametrize(
    "status",
    [
        _status("abc"),
        _status(1e300),
        _status(_nested(NESTED)),
        {"id": "wamid.OUT2", "status": _nested(NESTED), "timestamp": "99999999999999999999"},
        {"id": "wamid.OUT3", "status": "read", "timestamp": "1" * 5000},
    ],
    ids=["code abc", "code 1e300", "nested code", "nested status", "timestamp 5000 digits"],
)
def test_an_unusual_status_does_not_cost_the_batch(
    harness: RouterHarness, status: dict[str, Any]
) -> None:
    alpha = harness.tenants["alpha"]
    good = text("answered")
    payload = notification(alpha.phone_number_id, [good], statuses=[status])
    assert harness.post(payload, alpha.app_secret).status_code == 200
    assert _stored_ids(harness) == {good["id"]}


def test_unusual_errors_and_fields_are_reported_not_fatal(harness: RouterHarness) -> None:
    alpha = harness.tenants["alpha"]
    good = text("answered")
    payload = notification(alpha.phone_number_id, [good])
    value = payload["entry"][0]["changes"][0]["value"]
    value["errors"] = [{"code": "abc", "title": _nested(NESTED)}, {"title": "x\ud800" * 1000}]
    payload["entry"][0]["changes"][0]["field"] = _nested(NESTED)
    payload["entry"].append({"changes": [{"field": "x\ud800" * 1000, "value": {"a": 1}}]})
    assert harness.post(payload, alpha.app_secret).status_code == 200
    assert _stored_ids(harness) == {good["id"]}


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe{}", b"[" * 50_000 + b"]" * 50_000, b'{"entry": [' * 40_000, b""],
    ids=["not json", "not utf-8", "50k deep", "50k deep unterminated", "empty"],
)
def test_a_signed_unreadable_body_is_a_400(
    harness: RouterHarness, agents: dict[str, tuple[Agent, ServerThread]], body: bytes
) -> None:
    response = _post_raw(harness, body, harness.tenants["alpha"].app_secret)
    assert response.status_code == 400
    assert 'katha_router_webhooks_total{result="unreadable"} 1.0' in harness.metrics()
    assert _stored_ids(harness) == set()


def test_json_that_is_not_an_object_is_acknowledged(harness: RouterHarness) -> None:
    for body in (b"[]", b"null", b'"entry"', b"1e400", b"NaN"):
        assert _post_raw(harness, body, harness.tenants["alpha"].app_secret).status_code == 200
    assert _stored_ids(harness) == set()
