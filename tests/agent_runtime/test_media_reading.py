"""The parts of reading a customer's media, each on its own: what the policy decides, how
sure a transcript is, what a vision model's line becomes, which lines of a document are
kept, how a voice note is converted, and what the agent says in each language."""

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

import openpyxl
import pytest
from audio import voice_note
from peers.transcription import Spoken, TranscriptionServer

from agent_runtime.generation.llm import DEFAULT_BUDGET_SECONDS
from agent_runtime.media.audio import (
    AudioConversionError,
    AudioTooLongError,
    as_sent,
    as_wav,
    check_length,
)
from agent_runtime.media.document import DocumentError, relevant_lines
from agent_runtime.media.policy import Action, MediaKind, Plan, plan_for
from agent_runtime.media.reader import MediaReader
from agent_runtime.media.settings import MediaSettings
from agent_runtime.media.transcription import (
    Transcriber,
    TranscriptionError,
    segments_confidence,
    transcript_of,
)
from agent_runtime.media.vision import MAX_DESCRIPTION_CHARS, one_line
from agent_runtime.metrics import AgentMetrics
from agent_runtime.phrases import _PHRASES, HEARD_MAX_CHARS, REPLY_LANGUAGES, heard
from katha.contracts.messages import InboundMessage, MessageType
from katha.contracts.serving import AGENT_READS, AgentAppArgs, LlmEndpoint
from katha.lang.script import count_letters
from katha.settings import PlaceholderSecretError
from router.settings import RouterSettings

from .bakery import bakery_spec

MEDIA_PHRASES = ("voice_note", "photo", "document", "daily_limit", "heard")
LIMIT = 1024 * 1024


def inbound(kind: str, media: dict[str, Any] | None, **fields: Any) -> InboundMessage:
    return InboundMessage.model_validate(
        {
            "message_id": "wamid.1",
            "tenant": "tenants/mihiri",
            "conversation_id": "c1",
            "type": kind,
            "timestamp": datetime.now(UTC),
            "media": media,
            **fields,
        }
    )


def plan(
    kind: str, caption: str | None = None, voice: bool = True, vision: bool = True, **media: Any
) -> Plan:
    message = inbound(kind, {"id": "m1", **media})
    return plan_for(message, caption, voice=voice, vision=vision, max_bytes=LIMIT)


OGG: dict[str, Any] = {"mime_type": "audio/ogg; codecs=opus", "content": b"OggS..."}
JPEG: dict[str, Any] = {"mime_type": "image/jpeg", "content": b"\xff\xd8..."}
PDF: dict[str, Any] = {
    "mime_type": "application/pdf",
    "filename": "order.pdf",
    "content": b"%PDF-1.4",
}


VOICE, PHOTO, DOC = MediaKind.VOICE_NOTE, MediaKind.PHOTO, MediaKind.DOCUMENT
READ, CAPTION, HAND_OVER = Action.READ, Action.CAPTION, Action.HAND_OVER
WORD_FILE: dict[str, Any] = {
    "mime_type": "application/msword",
    "filename": "a.doc",
    "content": b"x",
}
HUGE: dict[str, Any] = {"mime_type": "audio/ogg", "content": b"x" * (LIMIT + 1)}


@pytest.mark.parametrize(
    ("decided", "expected"),
    [
        (plan("audio", **OGG), Plan(READ, VOICE)),
        (plan("audio", voice=False, **OGG), Plan(HAND_OVER, VOICE, "no_model")),
        (plan("audio", mime_type="audio/ogg"), Plan(HAND_OVER, VOICE, "no_content")),
        (plan("audio", unavailable="daily_limit"), Plan(HAND_OVER, VOICE, "daily_limit")),
        (plan("audio", **HUGE), Plan(HAND_OVER, VOICE, "too_large")),
        (plan("image", **JPEG), Plan(READ, PHOTO)),
        (plan("image", "how much?", vision=False, **JPEG), Plan(CAPTION, PHOTO, "no_model")),
        (plan("image", vision=False, **JPEG), Plan(HAND_OVER, PHOTO, "no_model")),
        (plan("document", "price?", **PDF), Plan(READ, DOC)),
        (plan("document", **PDF), Plan(HAND_OVER, DOC, "no_question")),
        (plan("document", "what is this?", **WORD_FILE), Plan(CAPTION, DOC, "not_readable")),
        (plan("video", "is this yours?", mime_type="video/mp4"), Plan(CAPTION)),
        (plan("sticker", mime_type="image/webp"), Plan(Action.ASK_TO_TYPE)),
    ],
)
def test_what_is_done_with_each_kind_of_media(decided: Plan, expected: Plan) -> None:
    assert decided == expected


