"""The models a Business names, resolved into the endpoints its agent is given: the one
that writes answers (spec.model), the one that transcribes voice notes (spec.voice) and
the one that reads photos (spec.vision). Each is a LanguageModel in the platform
namespace or an OpenAI-compatible endpoint; each gets a condition that says, in plain
words, whether it is in use and why not."""

from dataclasses import dataclass

from business_operator.kube import KubeClient
from business_operator.status import Check
from katha.api import Business, LanguageModelPhase
from katha.api.language_model import ModelTask
from katha.api.media import MediaModel
from katha.contracts.serving import LlmEndpoint

LANGUAGE_MODEL = ("katha.dev/v1alpha1", "LanguageModel")


@dataclass(frozen=True)
class Use:
    """What one of the Business's models is for, in the words its condition uses."""

    field: str  # where the spec names it
    task: ModelTask  # what the LanguageModel must serve
    purpose: str  # "Answers come from", ...
    waiting: str  # what waits while the model is not ready
    ready_reason: str


ANSWERS = Use("spec.model", ModelTask.GENERATE, "Answers come from", "answers wait", "ModelReady")
VOICE = Use(
    "spec.voice",
    ModelTask.TRANSCRIPTION,
    "Voice notes are transcribed by",
    "voice notes go to a person",
    "VoiceReady",
)
VISION = Use(
    "spec.vision",
    ModelTask.GENERATE,
    "Photos are read by",
    "photos go to a person",
    "VisionReady",
)


@dataclass(frozen=True)
class Resolved:
    """Each model's condition (None: not named) and endpoint (None: not in use)."""

    model: Check | None = None
    llm: LlmEndpoint | None = None
    voice: Check | None = None
    voice_endpoint: LlmEndpoint | None = None
    vision: Check | None = None
    vision_endpoint: LlmEndpoint | None = None


async def resolve_models(kube: KubeClient, platform_namespace: str, business: Business) -> Resolved:
    """Every model the Business names, resolved against the cluster."""
    spec = business.spec
    model, llm = await resolve_model(kube, platform_namespace, business)
    voice, voice_endpoint = await resolve_media(kube, platform_namespace, spec.voice, VOICE)
    vision, vision_endpoint = await resolve_media(kube, platform_namespace, spec.vision, VISION)
    return Resolved(model, llm, voice, voice_endpoint, vision, vision_endpoint)


async def resolve_model(
    kube: KubeClient, platform_namespace: str, business: Business
) -> tuple[Check | None, LlmEndpoint | None]:
    """The model that writes answers (ModelAvailable)."""
    model = business.spec.model
    if model is None:
        return None, None
    if model.endpoint is not None:
        endpoint = LlmEndpoint(base_url=model.endpoint.base_url, model=model.endpoint.model)
        return Check(
            True, "EndpointConfigured", f"Answers come from {model.endpoint.base_url}"
        ), endpoint
    name = str(model.language_model_ref)
    return await language_model(kube, platform_namespace, name, ANSWERS)


async def resolve_media(
    kube: KubeClient, platform_namespace: str, wanted: MediaModel | None, use: Use
) -> tuple[Check | None, LlmEndpoint | None]:
    """The model that reads voice notes or photos (VoiceReady, VisionReady)."""
    if wanted is None:
        return None, None
    if wanted.endpoint is not None:
        endpoint = LlmEndpoint(base_url=wanted.endpoint.base_url, model=wanted.endpoint.model)
        message = f"{use.purpose} {wanted.endpoint.model} at {wanted.endpoint.base_url}"
        return Check(True, "EndpointConfigured", message), endpoint
    return await language_model(kube, platform_namespace, str(wanted.language_model_ref), use)


async def language_model(
    kube: KubeClient, namespace: str, name: str, use: Use
) -> tuple[Check, LlmEndpoint | None]:
    """A LanguageModel's endpoint once it exists, serves what `use` needs and is ready."""
    found = await kube.get(*LANGUAGE_MODEL, namespace, name)
    if found is None:
        message = (
            f"LanguageModel {namespace}/{name} does not exist; apply it or fix "
            f"{use.field}.languageModelRef"
        )
        return Check(False, "ModelNotFound", message), None
    task = str((found.get("spec") or {}).get("task") or ModelTask.GENERATE.value)
    if task != use.task.value:
        return Check(False, "WrongModelTask", wrong_task(name, task, use)), None
    status = found.get("status") or {}
    if status.get("phase") != LanguageModelPhase.READY or not status.get("endpoint"):
        message = f"LanguageModel {name} is {status.get('phase', 'Pending')}; {use.waiting}"
        return Check(False, "ModelNotReady", message), None
    served = status.get("servedModelName") or name
    endpoint = LlmEndpoint(base_url=status["endpoint"], model=served)
    return Check(True, use.ready_reason, f"{use.purpose} LanguageModel {name}"), endpoint


def wrong_task(name: str, task: str, use: Use) -> str:
    """Why a LanguageModel cannot do this job, and what would."""
    if use.task is ModelTask.TRANSCRIPTION:
        return (
            f"LanguageModel {name} serves task {task}, not transcription: {use.field} needs a "
            f"speech-to-text model (a Whisper-family model with spec.task: transcription); "
            f"until then {use.waiting}"
        )
    return (
        f"LanguageModel {name} serves task {task}: it turns speech into text and cannot "
        f"write answers or read photos; name a generate model in {use.field}; until then "
        f"{use.waiting}"
    )
