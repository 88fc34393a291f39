"""Which models read a customer's voice notes and photos (a Business's spec.voice and
spec.vision), and how many of them a day may go to a GPU."""

from typing import Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from katha.api.base import ApiModel, cel_rules
from katha.api.fields import DnsLabel, HttpUrl
from katha.api.refs import SecretKeyRef

# A GPU reads every voice note and photo: a day's worth is capped per Business so that
# one busy (or abused) number cannot take the shared model from every other tenant.
DEFAULT_DAILY_LIMIT = 200
MAX_DAILY_LIMIT = 100_000


class MediaEndpoint(ApiModel):
    """Any OpenAI-compatible server (vLLM, OpenAI, ...) and the model's name there."""

    base_url: HttpUrl = Field(description="The API base, e.g. https://api.openai.com/v1")
    model: str = Field(min_length=1, max_length=200)
    api_key_secret_ref: SecretKeyRef | None = Field(
        default=None, description="The API key, from a Secret granted to this Business."
    )


class MediaModel(ApiModel):
    """A LanguageModel in the platform namespace, or an endpoint: exactly one."""

    model_config = cel_rules(
        (
            "has(self.languageModelRef) != has(self.endpoint)",
            "set exactly one of languageModelRef or endpoint",
        ),
    )

    language_model_ref: DnsLabel | None = Field(
        default=None, description="A LanguageModel in the platform namespace."
    )
    endpoint: MediaEndpoint | None = None
    daily_limit: int = Field(
        default=DEFAULT_DAILY_LIMIT,
        ge=1,
        le=MAX_DAILY_LIMIT,
        description="How many a day (UTC) the router fetches for the model to read; past it "
        "the customer is told a person will look, and the owner sees it in the console.",
    )

    @model_validator(mode="after")
    def _one_backend(self) -> Self:
        if self.language_model_ref is not None and self.endpoint is not None:
            raise PydanticCustomError(
                "media_backend", "set either languageModelRef or endpoint, not both"
            )
        if self.language_model_ref is None and self.endpoint is None:
            raise PydanticCustomError(
                "media_backend",
                "set languageModelRef or endpoint (leave the field out and a person "
                "listens or looks instead)",
            )
        return self


class Voice(MediaModel):
    """Speech to text for voice notes: a LanguageModel with `task: transcription`, or any
    endpoint serving OpenAI's `POST /audio/transcriptions` (vLLM with Whisper, OpenAI)."""


class Vision(MediaModel):
    """A model that reads photos: a generate LanguageModel that takes images (Gemma 3 and
    similar), or any OpenAI-compatible chat endpoint that accepts image_url parts."""