def test_voice_notes_reach_the_agent_which_names_its_models() -> None:
    assert MessageType.AUDIO in AGENT_READS
    endpoint = {"base_url": "http://whisper.models.svc:8000/v1", "model": "whisper-large-v3"}
    args = AgentAppArgs.model_validate(
        {"tenant": "tenants/mihiri", "business": bakery_spec(), "voice": endpoint}
    )
    assert args.voice == LlmEndpoint(**endpoint)
    assert args.vision is None


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        ([{"text": "hello", "avg_logprob": 0.0, "no_speech_prob": 0.0}], 1.0),
        ([{"text": "hello", "avg_logprob": -0.693147, "no_speech_prob": 0.0}], 0.5),
        ([{"text": "hello", "avg_logprob": 0.0, "no_speech_prob": 0.9}], 0.1),
        # weighted by length: the long sure segment outweighs the short unsure one
        (
            [
                {"text": "a long and clear sentence", "avg_logprob": 0.0},
                {"text": "uh", "avg_logprob": -5.0},
            ],
            0.9264,
        ),
        ([], None),
        ([{"text": "no scores"}, "not a segment"], None),
    ],
)
def test_a_transcript_is_as_sure_as_its_segments(
    segments: list[Any], expected: float | None
) -> None:
    assert segments_confidence(segments) == expected


def test_transcripts_are_read_from_json_and_verbose_json() -> None:
    plain = transcript_of({"text": " Do you  deliver? "})
    assert (plain.text, plain.language, plain.confidence) == ("Do you deliver?", None, None)
    verbose = transcript_of(
        {"text": "කීයද?", "language": "sinhala", "segments": [{"text": "x", "avg_logprob": 0.0}]}
    )
    assert (verbose.language, verbose.confidence) == ("si", 1.0)
    assert transcript_of({"text": "x", "language": "ta"}).language == "ta"
    assert transcript_of({"text": "x", "language": "french"}).language is None
    with pytest.raises(TranscriptionError) as refused:
        transcript_of({"error": "nope"})
    assert refused.value.reason == "invalid_response"


@pytest.fixture(scope="module")
def speech() -> Iterator[TranscriptionServer]:
    with TranscriptionServer(answer=lambda received: Spoken("Do you deliver?")).serve() as server:
        yield server


def test_a_server_answering_plain_json_gives_no_confidence(speech: TranscriptionServer) -> None:
    endpoint = LlmEndpoint(base_url=f"{speech.base}/v1/", model=speech.model)
    transcriber = Transcriber(endpoint, api_key=None, response_format="json")
    try:
        transcript = transcriber.transcribe(voice_note("en", "Do you deliver"), "audio/ogg", None)
    finally:
        transcriber.close()
    assert (transcript.text, transcript.confidence) == ("Do you deliver?", None)
    assert speech.received[-1].fields["response_format"] == "json"
    assert speech.received[-1].authorization is None  # no key: no header at all


