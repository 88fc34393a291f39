"""How the agent reads customers' media, from KATHA_AGENT_* environment variables.

Kept apart from AgentSettings: the models themselves come from the Serve args
(`AgentAppArgs.voice`, `.vision`); these say how to talk to them.
"""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from katha.settings import ComponentSettings, Secret


class MediaSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_AGENT_")

    voice_api_key: Secret | None = Field(
        default=None,
        description="API key for the transcription endpoint, when `voice.apiKeyEnv` names none.",
    )
    vision_api_key: Secret | None = Field(
        default=None,
        description="API key for the vision endpoint, when `vision.apiKeyEnv` names none.",
    )
    transcription_audio: Literal["original", "wav"] = Field(
        default="original",
        description="What the transcription endpoint is sent: the voice note as WhatsApp "
        "sent it (OGG/Opus; OpenAI and vLLM read it), or 16 kHz mono WAV for servers that "
        "read only PCM.",
    )
    transcription_response_format: Literal["verbose_json", "json"] = Field(
        default="verbose_json",
        description="verbose_json gives segments and so a confidence; json for servers "
        "that offer nothing else.",
    )
    transcription_language_hint: bool = Field(
        default=False,
        description="Tell the speech model the conversation's language (Sinhala, Tamil or "
        "English) instead of letting it detect the language from the audio.",
    )
    transcription_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="How long a voice note may take: checking and converting it first, "
        "then the request gets what is left, as its limit for connecting, sending and each "
        "wait for the answer; past it the customer gets the polite reply. It and the "
        "answer's own budget (the Business's `model.answerBudgetSeconds`, 6 s by "
        "default) must stay below the router's KATHA_ROUTER_AGENT_TIMEOUT_SECONDS (30 s "
        "by default), or the router gives up on the message first and retries it.",
    )
    max_voice_note_seconds: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="Longer voice notes are not transcribed: a person listens instead. "
        "Checked on the note's container before anything is sent, and decoding for "
        "`transcription_audio: wav` stops here whatever the container claimed.",
    )
    transcription_low_confidence: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Below this confidence the reply starts with what was heard, so the "
        "customer can correct it.",
    )
    vision_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="How long describing a photo may take (the request's limit for "
        "connecting, sending and each wait for the answer); past it the caption alone is "
        "answered, or a person looks. A message holds one photo or one voice note, never "
        "both, so this and the answer's budget, like `transcription_timeout_seconds`, must "
        "stay below the router's KATHA_ROUTER_AGENT_TIMEOUT_SECONDS (30 s by default).",
    )
    max_media_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1024,
        description="The largest voice note, photo or document read (OpenAI's transcription "
        "limit is 25 MB; the router's own limits are usually lower).",
    )
