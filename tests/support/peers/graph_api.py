"""Local stand-ins for what the router talks to and we do not run: WhatsApp's Graph API and
a tenant's agent. Each is a real HTTP server on loopback speaking the documented protocol."""

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from katha.messages import AgentReply, InboundMessage


class ServerThread:
    """A uvicorn server for an ASGI app, on a free loopback port, in its own thread."""

    def __init__(self, app: Any, port: int = 0) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the local server did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def request_stop(self) -> None:
        """Ask the server to stop without waiting (stop several at once, then `stop`)."""
        self.server.should_exit = True

    def stop(self) -> None:
        self.request_stop()
        self.thread.join(timeout=15)


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
    calls: list[GraphCall] = field(default_factory=list)
    failures: list[tuple[int, int]] = field(default_factory=list)
    refused: list[GraphCall] = field(default_factory=list)
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


@dataclass
class Agent:
    """A tenant agent implementing POST /v1/messages; it can be slow, fail, or answer
    with whatever `answer` returns."""

    name: str = "agent"
    delay: float = 0.0
    failing: bool = False
    received: list[InboundMessage] = field(default_factory=list)
    answer: Callable[[InboundMessage], AgentReply] | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    attempts: int = 0

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/v1/messages")
        async def messages(message: InboundMessage) -> JSONResponse:
            self.in_flight += 1
            self.attempts += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                if self.delay:
                    await asyncio.sleep(self.delay)
                if self.failing:
                    return JSONResponse({"detail": "overloaded"}, status_code=503)
                self.received.append(message)
                reply = (
                    self.answer(message)
                    if self.answer
                    else AgentReply(
                        message_id=message.message_id,
                        text=f"{self.name} answers: {message.text}",
                        language="en",
                        confidence=0.9,
                    )
                )
                return JSONResponse(reply.model_dump(mode="json"))
            finally:
                self.in_flight -= 1

        return api
