"""An OpenAI-compatible model server, as the agent and the ingestion pipeline reach a hosted
one: POST /v1/chat/completions (with GET /v1/models as readiness probe) and POST
/v1/embeddings, each request recorded. `ExtractiveModel` plays a small model that copies
from the facts it is given, honest or with one scripted misbehaviour."""

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np

from katha.lang import romanize
from katha.lang.script import count_letters

from .loopback import LoopbackPeer, QuietLog, send_json


@dataclass
class ChatServer(LoopbackPeer):
    """An OpenAI-compatible POST /v1/chat/completions; `reply` decides what the model says."""

    base: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    reply: Callable[[dict[str, Any]], str] = lambda request: "HANDOFF"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(QuietLog, BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # GET /v1/models: the readiness probe
                send_json(self, 200, {"object": "list", "data": [{"id": "sinhala-llm"}]})

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                state.requests.append(request)
                if self.path != "/v1/chat/completions":
                    send_json(self, 404, {"error": {"message": "not found"}})
                    return
                send_json(self, 200, completion(request, state.reply(request)))

        return Handler


def completion(request: dict[str, Any], content: str) -> dict[str, Any]:
    """A chat.completion answering `request` with `content`."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": request["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


# What a misbehaving model adds to an honest answer: each a fact no knowledge holds.
INVENTIONS = {
    "url": "See our photos: https://photos.example-share.com/mihiri-bakery",
    "phone": "Call us on 077 999 1234.",
    "email": "Write to orders@mihiri-cakes.example.",
    "price": "Special price today: Rs. 1,999.",
}
_FACT = re.compile(r"^\[(\d+|hours|now|owner|calc|W\d+)\] (?:\([^)]*\) )?", re.MULTILINE)
_ASKED = re.compile(r"Reply in (English|Sinhala|Singlish|Tamil)")
_TRANSLATE = re.compile(r"^Translate the user's message into (English|Sinhala|Singlish|Tamil)")


@dataclass
class ExtractiveModel:
    """A model that answers by copying: the first fact of the system prompt written in the
    language asked for (a Sinhala one romanised for Singlish; else the first fact), cited
    as the prompt asks, or HANDOFF without facts. It translates only Sinhala into Singlish
    (romanising) and otherwise echoes, as a weak model does. `invent` adds one made-up fact
    of a kind in INVENTIONS; `delay` (seconds, or a function of the request) plays a slow
    model: it sleeps before answering."""

    invent: str | None = None
    delay: float | Callable[[dict[str, Any]], float] = 0.0

    def __call__(self, request: dict[str, Any]) -> str:
        time.sleep(self.delay(request) if callable(self.delay) else self.delay)
        system = request["messages"][0]["content"]
        user = request["messages"][-1]["content"]
        translate = _TRANSLATE.match(system)
        if translate is not None:
            return romanize(user) if translate.group(1) == "Singlish" else user
        asked = _ASKED.search(system)
        facts = facts_of(system)
        if not facts:
            return "HANDOFF"
        language = asked.group(1) if asked else "English"
        label, text = _pick(facts, language)
        if language == "Singlish" and count_letters(text).sinhala:
            text = romanize(text)
        now = [fact for name, fact in facts if name == "now"]
        answer = " ".join([f"{text} [{label}]", *now])
        return f"{answer} {INVENTIONS[self.invent]}" if self.invent else answer


def facts_of(system: str) -> list[tuple[str, str]]:
    """(label, text) of each fact under "Facts:" in a system prompt, in order."""
    _, _, listed = system.partition("\nFacts:\n")
    starts = list(_FACT.finditer(listed))
    return [
        (start.group(1), listed[start.end() : end.start() if end else None].strip())
        for start, end in zip(starts, [*starts[1:], None], strict=True)
    ]


def _pick(facts: list[tuple[str, str]], language: str) -> tuple[str, str]:
    """The first fact (the most relevant), or a later one in the language asked for that
    states all its numbers (one of the next two, without numbers): the same fact in the
    customer's words."""
    label, text = facts[0]
    if _written(text, language):
        return label, text
    numbers = set(re.findall(r"\d+", text))
    for other_label, other in facts[1:] if numbers else facts[1:3]:
        if _written(other, language) and numbers <= set(re.findall(r"\d+", other)):
            return other_label, other
    return label, text


def _written(text: str, language: str) -> bool:
    letters = count_letters(text)
    if language in ("Sinhala", "Singlish"):
        return letters.sinhala > letters.latin
    if language == "Tamil":
        return letters.tamil > letters.latin
    return letters.latin > letters.sinhala + letters.tamil


@dataclass
class EmbeddingsApi(LoopbackPeer):
    """An OpenAI-compatible /v1/embeddings; vectors are hashed bags of words (deterministic)."""

    base: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False
    dimension: int = 64
    delay: float = 0.0  # seconds before answering, to catch a client half-way

    @property
    def embedded(self) -> list[str]:
        return [text for call in self.calls for text in call["input"]]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(QuietLog, BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                state.calls.append(request)
                if state.fail or self.path != "/v1/embeddings":
                    self.send_response(503 if state.fail else 404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                texts = request["input"]
                texts = texts if isinstance(texts, list) else [texts]
                body = json.dumps(state.embeddings(request["model"], texts)).encode()
                if len(texts) > 1:  # batches of chunks, not a single probe or query
                    time.sleep(state.delay)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed while waiting (a crash test)

        return Handler

    def embeddings(self, model: str, texts: list[str]) -> dict[str, Any]:
        data = [
            {"object": "embedding", "index": index, "embedding": bag_of_words(text, self.dimension)}
            for index, text in enumerate(texts)
        ]
        return {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        }


def bag_of_words(text: str, dimension: int) -> list[float]:
    vector = np.zeros(dimension, dtype=np.float32)
    for word in re.findall(r"\w+", text.casefold()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dimension] += 1.0
    norm = float(np.linalg.norm(vector)) or 1.0
    normalized: list[float] = (vector / norm).tolist()
    return normalized


class RefusingModel(QuietLog, BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that refuses the key, quoting it back as some do."""

    def do_GET(self) -> None:
        self._refuse()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._refuse()

    def _refuse(self) -> None:
        key = self.headers.get("Authorization", "")
        error = {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}
        body = json.dumps({"error": error}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
