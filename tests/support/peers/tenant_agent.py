"""A tenant's agent as the router meets it: POST /v1/messages with an InboundMessage, an
AgentReply back; it can be slow, fail, or answer anything; POST /v1/notes with the owner's
own words (kept, nothing answered). Served as an ASGI app."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from katha.contracts.messages import AgentReply, InboundMessage, OwnerNote


@dataclass
class Agent:
    """A tenant agent implementing POST /v1/messages; it can be slow, fail, or answer
    with whatever `answer` returns."""

    name: str = "agent"
    delay: float = 0.0
    failing: bool = False
    received: list[InboundMessage] = field(default_factory=list)
    notes: list[OwnerNote] = field(default_factory=list)
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

        @api.post("/v1/notes")
        async def notes(note: OwnerNote) -> Response:
            if self.failing:
                return JSONResponse({"detail": "overloaded"}, status_code=503)
            if all(kept.message_id != note.message_id for kept in self.notes):
                self.notes.append(note)
            return Response(status_code=204)

        return api
