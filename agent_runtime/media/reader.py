"""From a customer's voice note, photo or document to words the graph can answer, or to the
reason a person should look instead; counted per kind and outcome, never logged in words."""

import os
import time
from dataclasses import dataclass

from agent_runtime.languages import customer_language
from agent_runtime.media.document import document_suffix, relevant_lines
from agent_runtime.media.errors import MediaReadError
from agent_runtime.media.policy import Action, MediaKind, Plan, plan_after, plan_for
from agent_runtime.media.settings import MediaSettings
from agent_runtime.media.transcription import Transcriber, TranscriptionError
from agent_runtime.media.vision import Describer
from agent_runtime.metrics import AgentMetrics
from katha.contracts.messages import InboundMessage, Media
from katha.contracts.serving import AgentAppArgs, LlmEndpoint
from katha.lang import normalize
from katha.observability import get_logger
from katha.settings import Secret

log = get_logger("agent")
_OUTCOMES = {
    MediaKind.VOICE_NOTE: "transcribed",
    MediaKind.PHOTO: "described",
    MediaKind.DOCUMENT: "read",
}


@dataclass(frozen=True)
class Reading:
    """What came of one media message."""

    kind: MediaKind | None
    question: str | None  # the words to answer; None: a person looks, or the customer types
    reason: str | None = None  # why the media itself was not read
    heard: str | None = None  # a transcript heard with low confidence: said back first
    # The customer's language, decided before anything was folded in: the caption's, else
    # the conversation's (a photo alone), or the transcript's; the graph answers in it.
    # None: the question is the customer's own words, detected as any message.
    language: str | None = None


