"""Speech to text through any OpenAI-compatible `POST {base}/audio/transcriptions` (OpenAI,
vLLM serving a Whisper-family model, faster-whisper servers), with a confidence.

The confidence comes from `verbose_json`'s segments: how sure the model was of its words
(the exponent of `avg_logprob`) times how sure it was that someone spoke at all
(1 - `no_speech_prob`), weighted by each segment's length. A server that answers plain
`json` gives no confidence, and the transcript is taken as heard.
"""

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from agent_runtime.media.audio import (
    AudioConversionError,
    AudioTooLongError,
    Upload,
    as_sent,
    as_wav,
    check_length,
)
from agent_runtime.media.errors import MediaReadError
from katha.contracts.serving import LlmEndpoint

# Whisper names the language it heard in English ("sinhala"); some servers give the code.
_LANGUAGES = {"english": "en", "sinhala": "si", "tamil": "ta", "en": "en", "si": "si", "ta": "ta"}


class TranscriptionError(MediaReadError):
    """The voice note could not be transcribed; `reason` labels the failure metric."""


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None  # "en", "si" or "ta" when the model said so
    confidence: float | None  # 0..1; None when the server gives no segments


class Transcriber:
    def __init__(
        self,
        endpoint: LlmEndpoint,
        *,
        api_key: str | None,
        audio: Literal["original", "wav"] = "original",
        response_format: Literal["verbose_json", "json"] = "verbose_json",
        timeout_seconds: float = 15.0,
        max_seconds: float = 300.0,
    ) -> None:
        self._url = endpoint.base_url.rstrip("/") + "/audio/transcriptions"
        self._model = endpoint.model
        self._audio = audio
        self._format = response_format
        self._timeout = timeout_seconds
        self._max_seconds = max_seconds
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # No retries: the customer is waiting, and the polite reply is ready at once.
        self._client = httpx.Client(headers=headers, timeout=timeout_seconds)

    def transcribe(self, data: bytes, mime_type: str | None, language: str | None) -> Transcript:
        """The words of a voice note; `language` ("si", "ta", "en") is passed on as a hint.
        Checking and converting the note and the request share `timeout_seconds`: the
        request gets what the conversion left."""
        started = time.monotonic()
        upload = self._upload(data, mime_type)
        left = self._timeout - (time.monotonic() - started)
        if left <= 0:
            raise TranscriptionError("timeout", "the conversion took the time")
        form = {"model": self._model, "response_format": self._format}
        if language is not None:
            form["language"] = language
        files = {"file": (upload.filename, upload.data, upload.content_type)}
        try:
            response = self._client.post(self._url, data=form, files=files, timeout=left)
        except httpx.TimeoutException as error:
            raise TranscriptionError("timeout", type(error).__name__) from error
        except httpx.HTTPError as error:
            raise TranscriptionError("unreachable", type(error).__name__) from error
        if response.status_code != httpx.codes.OK:
            raise TranscriptionError("refused", f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise TranscriptionError("invalid_response", "not JSON") from error
        return transcript_of(body)

    def close(self) -> None:
        self._client.close()

    def _upload(self, data: bytes, mime_type: str | None) -> Upload:
        """The note as sent, once its length is known to be within `max_seconds`."""
        try:
            check_length(data, self._max_seconds)
            if self._audio == "original":
                return as_sent(data, mime_type)
            return as_wav(data, self._max_seconds)
        except AudioTooLongError as error:
            raise TranscriptionError("too_long", str(error)) from error
        except AudioConversionError as error:
            raise TranscriptionError("conversion", str(error)) from error


def transcript_of(body: Any) -> Transcript:
    """A `json` or `verbose_json` transcription response, read defensively."""
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise TranscriptionError("invalid_response", "no text")
    language = body.get("language")
    code = _LANGUAGES.get(language.strip().lower()) if isinstance(language, str) else None
    segments = body.get("segments")
    confidence = segments_confidence(segments) if isinstance(segments, list) else None
    return Transcript(" ".join(body["text"].split()), code, confidence)


def segments_confidence(segments: list[Any]) -> float | None:
    """The length-weighted confidence of the segments (None without usable ones)."""
    total = weight = 0.0
    for segment in segments:
        if not isinstance(segment, dict):
            continue
        logprob, no_speech = segment.get("avg_logprob"), segment.get("no_speech_prob", 0.0)
        if not isinstance(logprob, int | float) or not isinstance(no_speech, int | float):
            continue
        share = max(len(str(segment.get("text", "")).strip()), 1)
        sure = math.exp(min(float(logprob), 0.0)) * (1.0 - min(max(float(no_speech), 0.0), 1.0))
        total += sure * share
        weight += share
    return round(total / weight, 4) if weight else None
