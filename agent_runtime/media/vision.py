"""A customer's photo in one short English line, from any OpenAI-compatible chat endpoint
whose model reads images (Gemma 3, Qwen2.5-VL, GPT-4o): the photo travels as an image part
with a data URL, so the model server never fetches anything itself.

English because the line is folded into the customer's question for retrieval, as a
caption would be: the question's own words keep its language.
"""

import base64
import re
from typing import Any

import httpx

from agent_runtime.media.errors import MediaReadError
from katha.contracts.serving import LlmEndpoint

DESCRIBE_PROMPT = (
    "You help a shop assistant read photos that customers send on WhatsApp. Say what the "
    "photo shows in one short English line of at most 15 words: the product, its kind, "
    "brand, size, colour, damage or any words printed on it. No greeting, no price, no advice."
)
MAX_DESCRIPTION_CHARS = 160
_NOT_IN_A_LINE = re.compile(r"[\[\]{}<>\"“”`*#_]")


class VisionError(MediaReadError):
    """The photo could not be described; `reason` labels the failure metric."""


class Describer:
    def __init__(
        self, endpoint: LlmEndpoint, *, api_key: str | None, timeout_seconds: float = 30.0
    ) -> None:
        self._url = endpoint.base_url.rstrip("/") + "/chat/completions"
        self._model = endpoint.model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=timeout_seconds)

    def describe(self, data: bytes, mime_type: str | None) -> str:
        """One short English line saying what the photo shows."""
        try:
            response = self._client.post(self._url, json=self.request(data, mime_type))
        except httpx.TimeoutException as error:
            raise VisionError("timeout", type(error).__name__) from error
        except httpx.HTTPError as error:
            raise VisionError("unreachable", type(error).__name__) from error
        if response.status_code != httpx.codes.OK:
            raise VisionError("refused", f"HTTP {response.status_code}")
        try:
            description = one_line(_content(response.json()))
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise VisionError("invalid_response", type(error).__name__) from error
        if not description:
            raise VisionError("empty", "no description")
        return description

    def request(self, data: bytes, mime_type: str | None) -> dict[str, Any]:
        """The chat completion request: the prompt, and the photo as a data URL."""
        kind = (mime_type or "image/jpeg").split(";")[0].strip().lower()
        url = f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
        parts = [
            {"type": "text", "text": "What does this photo show?"},
            {"type": "image_url", "image_url": {"url": url}},
        ]
        return {
            "model": self._model,
            "messages": [
                {"role": "system", "content": DESCRIBE_PROMPT},
                {"role": "user", "content": parts},
            ],
            "temperature": 0.0,
            "max_tokens": 60,
        }

    def close(self) -> None:
        self._client.close()


def _content(body: Any) -> str:
    content = body["choices"][0]["message"]["content"]
    if isinstance(content, list):  # some servers answer in parts, as they are asked
        content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    if not isinstance(content, str):
        raise TypeError("content is not text")
    return content


def one_line(text: str) -> str:
    """The first line, without brackets or markup that would break the folded question,
    cut at a word within MAX_DESCRIPTION_CHARS."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = " ".join(_NOT_IN_A_LINE.sub(" ", line).split()).rstrip(" .")
    if len(line) > MAX_DESCRIPTION_CHARS:
        line = line[:MAX_DESCRIPTION_CHARS].rsplit(" ", 1)[0]
    return line