class MediaReader:
    def __init__(
        self,
        settings: MediaSettings,
        metrics: AgentMetrics,
        *,
        transcriber: Transcriber | None = None,
        describer: Describer | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.transcriber = transcriber
        self.describer = describer

    def read(self, message: InboundMessage, caption: str | None) -> Reading:
        plan = plan_for(
            message,
            caption,
            voice=self.transcriber is not None,
            vision=self.describer is not None,
            max_bytes=self.settings.max_media_bytes,
        )
        kind = plan.kind
        if plan.action is Action.READ and kind is not None and message.media is not None:
            try:
                reading = self._read(kind, message, message.media, caption)
            except MediaReadError as error:
                log.warning("media.unread", kind=kind.value, reason=error.reason)
                plan = plan_after(kind, error.reason, caption)
            # Whatever else a crafted file provokes is the customer's media failing, not
            # the agent: an HTTP 500 would trip the shop's circuit breaker in the router.
            except Exception as error:  # logged by its type only, answered politely
                log.warning(
                    "media.unread", kind=kind.value, reason="error", error=type(error).__name__
                )
                plan = plan_after(kind, "error", caption)
            else:
                self._count(kind, _OUTCOMES[kind])
                return reading
        return self._not_read(plan, caption)

    def close(self) -> None:
        for client in (self.transcriber, self.describer):
            if client is not None:
                client.close()

    def _read(
        self, kind: MediaKind, message: InboundMessage, media: Media, caption: str | None
    ) -> Reading:
        content = media.content or b""
        log.info("media.reading", kind=kind.value, bytes=len(content), mime_type=media.mime_type)
        if kind is MediaKind.VOICE_NOTE and self.transcriber is not None:
            return self._transcribe(self.transcriber, message, media.mime_type, content)
        if kind is MediaKind.PHOTO and self.describer is not None:
            started = time.perf_counter()
            try:
                description = self.describer.describe(content, media.mime_type)
            finally:
                self.metrics.vision_seconds.observe(time.perf_counter() - started)
            language = caption_language(caption, message.previous_language)
            return Reading(kind, _folded("photo", [description], caption), language=language)
        if kind is MediaKind.DOCUMENT:
            suffix = document_suffix(media) or ".txt"
            lines = relevant_lines(content, suffix, caption or "", message.previous_language)
            language = caption_language(caption, message.previous_language)
            return Reading(kind, _folded("document", lines, caption), language=language)
        raise MediaReadError("no_model", kind.value)

    def _transcribe(
        self,
        transcriber: Transcriber,
        message: InboundMessage,
        mime_type: str | None,
        content: bytes,
    ) -> Reading:
        hint = message.previous_language if self.settings.transcription_language_hint else None
        started = time.perf_counter()
        try:
            transcript = transcriber.transcribe(content, mime_type, _speech(hint))
        finally:
            self.metrics.transcription_seconds.observe(time.perf_counter() - started)
        text = transcript.text.strip()
        if not text:
            raise TranscriptionError("no_speech", "an empty transcript")
        # Whisper's own guess from the audio outranks the conversation's for a short note.
        language, _ = customer_language(
            normalize(text), transcript.language or message.previous_language
        )
        low = (
            transcript.confidence is not None
            and transcript.confidence < self.settings.transcription_low_confidence
        )
        log.info("media.transcribed", language=language, confidence=transcript.confidence)
        return Reading(MediaKind.VOICE_NOTE, text, heard=text if low else None, language=language)

    def _not_read(self, plan: Plan, caption: str | None) -> Reading:
        kind = plan.kind.value if plan.kind is not None else "other"
        if plan.reason is not None:
            self.metrics.media_failures.labels(kind, plan.reason).inc()
        outcome = {
            Action.CAPTION: "caption",
            Action.HAND_OVER: "handed_over",
            Action.ASK_TO_TYPE: "asked_to_type",
        }[plan.action]
        self._count(plan.kind, outcome)
        question = caption if plan.action is Action.CAPTION else None
        return Reading(plan.kind, question, reason=plan.reason)

    def _count(self, kind: MediaKind | None, outcome: str) -> None:
        self.metrics.media.labels(kind.value if kind else "other", outcome).inc()


def caption_language(caption: str | None, previous: str | None) -> str | None:
    """The customer's language for media folded with a caption: the caption's alone (the
    folded lines are the document's or the vision model's, not the customer's), else the
    conversation's; None when neither says (the folded question is detected as it is)."""
    if caption and caption.strip():
        language, _ = customer_language(normalize(caption), previous)
        if language != "unknown":
            return language
    return previous


def _folded(label: str, found: list[str], caption: str | None) -> str:
    """What the media showed folded into the customer's words: "[photo: ...] how much?"."""
    return f"[{label}: {'; '.join(found)}] {caption or ''}".strip()


_SPOKEN = {"en": "en", "si": "si", "singlish": "si", "mixed": "si", "ta": "ta", "tanglish": "ta"}


def _speech(language: str | None) -> str | None:
    """The conversation's language as a speech model knows it (Singlish is spoken Sinhala)."""
    return _SPOKEN.get(language or "")


def media_reader(args: AgentAppArgs, settings: MediaSettings, metrics: AgentMetrics) -> MediaReader:
    """The reader with the models the Business names (none: media goes to a person)."""
    transcriber = describer = None
    if args.voice is not None:
        transcriber = Transcriber(
            args.voice,
            api_key=_api_key(args.voice, settings.voice_api_key),
            audio=settings.transcription_audio,
            response_format=settings.transcription_response_format,
            timeout_seconds=settings.transcription_timeout_seconds,
            max_seconds=settings.max_voice_note_seconds,
        )
    if args.vision is not None:
        describer = Describer(
            args.vision,
            api_key=_api_key(args.vision, settings.vision_api_key),
            timeout_seconds=settings.vision_timeout_seconds,
        )
    return MediaReader(settings, metrics, transcriber=transcriber, describer=describer)


def _api_key(endpoint: LlmEndpoint, fallback: Secret | None) -> str | None:
    """The key from the variable the endpoint names, else the agent's setting for it."""
    key = os.environ.get(endpoint.api_key_env) if endpoint.api_key_env else None
    if key is None and fallback is not None:
        key = fallback.get_secret_value()
    return key
