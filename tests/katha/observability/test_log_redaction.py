"""Library loggers and exception text are redacted like our own events: no customer text,
phone number, token or signature reaches a log line, whoever wrote the line."""

import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pydantic
import pytest
import uvicorn
import uvicorn.logging
from fastapi import FastAPI
from peers.loopback import serve_http

from katha.observability import configure_logging, get_logger
from katha.observability.redact import pseudonym, scrub_text

CUSTOMER = "94771234567"
MARKER = "kekulu-rice-7f3a9q"  # a customer's words, unique enough to grep for
TOKEN = "EAAGm0PX4ZCpsBAKZAZBbq7ZCl0ZCvW1Z"
VERIFY_TOKEN = "verify-5b8e1c2d"
SIGNATURE = "sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging("DEBUG", "json", out, pseudonym_key=b"k" * 32)
    yield out
    logging.getLogger().handlers.clear()


class _Refusing(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_httpx_request_lines_never_carry_a_search_query(stream: io.StringIO) -> None:
    with serve_http(_Refusing) as base:
        response = httpx.get(f"{base}/search", params={"q": f"{MARKER} price", "format": "json"})
        with pytest.raises(httpx.HTTPStatusError) as failure:
            response.raise_for_status()
    get_logger("agent").error("web_search.failed", reason=str(failure.value))
    logging.getLogger("httpx").warning("HTTP Request: GET %s", response.request.url)
    output = stream.getvalue()
    assert MARKER not in output
    assert "kekulu" not in output
    events = [line["event"] for line in _lines(stream)]
    assert "web_search.failed" in events
    assert any("/search?q=[redacted]&format=[redacted]" in event for event in events), output


def test_uvicorn_access_line_keeps_the_path_but_not_the_verify_token(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=7"
    access = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(access, "propagate", True)  # uvicorn turns it off with access_log=False
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50412", "GET", path, "1.1", 200)
    (line,) = _lines(stream)
    assert VERIFY_TOKEN not in stream.getvalue()
    assert line["event"].startswith('127.0.0.1:50412 - "GET /webhooks/whatsapp?hub.mode=')
    assert line["logger"] == "uvicorn.access"


def test_uvicorn_own_access_formatter_still_formats_a_scrubbed_line(
    stream: io.StringIO,
) -> None:
    """uvicorn's AccessFormatter unpacks the record's arguments: scrubbing keeps them."""
    own = io.StringIO()
    handler = logging.StreamHandler(own)
    fmt = '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'  # its default
    handler.setFormatter(uvicorn.logging.AccessFormatter(fmt, use_colors=False))
    access = logging.getLogger("uvicorn.access.test")
    access.addHandler(handler)
    access.propagate = False
    path = f"/webhooks/whatsapp?hub.verify_token={VERIFY_TOKEN}"
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50412", "GET", path, "1.1", 403)
    finally:
        access.removeHandler(handler)
    assert own.getvalue().startswith("INFO:     127.0.0.1:50412 - ")
    assert "/webhooks/whatsapp?hub.verify_token=[redacted] HTTP/1.1" in own.getvalue()
    assert "403" in own.getvalue()


def test_a_library_handler_of_its_own_gets_scrubbed_records(stream: io.StringIO) -> None:
    """Ray Serve writes its replica logs through handlers of its own, not ours."""
    own = io.StringIO()
    handler = logging.StreamHandler(own)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    serve = logging.getLogger("ray.serve.test")
    serve.addHandler(handler)
    serve.propagate = False
    try:
        try:
            pydantic.TypeAdapter(dict[str, int]).validate_python({"text": MARKER})
        except pydantic.ValidationError:
            serve.exception("Request failed for wa_id=%s", CUSTOMER)
    finally:
        serve.removeHandler(handler)
    text = own.getvalue()
    assert "Request failed for wa_id=" in text
    assert "validation error" in text
    assert MARKER not in text
    assert CUSTOMER not in text


class _Inbound(pydantic.BaseModel):
    wa_id: str
    text: str = pydantic.Field(max_length=8)
    timestamp: int


def test_validation_error_tracebacks_hide_the_input_values(stream: io.StringIO) -> None:
    payload = {"wa_id": 94771234567, "text": f"{MARKER} {TOKEN}", "timestamp": f"at {MARKER}"}
    try:
        _Inbound.model_validate(payload)
    except pydantic.ValidationError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        get_logger("router").exception("message.unreadable")
    output = stream.getvalue()
    for planted in (MARKER, TOKEN, CUSTOMER):
        assert planted not in output
    library, ours = _lines(stream)
    for line in (library, ours):
        assert "3 validation errors for _Inbound" in line["exception"]
        assert "input_value=[redacted]" in line["exception"]


def test_fastapi_response_validation_error_hides_the_body(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = FastAPI()

    @app.get("/reply", response_model=_Inbound)
    def reply() -> dict[str, Any]:
        return {"wa_id": CUSTOMER, "text": MARKER, "timestamp": "soon"}

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=True)
    )
    # Its access log on (any Config with access_log=False turns it off process-wide).
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "propagate", True)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            assert thread.is_alive(), "uvicorn stopped"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        response = httpx.get(f"http://127.0.0.1:{port}/reply", params={"wa_id": CUSTOMER})
        assert response.status_code == 500
    finally:
        server.should_exit = True
        thread.join(timeout=15)
    output = stream.getvalue()
    assert MARKER not in output
    assert CUSTOMER not in output
    assert "ResponseValidationError" in output
    assert "/reply?wa_id=[redacted]" in output  # uvicorn's access line, scrubbed


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (
            f"GET https://graph.facebook.com/v23.0/me?access_token={TOKEN}",
            "/me?access_token=",
            TOKEN,
        ),
        ("POST /v1/me?access_token=short-secret HTTP/1.1", "access_token=", "short-secret"),
        (f"app_secret='{MARKER}' verify_token={VERIFY_TOKEN}", "app_secret=", MARKER),
        (f"app_secret='{MARKER}' verify_token={VERIFY_TOKEN}", "verify_token=", VERIFY_TOKEN),
        (f"X-Hub-Signature-256: {SIGNATURE}", "X-Hub-Signature-256", SIGNATURE[7:]),
        ("Authorization: Bearer sk-proj-Zx81kq0aPq7Lm3Nn", "Authorization", "Zx81kq0aPq7Lm3Nn"),
        (f"{{'text': '{MARKER}', 'type': 'text'}}", "'type': 'text'", MARKER),
        (f'{{"body": "{MARKER}", "id": "wamid.1"}}', '"id": "wamid.1"', MARKER),
        (f"  {{'type': 'missing', 'input': {{'q': '{MARKER}'}}}}", "'type': 'missing'", MARKER),
        (f"[type=int_parsing, input_value='{MARKER}', input_type=str]", "input_type=str", MARKER),
        (f"customer +{CUSTOMER} wrote", "customer phone#", CUSTOMER),
        ("customer +94 77 123 4567 wrote", "wrote", "123 4567"),
        (f"new message from={CUSTOMER}", "from=phone#", CUSTOMER),
        (f"for url 'http://127.0.0.1:9/search?q={MARKER}+kiyada'", "/search?q=", MARKER),
    ],
)
def test_free_text_is_scrubbed(text: str, kept: str, gone: str) -> None:
    scrubbed = scrub_text(text)
    assert gone not in scrubbed
    assert kept in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "Are you open? We close at 9.",
        "index.refreshed chunks=340 version=7",
        "Content-Type: application/json",
        "https://errors.pydantic.dev/2.13/v/int_parsing",
        "phone_number_id 105954558954427 has no route",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    expected = text.replace("105954558954427", pseudonym("105954558954427"))
    assert scrub_text(text) == expected
