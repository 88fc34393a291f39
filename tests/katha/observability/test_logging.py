"""Logs are structured, carry the ids that matter, and never a phone number, token or body."""

import io
import json
import logging
import subprocess
import sys
from typing import Any

import pytest

from katha.observability import bind_ids, configure_logging, get_logger
from katha.observability.redact import pseudonym, set_pseudonym_key

CUSTOMER = "94771234567"
TOKEN = "EAAGm0PX4ZCpsBAKZAZBbq7ZCl0ZCvW1Z"


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    configure_logging("DEBUG", "json", out, pseudonym_key=b"k" * 32)
    return out


def test_json_lines_carry_bound_ids(stream: io.StringIO) -> None:
    with bind_ids(tenant="ceylon-spice", conversation_id="c-1", message_id="wamid.HBg"):
        get_logger("router").info("message.accepted", phone_number_id="105954558954427")
    get_logger("router").info("router.idle")
    first, second = _lines(stream)
    assert first["event"] == "message.accepted"
    assert first["tenant"] == "ceylon-spice"
    assert first["message_id"] == "wamid.HBg"
    assert first["phone_number_id"] == "105954558954427"  # Meta's id, not a person's number
    assert first["level"] == "info"
    assert "timestamp" in first
    assert "tenant" not in second


def test_phone_numbers_tokens_and_bodies_never_appear(stream: io.StringIO) -> None:
    log = get_logger("router")
    log.info(
        "message.accepted",
        wa_id=CUSTOMER,
        text="mage order eka cancel karanna",
        access_token=TOKEN,
        headers={"Authorization": f"Bearer {TOKEN}", "X-Hub-Signature-256": "sha256=abc"},
        contacts=[{"wa_id": CUSTOMER, "profile": {"name": "Nimal", "username": "nimal.lk"}}],
    )
    log.warning(f"customer +94 77 123 4567 wrote again with Bearer {TOKEN}")
    output = stream.getvalue()
    for secret in (CUSTOMER, "77 123 4567", TOKEN, "cancel karanna", "sha256=abc", "nimal.lk"):
        assert secret not in output
    first, second = _lines(stream)
    assert first["wa_id"] == pseudonym(CUSTOMER)
    assert first["contacts"][0]["wa_id"] == pseudonym(CUSTOMER)
    assert first["text"] == "<29 chars>"
    assert first["headers"]["Authorization"] == "[redacted]"
    assert pseudonym(CUSTOMER) in second["event"]


def test_standard_library_loggers_are_redacted_too(stream: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").warning("client %s sent a bad signature", f"+{CUSTOMER}")
    (line,) = _lines(stream)
    assert CUSTOMER not in stream.getvalue()
    assert line["logger"] == "uvicorn.error"
    assert line["level"] == "warning"


def test_pseudonyms_are_stable_per_key_and_differ_across_keys() -> None:
    set_pseudonym_key(b"a" * 32)
    first = pseudonym(CUSTOMER)
    assert pseudonym(CUSTOMER) == first
    set_pseudonym_key(b"b" * 32)
    assert pseudonym(CUSTOMER) != first
    with pytest.raises(ValueError, match="at least 16 bytes"):
        set_pseudonym_key(b"short")


def test_only_known_ids_may_be_bound() -> None:
    with pytest.raises(ValueError, match="may be bound"), bind_ids(phone=CUSTOMER):
        pass


def test_console_format_is_human_readable() -> None:
    out = io.StringIO()
    configure_logging("INFO", "console", out)
    get_logger("cli").info("index.refreshed", chunks=12)
    text = out.getvalue()
    assert "index.refreshed" in text
    assert "chunks" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_level_filters_debug(stream: io.StringIO) -> None:
    configure_logging("WARNING", "json", stream)
    get_logger().debug("noise")
    get_logger().error("reply.failed")
    assert [line["event"] for line in _lines(stream)] == ["reply.failed"]


def test_before_logging_is_configured_events_are_redacted_and_tracebacks_bare() -> None:
    # A Ray task's worker or a library user logs through Katha without configure_logging.
    script = f"""
from katha.observability import get_logger
def fail(token):
    body = "my number is {CUSTOMER}"
    raise RuntimeError("boom")
try:
    fail("{TOKEN}")
except RuntimeError:
    get_logger("ingestion").exception("source.failed", wa_id="{CUSTOMER}")
get_logger("ingestion").debug("source.debug_detail")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    text = done.stdout + done.stderr
    assert "source.failed" in text
    assert "RuntimeError: boom" in text
    assert "source.debug_detail" not in text  # INFO and above, as configured processes
    assert TOKEN not in text
    assert CUSTOMER not in text
