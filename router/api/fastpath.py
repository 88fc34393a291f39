"""`POST /webhooks/whatsapp` in raw ASGI, ahead of FastAPI's routing and dependencies.

The webhook is the router's one hot path: FastAPI's per-request work (routing, the
dependency solver, Request objects) costs more than verifying, parsing and storing a
notification. Everything else passes through to the app unchanged.
"""

from typing import Any

from router.intake import Intake

PATH = "/webhooks/whatsapp"
Scope = dict[str, Any]
_EMPTY = {"type": "http.response.body", "body": b""}


def _start(status: int) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-length", b"0")],
    }


class WebhookFastPath:
    def __init__(self, app: Any, intake: Intake) -> None:
        self.app = app
        self.intake = intake

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        limit = self.intake.services.settings.max_body_bytes
        signature: str | None = None
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"x-hub-signature-256":
                signature = value.decode("latin-1")
            elif name == b"content-length":
                # A digit string too long to be a size is simply too large (and int() refuses
                # past 4,300 digits).
                declared = int(value) if value.isdigit() and len(value) < 19 else limit + 1
        body = None if declared is not None and declared > limit else await _body(receive, limit)
        client = scope.get("client")
        address = str(client[0]) if client else ""
        status = await self.intake.receive(body, signature, address)
        await send(_start(status))
        await send(_EMPTY)


async def _body(receive: Any, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None  # the client went away
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
