"""The LanguageModel resource: one vLLM-served model on GPUs, shared by tenants."""

from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from katha.api.base import ApiModel, cel_rules
from katha.api.fields import HuggingFaceModelId, Quantity
from katha.api.meta import Condition, ObjectMeta
from katha.api.refs import SecretKeyRef

EngineArgValue = str | int | float | bool

# Engine arguments Katha sets itself from the typed fields; setting them twice is ambiguous.
RESERVED_ENGINE_ARGS = frozenset(
    {"model", "served_model_name", "tensor_parallel_size", "max_model_len", "download_dir"}
)


class Gpu(ApiModel):
    count: int = Field(default=1, ge=1, le=8, description="GPUs per replica (tensor parallel).")
    type: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][-A-Za-z0-9_.]*$",
        max_length=63,
        description="Accelerator type to schedule on, e.g. nvidia-l4 or H100.",
    )


class Replicas(ApiModel):
    model_config = cel_rules(
        ("self.min <= self.max", "replicas.min must not be above replicas.max")
    )

    min: int = Field(default=1, ge=0, le=64)
    max: int = Field(default=1, ge=1, le=64)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Self:
        if self.min > self.max:
            raise PydanticCustomError(
                "replicas",
                "min ({low}) is above max ({high})",
                {"low": self.min, "high": self.max},
            )
        return self


class ModelTask(StrEnum):
    """What a model is served for: both kinds answer OpenAI's API under the same `/v1`."""

    GENERATE = "generate"  # chat completions (a vision model such as Gemma 3 is one too)
    TRANSCRIPTION = "transcription"  # speech to text at /v1/audio/transcriptions (Whisper)


# A chat model's context when maxModelLen is left out. A transcription model keeps its own
# (Whisper's decoder holds 448 tokens: vLLM refuses to start with a longer one).
DEFAULT_MAX_MODEL_LEN = 8192


class WeightStorage(ApiModel):
    size: Quantity = Field(default="50Gi", description="Volume that caches the model weights.")
    storage_class_name: str | None = Field(default=None, min_length=1, max_length=253)


class LanguageModelSpec(ApiModel):
    model: HuggingFaceModelId = Field(description="Hugging Face model id, organisation/model.")
    task: ModelTask = Field(
        default=ModelTask.GENERATE,
        description="generate: chat completions (text, or images for a vision model); "
        "transcription: speech to text at /v1/audio/transcriptions (a Whisper-family model, "
        "for Businesses' spec.voice).",
    )
    revision: str | None = Field(default=None, min_length=1, max_length=100)
    served_model_name: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][-A-Za-z0-9_.:/]*$",
        max_length=200,
        description="Name clients ask for; defaults to the resource's name.",
    )
    gpu: Gpu = Field(default_factory=Gpu)
    max_model_len: int | None = Field(
        default=None,
        ge=256,
        le=1048576,
        description="Longest context in tokens; absent: 8192 for a generate model, the "
        "model's own for a transcription model.",
    )
    replicas: Replicas = Field(default_factory=Replicas)
    engine_args: dict[str, EngineArgValue] = Field(
        default_factory=dict, description="Extra vLLM engine arguments, snake_case."
    )
    storage: WeightStorage = Field(default_factory=WeightStorage)
    hf_token_secret_ref: SecretKeyRef | None = Field(
        default=None, description="A Hugging Face token for gated models."
    )

    @field_validator("engine_args")
    @classmethod
    def _engine_args_not_reserved(cls, value: dict[str, EngineArgValue]) -> dict[str, Any]:
        clash = sorted(RESERVED_ENGINE_ARGS & set(value))
        if clash:
            raise PydanticCustomError(
                "engine_args",
                "{names} must be set through the typed fields (model, servedModelName, gpu.count, "
                "maxModelLen, storage), not engineArgs",
                {"names": ", ".join(clash)},
            )
        return value


class LanguageModelPhase(StrEnum):
    PENDING = "Pending"
    LOADING = "Loading"
    READY = "Ready"
    DEGRADED = "Degraded"
    FAILED = "Failed"


class LanguageModelStatus(ApiModel):
    phase: LanguageModelPhase = LanguageModelPhase.PENDING
    observed_generation: int | None = Field(default=None, ge=0)
    conditions: list[Condition] = Field(default_factory=list)
    endpoint: str | None = None
    served_model_name: str | None = None
    ready_replicas: int = Field(default=0, ge=0)


class LanguageModel(ApiModel):
    """A shared model: `kubectl apply` one per model the platform serves."""

    api_version: Literal["katha.dev/v1alpha1"] = "katha.dev/v1alpha1"
    kind: Literal["LanguageModel"] = "LanguageModel"
    metadata: ObjectMeta
    spec: LanguageModelSpec
    status: LanguageModelStatus | None = None
