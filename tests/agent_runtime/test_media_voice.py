"""Voice notes: real speech (espeak-ng in Sinhala, Tamil and English, encoded to OGG/Opus as
WhatsApp sends it) posted to the agent as the router does, with the bytes in `media.content`.
A loopback OpenAI-compatible transcription server checks the upload and answers a scripted
transcript; the agent answers it from the bakery's knowledge in the customer's language, and
without a model (or without the bytes) says politely that a person will listen."""

import io
import wave
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from audio import voice_note
from fastapi.testclient import TestClient
from peers.transcription import Received, Spoken, TranscriptionServer

from agent_runtime.agent import Agent
from agent_runtime.api.app import create_app
from agent_runtime.phrases import phrase
from katha.api.business import Persona
from katha.contracts.messages import InboundMessage, Media, MessageType

from .bakery import bakery_spec
from .conftest import BAKERY

KEY = "sk-voice-test-0001"
# What each voice note says, and the bakery's fact that answers it.
SAID = {
    "si": ("පාන් ගෙඩියක් කීයද?", "sinhala", "220"),
    "ta": ("கடை எத்தனை மணிக்கு திறக்கும்?", "tamil", "6.30"),
    "en": ("Do you deliver?", "english", "250"),
}
NILA = Persona(name="Nila")
MakeAgent = Callable[..., Agent]


@pytest.fixture(scope="module")
def notes() -> dict[str, bytes]:
    return {
        language: voice_note(language, said.rstrip("?")) for language, (said, _, _) in SAID.items()
    }


@pytest.fixture(scope="module")
def speech() -> Iterator[TranscriptionServer]:
    with TranscriptionServer(api_key=KEY).serve() as server:
        yield server


@pytest.fixture
def heard(speech: TranscriptionServer, notes: dict[str, bytes]) -> TranscriptionServer:
    """The server, scripted to hear each note as what it says, with these scores."""
    by_bytes = {data: language for language, data in notes.items()}

    def answer(received: Received) -> Spoken:
        said, name, _ = SAID[by_bytes[received.data]]
        return Spoken(said, name)

    speech.answer, speech.delay = answer, 0.0
    speech.received.clear()
    speech.refused.clear()
    return speech


def endpoint(server: TranscriptionServer) -> dict[str, Any]:
    return {"voice": {"base_url": f"{server.base}/v1", "model": server.model}}


