"""Reconcile one LanguageModel into a RayService running Ray Serve LLM on GPUs."""

from typing import Any

from business_operator.kube import KubeClient
from business_operator.render import Model, Platform, render_language_model_children
from katha.api import LanguageModel, LanguageModelPhase
from katha.api.language_model import ModelTask


def _ready(rayservice: dict[str, Any]) -> bool:
    status = rayservice.get("status") or {}
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return ready or status.get("serviceStatus") == "Running"


async def reconcile(kube: KubeClient, platform: Platform, body: dict[str, Any]) -> dict[str, Any]:
    """Apply the model's children and return its status block."""
    resource = LanguageModel.model_validate(body)
    model = Model(
        name=resource.metadata.name,
        namespace=resource.metadata.namespace or "default",
        uid=str(resource.metadata.uid),
        spec=resource.spec,
        platform=platform,
    )
    applied: dict[str, Any] = {}
    for child in render_language_model_children(model):
        applied = await kube.apply(child)
    ready = _ready(applied)
    phase = LanguageModelPhase.READY if ready else LanguageModelPhase.LOADING
    task = "" if resource.spec.task is ModelTask.GENERATE else f" for {resource.spec.task.value}"
    message = (
        f"Serving {resource.spec.model} as {model.served_name}{task}"
        if ready
        else f"KubeRay is starting {resource.spec.model} on {resource.spec.gpu.count} GPU(s)"
    )
    return {
        "phase": phase.value,
        "observedGeneration": resource.metadata.generation,
        "endpoint": model.endpoint,
        "servedModelName": model.served_name,
        "conditions": [
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                "reason": "ModelServing" if ready else "ModelLoading",
                "message": message,
                "observedGeneration": resource.metadata.generation,
            }
        ],
    }
