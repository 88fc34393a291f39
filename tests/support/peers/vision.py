"""An OpenAI-compatible chat endpoint whose model "sees" images: `POST /v1/chat/completions`
with a user message holding an `image_url` part. It checks the request as a vision model
server would (the bearer key, the model it serves, a data URL it can decode), records each
photo it received, and answers the description the test scripted."""

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from .loopback import LoopbackPeer, QuietLog, send_json
from .openai_compatible import completion

_DATA_URL = re.compile(r"^data:(image/[a-z0-9.+-]+);base64,(.+)$", re.DOTALL)


@dataclass(frozen=True)
class Photo:
    """One image the model was shown."""

    mime_type: str
    data: bytes
    prompt: str  # the system prompt it came with


@dataclass
class VisionServer(LoopbackPeer):
    base: str = ""
    model: str = "gemma-3-4b-it"
    api_key: str | None = None
    description: str = "A photo"
    status: int = 200  # anything else: the server fails, as an overloaded GPU does
    delay: float = 0.0
    photos: list[Photo] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(QuietLog, BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, problem, request = state.check(self.path, dict(self.headers), body)
                if problem is not None:
                    state.refused.append(problem)
                    send_json(self, status, {"error": {"message": problem}})
                    return
                time.sleep(state.delay)
                if state.status != 200:
                    send_json(self, state.status, {"error": {"message": "overloaded"}})
                    return
                send_json(self, 200, completion(request, state.description))

        return Handler

    def check(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str | None, Any]:
        if path != "/v1/chat/completions":
            return 404, f"no route {path}", None
        if self.api_key is not None and headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, "Incorrect API key provided", None
        request = json.loads(body)
        if request.get("model") != self.model:
            return 404, f"model {request.get('model')!r} does not exist", None
        messages = request.get("messages") or []
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        urls = [
            part["image_url"]["url"]
            for message in messages
            if message.get("role") == "user" and isinstance(message.get("content"), list)
            for part in message["content"]
            if part.get("type") == "image_url"
        ]
        if len(urls) != 1:
            return 400, f"expected one image part, got {len(urls)}", None
        found = _DATA_URL.match(urls[0])
        if found is None:
            return 400, "the image is not a base64 data URL", None
        try:
            data = base64.b64decode(found.group(2), validate=True)
        except binascii.Error:
            return 400, "the data URL is not valid base64", None
        self.photos.append(Photo(found.group(1), data, system))
        return 200, None, request
