"""WhatsApp's Graph API as the router meets it: POST /{version}/{phone_number_id}/messages,
answered like Meta does, every call recorded. Served as an ASGI app (`ServerThread`)."""

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class GraphCall:
    phone_number_id: str
    body: dict[str, Any]
    authorization: str | None
    at: float

    @property
    def text(self) -> str | None:
        text = self.body.get("text")
        return text.get("body") if isinstance(text, dict) else None

    @property
    def to(self) -> str | None:
        return self.body.get("to") or self.body.get("recipient")

    @property
    def template(self) -> tuple[str, str, list[str]] | None:
        """(name, language code, body parameters) of a template message."""
        if self.body.get("type") != "template":
            return None
        template = self.body["template"]
        body = [c for c in template.get("components", []) if c.get("type") == "body"]
        parameters = [p["text"] for c in body for p in c.get("parameters", [])]
        return template["name"], template["language"]["code"], parameters

    @property
    def reply_to(self) -> str | None:
        return (self.body.get("context") or {}).get("message_id")

    @property
    def is_read_receipt(self) -> bool:
        return self.body.get("status") == "read"


@dataclass
class GraphApi:
    """Records POST /{version}/{phone_number_id}/messages; answers errors from `failures`
    first (HTTP status, Meta error code), then success like the real API."""

    version: str = "v23.0"
    url: str = ""  # the base the router is given, `{server}/{version}`, once served
    calls: list[GraphCall] = field(default_factory=list)
    failures: list[tuple[int, int]] = field(default_factory=list)
    refused: list[GraphCall] = field(default_factory=list)
    # Recipients whose 24-hour window Meta considers closed: a free-form message to them
    # is refused with 131047, as Meta does; a template goes through.
    closed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/{version}/{phone_number_id}/messages")
        async def messages(version: str, phone_number_id: str, request: Request) -> JSONResponse:
            call = GraphCall(
                phone_number_id,
                await request.json(),
                request.headers.get("authorization"),
                time.monotonic(),
            )
            with self.lock:
                failure = self.failures.pop(0) if self.failures else None
                free_form = call.template is None and not call.is_read_receipt
                if failure is None and free_form and call.to in self.closed:
                    failure = (400, 131047)
                (self.refused if failure else self.calls).append(call)
                count = len(self.calls)
            if failure is not None:
                status, code = failure
                error = {"message": f"(#{code}) error", "type": "OAuthException", "code": code}
                return JSONResponse({"error": error}, status_code=status)
            if call.is_read_receipt:
                return JSONResponse({"success": True})
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": call.to, "wa_id": call.to}],
                    "messages": [{"id": f"wamid.sent{count}"}],
                }
            )

        return api

    def texts(self) -> list[GraphCall]:
        with self.lock:
            return [call for call in self.calls if not call.is_read_receipt]

    def read_receipts(self) -> list[GraphCall]:
        with self.lock:
            return [call for call in self.calls if call.is_read_receipt]