@pytest.mark.parametrize(("previous", "sent"), [("singlish", "si"), ("ta", "ta"), (None, None)])
def test_the_conversations_language_is_a_hint_only_when_asked_for(
    speech: TranscriptionServer, previous: str | None, sent: str | None
) -> None:
    endpoint = LlmEndpoint(base_url=f"{speech.base}/v1", model=speech.model)
    settings = MediaSettings(transcription_language_hint=True)
    transcriber = Transcriber(endpoint, api_key=None)
    reader = MediaReader(settings, AgentMetrics(), transcriber=transcriber)
    note = voice_note("en", "Do you deliver")
    media = {"id": "m1", "mime_type": "audio/ogg", "content": note}
    try:
        reading = reader.read(inbound("audio", media, previous_language=previous), None)
    finally:
        reader.close()
    assert reading.question == "Do you deliver?"
    assert reading.language == "en"
    assert speech.received[-1].fields.get("language") == sent


def test_a_voice_note_converts_to_wav_and_garbage_does_not() -> None:
    sent = as_sent(b"OggS", "audio/ogg; codecs=opus")
    assert (sent.filename, sent.content_type) == ("voice.ogg", "audio/ogg")
    assert as_sent(b"ID3", "audio/mpeg").filename == "voice.mp3"
    assert as_wav(voice_note("ta", "வணக்கம்"), 60).data.startswith(b"RIFF")
    with pytest.raises(AudioConversionError):
        as_wav(b"OggS but not really an ogg file at all", 60)
    with pytest.raises(AudioConversionError):
        check_length(b"OggS but not really an ogg file at all", 60)