def post(
    agent: Agent, media: dict[str, Any], *, conversation: str, **fields: Any
) -> dict[str, Any]:
    """A voice note as the router posts it: the bytes base64url-encoded in the JSON."""
    message = InboundMessage(
        message_id=f"wamid.{conversation}",
        tenant=BAKERY,
        conversation_id=conversation,
        type=MessageType.AUDIO,
        timestamp=datetime.now(UTC),
        media=Media.model_validate(media),
        **fields,
    )
    client = TestClient(create_app(agent))
    response = client.post(
        "/v1/messages",
        content=message.model_dump_json(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def voice(data: bytes | None, **fields: Any) -> dict[str, Any]:
    media = {"id": "1479537139650973", "mime_type": "audio/ogg; codecs=opus", "voice": True}
    if data is not None:
        media |= {"content": data, "size": len(data)}
    return media | fields


def counted(agent: Agent, name: str, **labels: str) -> float:
    value = agent.metrics.metrics.registry.get_sample_value(f"katha_agent_{name}", labels)
    return value or 0.0


@pytest.fixture(scope="module")
def listening(make: MakeAgent, speech: TranscriptionServer) -> Agent:
    """The bakery with a speech model; the key comes from the agent's setting."""
    return make(media={"voice_api_key": KEY}, **endpoint(speech))


@pytest.mark.parametrize("language", ["si", "ta", "en"])
def test_a_voice_note_is_transcribed_and_answered_in_the_language_spoken(
    listening: Agent, heard: TranscriptionServer, notes: dict[str, bytes], language: str
) -> None:
    fact = SAID[language][2]
    reply = post(listening, voice(notes[language]), conversation=f"voice-{language}")

    assert fact in reply["text"], reply
    assert reply["language"] == language
    assert not reply["handoff"]
    assert not reply["text"].startswith(phrase("voice_note", language, NILA, "x")[:8])
    [received] = heard.received
    assert received.data == notes[language]  # the OGG/Opus bytes as WhatsApp sent them
    assert received.data.startswith(b"OggS")
    assert (received.filename, received.content_type) == ("voice.ogg", "audio/ogg")
    assert received.fields["model"] == "whisper-large-v3"
    assert received.fields["response_format"] == "verbose_json"
    assert "language" not in received.fields  # the model hears the language itself
    assert received.authorization == f"Bearer {KEY}"
    assert counted(listening, "media_total", kind="voice_note", outcome="transcribed") >= 1
    assert counted(listening, "transcription_seconds_count") >= 1


def test_the_transcript_is_kept_as_the_customers_turn(
    listening: Agent, heard: TranscriptionServer, notes: dict[str, bytes]
) -> None:
    post(listening, voice(notes["si"]), conversation="kept")
    state = listening.graph.get_state({"configurable": {"thread_id": "kept"}})
    turns = [(turn.role, turn.text, turn.language) for turn in state.values["history"]]
    assert turns[0] == ("customer", SAID["si"][0], "si")
    assert turns[1][0] == "agent"


def test_a_note_heard_with_low_confidence_is_said_back_before_the_answer(
    listening: Agent, heard: TranscriptionServer, notes: dict[str, bytes]
) -> None:
    heard.answer = lambda received: Spoken(SAID["si"][0], "sinhala", avg_logprob=-1.6)
    reply = post(listening, voice(notes["si"]), conversation="unsure")

    first, _, rest = reply["text"].partition("\n")
    assert first == f"මට ඇසුණේ: “{SAID['si'][0]}”"
    assert "220" in rest
    assert reply["language"] == "si"


def test_a_sure_transcript_is_answered_without_being_said_back(
    listening: Agent, heard: TranscriptionServer, notes: dict[str, bytes]
) -> None:
    reply = post(listening, voice(notes["en"]), conversation="sure")
    assert not reply["text"].startswith("I heard")


def test_a_server_that_reads_only_pcm_gets_16_khz_mono_wav(
    make: MakeAgent, heard: TranscriptionServer, notes: dict[str, bytes]
) -> None:
    agent = make(media={"voice_api_key": KEY, "transcription_audio": "wav"}, **endpoint(heard))
    heard.answer = lambda received: Spoken(SAID["en"][0])
    reply = post(agent, voice(notes["en"]), conversation="wav")

    assert "250" in reply["text"]
    [received] = heard.received
    assert (received.filename, received.content_type) == ("voice.wav", "audio/wav")
    with wave.open(io.BytesIO(received.data)) as sound:
        assert (sound.getframerate(), sound.getnchannels(), sound.getsampwidth()) == (16000, 1, 2)
        assert sound.getnframes() > 16000  # over a second of speech, not an empty file


@pytest.mark.parametrize(
    ("previous", "text"),
    [
        ("si", "ඔබේ හඬ පණිවිඩයට ස්තූතියි."),
        ("ta", "உங்கள் குரல் செய்திக்கு நன்றி."),
        ("en", "Thank you for your voice note."),
        (None, "Thank you for your voice note."),
    ],
)
def test_without_a_speech_model_a_person_will_listen(
    make: MakeAgent, notes: dict[str, bytes], previous: str | None, text: str
) -> None:
    agent = make()
    reply = post(agent, voice(notes["si"]), conversation="deaf", previous_language=previous)

    assert reply["text"].startswith(text)
    assert "Mihiri Bakery" in reply["text"]
    assert reply["handoff"]
    assert reply["handoff_reason"] == "voice_note"
    assert reply["language"] == (previous or "en")
    assert counted(agent, "media_total", kind="voice_note", outcome="handed_over") == 1
    assert counted(agent, "media_failures_total", kind="voice_note", reason="no_model") == 1
    assert counted(agent, "handoffs_total", reason="voice_note") == 1


def test_a_tamil_reader_of_a_sinhala_shop_is_told_in_english(
    make: MakeAgent, notes: dict[str, bytes]
) -> None:
    spec = bakery_spec(persona={"name": "Nila", "languages": ["si"]})
    agent = make(business=spec)
    reply = post(agent, voice(notes["ta"]), conversation="ta-in-si", previous_language="ta")
    assert reply["language"] == "en"
    assert reply["text"].startswith("Thank you for your voice note.")


@pytest.mark.parametrize(
    ("unavailable", "start"),
    [
        ("download_failed", "ඔබේ හඬ පණිවිඩයට ස්තූතියි."),
        ("too_large", "ඔබේ හඬ පණිවිඩයට ස්තූතියි."),
        ("daily_limit", "ස්තූතියි. අද තවත් හඬ පණිවිඩ"),
    ],
)
def test_a_note_the_router_could_not_fetch_goes_to_a_person(
    listening: Agent, heard: TranscriptionServer, unavailable: str, start: str
) -> None:
    media = voice(None, unavailable=unavailable)
    reply = post(listening, media, conversation=f"none-{unavailable}", previous_language="si")

    assert reply["text"].startswith(start)
    assert reply["handoff_reason"] == "voice_note"
    assert heard.received == []  # nothing to transcribe
    assert counted(listening, "media_failures_total", kind="voice_note", reason=unavailable) >= 1


def test_a_slow_speech_model_gets_the_polite_reply_instead(
    make: MakeAgent, heard: TranscriptionServer, notes: dict[str, bytes]
) -> None:
    settings = {"voice_api_key": KEY, "transcription_timeout_seconds": 0.2}
    agent = make(media=settings, **endpoint(heard))
    heard.delay = 2.0
    reply = post(agent, voice(notes["ta"]), conversation="slow", previous_language="ta")

    assert reply["text"].startswith("உங்கள் குரல் செய்திக்கு நன்றி.")
    assert reply["handoff_reason"] == "voice_note"
    assert counted(agent, "media_failures_total", kind="voice_note", reason="timeout") == 1
    assert counted(agent, "transcription_seconds_count") == 1


def test_a_refused_key_gets_the_polite_reply_and_the_key_is_never_logged(
    make: MakeAgent,
    heard: TranscriptionServer,
    notes: dict[str, bytes],
    capsys: pytest.CaptureFixture[str],
) -> None:
    agent = make(media={"voice_api_key": "sk-wrong-key-0002"}, **endpoint(heard))
    reply = post(agent, voice(notes["en"]), conversation="refused")

    assert reply["handoff_reason"] == "voice_note"
    assert heard.refused == ["Incorrect API key provided"]
    assert counted(agent, "media_failures_total", kind="voice_note", reason="refused") == 1
    logged = capsys.readouterr()
    assert "sk-wrong-key" not in logged.out + logged.err
    assert SAID["en"][0] not in logged.out + logged.err  # nor what was said


def test_nothing_heard_goes_to_a_person(
    listening: Agent, heard: TranscriptionServer, notes: dict[str, bytes]
) -> None:
    heard.answer = lambda received: Spoken("  ", "english", no_speech_prob=0.97)
    reply = post(listening, voice(notes["en"]), conversation="silence")
    assert reply["handoff_reason"] == "voice_note"
    assert counted(listening, "media_failures_total", kind="voice_note", reason="no_speech") >= 1
