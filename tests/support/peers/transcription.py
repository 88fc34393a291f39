"""An OpenAI-compatible speech-to-text server: `POST /v1/audio/transcriptions`, as OpenAI
and vLLM (Whisper models) serve it. It checks what it receives as they would (multipart
form, the model it serves, the response format, the file and its size, the bearer key),
refusing with OpenAI's error shape, records each request, and answers the transcript the
test scripted, in the format asked for."""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from .loopback import LoopbackPeer, QuietLog, send_json

FORMATS = ("json", "text", "verbose_json", "srt", "vtt")
OPENAI_MAX_BYTES = 25 * 1024 * 1024
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')


@dataclass(frozen=True)
class Spoken:
    """What the model "heard": the transcript and how sure it was."""

    text: str
    language: str = "english"  # Whisper's verbose_json names the language in English
    avg_logprob: float = -0.15
    no_speech_prob: float = 0.01


@dataclass(frozen=True)
class Received:
    """One accepted request, as the server read it."""

    fields: dict[str, str]
    filename: str
    content_type: str
    data: bytes
    authorization: str | None


@dataclass
class TranscriptionServer(LoopbackPeer):
    base: str = ""
    model: str = "whisper-large-v3"
    api_key: str | None = None
    max_bytes: int = OPENAI_MAX_BYTES
    answer: Callable[[Received], Spoken] = lambda received: Spoken("")
    delay: float = 0.0  # seconds before answering: a slow GPU, for timeouts
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why requests were turned away

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(QuietLog, BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, problem, received = state.check(self.path, dict(self.headers), body)
                if problem is not None or received is None:
                    state.refused.append(problem or "unreadable")
                    error = {"message": problem, "type": "invalid_request_error"}
                    send_json(self, status, {"error": error})
                    return
                state.received.append(received)
                time.sleep(state.delay)
                spoken = state.answer(received)
                _answer(self, received.fields.get("response_format", "json"), spoken)

        return Handler

    def check(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str | None, Received | None]:
        """(status, why refused or None, the request read)."""
        if path != "/v1/audio/transcriptions":
            return 404, f"no route {path}", None
        authorization = headers.get("Authorization")
        if self.api_key is not None and authorization != f"Bearer {self.api_key}":
            return 401, "Incorrect API key provided", None
        boundary = _BOUNDARY.search(headers.get("Content-Type", ""))
        if not headers.get("Content-Type", "").startswith("multipart/form-data") or not boundary:
            return 400, "expected multipart/form-data", None
        fields, files = multipart(body, boundary.group(1).encode())
        if fields.get("model") != self.model:
            return 404, f"model {fields.get('model')!r} does not exist", None
        if fields.get("response_format", "json") not in FORMATS:
            return 400, "unknown response_format", None
        if "file" not in files or not files["file"][2]:
            return 400, "no file", None
        filename, content_type, data = files["file"]
        if len(data) > self.max_bytes:
            return 413, "file too large", None
        return 200, None, Received(fields, filename, content_type, data, authorization)


Files = dict[str, tuple[str, str, bytes]]  # a form's files: (filename, type, bytes) by name


def multipart(body: bytes, boundary: bytes) -> tuple[dict[str, str], Files]:
    """A multipart/form-data body's text fields, and its files as (name, type, bytes)."""
    fields: dict[str, str] = {}
    files: Files = {}
    for part in body.split(b"--" + boundary)[1:-1]:
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = head.decode("utf-8")
        name = re.search(r'; name="([^"]*)"', headers)
        filename = re.search(r'; filename="([^"]*)"', headers)
        content_type = re.search(r"(?im)^content-type:\s*(\S+)", headers)
        if name is None:
            continue
        if filename is None:
            fields[name.group(1)] = data.decode("utf-8")
        else:
            kind = content_type.group(1) if content_type else "application/octet-stream"
            files[name.group(1)] = (filename.group(1), kind, data)
    return fields, files


def _answer(handler: BaseHTTPRequestHandler, response_format: str, spoken: Spoken) -> None:
    if response_format == "verbose_json":
        send_json(handler, 200, verbose(spoken))
    elif response_format == "json":
        send_json(handler, 200, {"text": spoken.text})
    else:  # text, srt and vtt are plain text
        data = spoken.text.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def verbose(spoken: Spoken) -> dict[str, Any]:
    """OpenAI's verbose_json: the text, the language, and one segment with its scores."""
    segment = {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": 2.0,
        "text": f" {spoken.text}",
        "tokens": [50364],
        "temperature": 0.0,
        "avg_logprob": spoken.avg_logprob,
        "compression_ratio": 1.0,
        "no_speech_prob": spoken.no_speech_prob,
    }
    return {
        "task": "transcribe",
        "language": spoken.language,
        "duration": 2.0,
        "text": spoken.text,
        "segments": [segment],
    }