@pytest.mark.parametrize(
    ("said", "line"),
    [
        ("A cracked phone screen.\nIt looks like a Samsung.", "A cracked phone screen"),
        ("\n\n**[Photo]** of a *red* saree  ", "Photo of a red saree"),
        ("word " * 60, ("word " * 60)[:MAX_DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip()),
    ],
)
def test_a_vision_models_answer_becomes_one_plain_line(said: str, line: str) -> None:
    assert one_line(said) == line


def _csv(*rows: str) -> bytes:
    return "\n".join(rows).encode()


def test_the_lines_of_a_document_that_bear_on_the_question_are_kept() -> None:
    data = _csv("Item,Qty", "Fish bun,20", "Ribbon cake,1", "Candles,12", "Balloons,30")
    lines = relevant_lines(data, ".csv", "how much are the ribbon cakes?", None)
    assert len(lines) == 1
    assert "Ribbon cake" in lines[0]


def test_a_document_sharing_no_words_gives_its_first_lines() -> None:
    data = b"Party on Saturday\n\nWe need snacks.\n\nPlease call back.\n\nThanks!"
    assert relevant_lines(data, ".txt", "කීයද?", "si") == [
        "Party on Saturday",
        "We need snacks.",
        "Please call back.",
    ]


def test_a_workbook_is_read_row_by_row() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Item", "Quantity"])
    sheet.append(["Milk tea", 30])
    out = io.BytesIO()
    book.save(out)
    assert any("Milk tea" in line for line in relevant_lines(out.getvalue(), ".xlsx", "tea", None))


def test_a_document_that_is_not_what_it_says_is_refused() -> None:
    with pytest.raises(DocumentError) as refused:
        relevant_lines(b"not a pdf", ".pdf", "price?", None)
    assert refused.value.reason == "unreadable"


SINHALA, TAMIL = re.compile(r"[\u0d80-\u0dff]"), re.compile(r"[\u0b80-\u0bff]")


@pytest.mark.parametrize("key", MEDIA_PHRASES)
def test_what_the_agent_says_about_media_is_in_each_language_and_script(key: str) -> None:
    table = _PHRASES[key]
    assert set(REPLY_LANGUAGES) <= set(table)
    assert len({table[language] for language in REPLY_LANGUAGES}) == len(REPLY_LANGUAGES)
    assert SINHALA.search(table["si"])
    assert not TAMIL.search(table["si"])
    assert TAMIL.search(table["ta"])
    assert not SINHALA.search(table["ta"])
    for language in ("en", "singlish"):
        letters = count_letters(table[language])
        assert letters.sinhala == letters.tamil == 0, (key, language)


def test_a_long_note_is_said_back_by_its_beginning() -> None:
    said = heard("en", "please " * 100)
    assert said.startswith("I heard: “please please")
    assert len(said) < HEARD_MAX_CHARS + 20
    assert said.endswith("…”")


def test_a_placeholder_key_for_a_model_is_refused() -> None:
    with pytest.raises(ValueError, match="placeholder") as refused:
        MediaSettings.model_validate({"voice_api_key": "changeme"})
    assert isinstance(refused.value.errors()[0]["ctx"]["error"], PlaceholderSecretError)  # type: ignore[attr-defined]


def test_a_note_over_the_servers_limit_is_refused_by_it() -> None:
    with TranscriptionServer(max_bytes=1000).serve() as small:
        endpoint = LlmEndpoint(base_url=f"{small.base}/v1", model=small.model)
        transcriber = Transcriber(endpoint, api_key=None)
        try:
            with pytest.raises(TranscriptionError) as refused:
                transcriber.transcribe(voice_note("si", "ආයුබෝවන්"), "audio/ogg", None)
        finally:
            transcriber.close()
    assert refused.value.reason == "refused"
    assert small.refused == ["file too large"]


LONG_NOTE = "We would like to order two birthday cakes and twenty fish buns for Saturday"


def test_a_voice_note_longer_than_the_limit_is_never_sent(speech: TranscriptionServer) -> None:
    """A person listens to a long note: its length is read from the container before a
    byte goes to the speech model."""
    note = voice_note("en", LONG_NOTE)
    assert 2.0 < check_length(note, 60) < 60
    endpoint = LlmEndpoint(base_url=f"{speech.base}/v1", model=speech.model)
    metrics = AgentMetrics()
    reader = MediaReader(
        MediaSettings(max_voice_note_seconds=2),
        metrics,
        transcriber=Transcriber(endpoint, api_key=None, max_seconds=2),
    )
    sent = len(speech.received)
    try:
        reading = reader.read(
            inbound("audio", {"id": "m1", "mime_type": "audio/ogg", "content": note}), None
        )
    finally:
        reader.close()
    assert (reading.question, reading.reason) == (None, "too_long")  # the polite reply
    assert len(speech.received) == sent
    failures = metrics.metrics.registry.get_sample_value(
        "katha_agent_media_failures_total", {"kind": "voice_note", "reason": "too_long"}
    )
    assert failures == 1


def test_decoding_stops_at_the_limit_whatever_the_container_says() -> None:
    """In wav mode no more than the limit's samples are ever decoded: a note whose header
    claims a short length still stops there."""
    note = voice_note("en", LONG_NOTE)
    with pytest.raises(AudioTooLongError):
        as_wav(note, 1.0)  # decodes without asking the container


@pytest.mark.parametrize("audio", ["original", "wav"])
def test_a_crafted_voice_note_gets_the_polite_reply_not_an_error(
    speech: TranscriptionServer, audio: Literal["original", "wav"]
) -> None:
    """Bytes that only pretend to be audio are handed to a person, and never sent."""
    endpoint = LlmEndpoint(base_url=f"{speech.base}/v1", model=speech.model)
    transcriber = Transcriber(endpoint, api_key=None, audio=audio)
    reader = MediaReader(MediaSettings(), AgentMetrics(), transcriber=transcriber)
    media = {"id": "m1", "mime_type": "audio/ogg", "content": b"OggS\x00\x02" + b"\xff" * 64}
    sent = len(speech.received)
    try:
        reading = reader.read(inbound("audio", media), None)
    finally:
        reader.close()
    assert (reading.question, reading.reason) == (None, "conversion")
    assert len(speech.received) == sent


def test_the_media_timeouts_and_the_answer_budget_fit_in_the_routers_wait() -> None:
    """A voice note or a photo, then the answer, before the router gives up on the agent
    (it would retry the message and the customer would get two replies)."""
    media = MediaSettings()
    router = RouterSettings.model_fields["agent_timeout_seconds"].default
    answer = DEFAULT_BUDGET_SECONDS
    assert media.transcription_timeout_seconds + answer < router
    assert media.vision_timeout_seconds + answer < router
