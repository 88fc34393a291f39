"""A Business's voice and vision models, resolved by the real Kopf operator: a transcription
LanguageModel reaches the agent once it serves, a chat model named for voice notes is
refused in plain words, and the router's daily caps come with the route."""

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from kube_api import PLATFORM_NAMESPACE, Api, credentials_secret, eventually

BUSINESS = "kandy-bakehouse"


def _condition(api: Api, namespace: str, kind: str, name: str = BUSINESS) -> dict[str, Any]:
    business = api.get("Business", namespace, name) or {}
    for item in (business.get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return dict(item)
    return {}


def _args(api: Api, namespace: str) -> dict[str, Any]:
    config = api.get("ConfigMap", namespace, f"{BUSINESS}-agent-config") or {}
    args: dict[str, Any] = json.loads((config.get("data") or {}).get("app-args.json") or "{}")
    return args


@pytest.fixture
def language_models(api: Api) -> Iterator[Callable[[str], str]]:
    """LanguageModels in the platform namespace, named apart from every other test's."""
    made: list[str] = []

    def make(task: str) -> str:
        name = f"{task[:5]}-{uuid.uuid4().hex[:6]}"
        spec = {"model": "openai/whisper-small", "task": task, "gpu": {"type": "nvidia-l4"}}
        metadata = {"name": name, "namespace": PLATFORM_NAMESPACE}
        api.create({"apiVersion": "katha.dev/v1alpha1", "kind": "LanguageModel",
                    "metadata": metadata, "spec": spec})  # fmt: skip
        made.append(name)
        return name

    yield make
    for name in made:
        api.delete("LanguageModel", PLATFORM_NAMESPACE, name)


def _api_key_secret(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "vision-key",
            "namespace": namespace,
            "labels": {"katha.dev/business": BUSINESS},
        },
        "data": {"key": base64.b64encode(b"test-vision-key").decode()},
    }


def test_voice_reaches_the_agent_once_its_transcription_model_serves(
    api: Api,
    namespace: str,
    business_manifest: Callable[..., dict[str, Any]],
    language_models: Callable[[str], str],
) -> None:
    whisper = language_models("transcription")
    service = eventually(lambda: api.get("RayService", PLATFORM_NAMESPACE, f"{whisper}-llm"))
    serve = yaml.safe_load(service["spec"]["serveConfigV2"])["applications"][0]
    engine = serve["args"]["llm_configs"][0]["engine_kwargs"]
    assert "max_model_len" not in engine  # Whisper keeps its own 448 tokens
    api.create(credentials_secret(namespace, f"{BUSINESS}-whatsapp"))
    api.create(_api_key_secret(namespace))
    vision = {
        "endpoint": {
            "baseUrl": "https://vision.example.lk/v1",
            "model": "gemma-3-27b-it",
            "apiKeySecretRef": {"name": "vision-key", "key": "key"},
        },
        "dailyLimit": 20,
    }
    voice = {"languageModelRef": whisper, "dailyLimit": 50}
    api.create(business_manifest(namespace, voice=voice, vision=vision))

    waiting = eventually(lambda: _condition(api, namespace, "VoiceReady"))
    assert (waiting["status"], waiting["reason"]) == ("False", "ModelNotReady")
    assert "voice notes go to a person" in waiting["message"]
    assert _condition(api, namespace, "VisionReady")["status"] == "True"
    assert "voice" not in _args(api, namespace)  # not yet: the customer hears of a person
    route = eventually(lambda: api.route(namespace, BUSINESS))
    assert route["media_daily_limits"] == {"audio": 50, "image": 20}

    # KubeRay says the model serves: the LanguageModel is Ready, and the agent gets it.
    running = {"serviceStatus": "Running"}
    api.patch_status("RayService", PLATFORM_NAMESPACE, f"{whisper}-llm", running)
    eventually(lambda: _condition(api, namespace, "VoiceReady").get("status") == "True")
    served = api.get("LanguageModel", PLATFORM_NAMESPACE, whisper)["status"]
    assert served["conditions"][0]["message"].endswith(f"as {whisper} for transcription")
    assert _condition(api, namespace, "VoiceReady")["reason"] == "VoiceReady"
    args = eventually(lambda: _args(api, namespace).get("voice") and _args(api, namespace))
    assert args["voice"] == {
        "base_url": f"http://{whisper}-llm-serve-svc.{PLATFORM_NAMESPACE}.svc:8000/v1",
        "model": whisper,
    }
    assert args["vision"] == {"base_url": "https://vision.example.lk/v1", "model": "gemma-3-27b-it"}
    agent = api.get("RayService", namespace, f"{BUSINESS}-agent")
    head = agent["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]
    env = {item["name"]: item for item in head["containers"][0]["env"]}
    assert env["KATHA_AGENT_VISION_API_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "vision-key", "key": "key"}
    }


def test_a_model_that_cannot_do_the_job_is_refused_in_plain_words(
    api: Api,
    namespace: str,
    business_manifest: Callable[..., dict[str, Any]],
    language_models: Callable[[str], str],
) -> None:
    chat = language_models("generate")
    whisper = language_models("transcription")
    api.create(credentials_secret(namespace, f"{BUSINESS}-whatsapp"))
    api.create(
        business_manifest(
            namespace, voice={"languageModelRef": chat}, model={"languageModelRef": whisper}
        )
    )
    voice = eventually(lambda: _condition(api, namespace, "VoiceReady"))
    assert (voice["status"], voice["reason"]) == ("False", "WrongModelTask")
    assert f"LanguageModel {chat} serves task generate, not transcription" in voice["message"]
    assert "spec.voice" in voice["message"]
    answers = eventually(lambda: _condition(api, namespace, "ModelAvailable"))
    assert (answers["status"], answers["reason"]) == ("False", "WrongModelTask")
    assert "cannot write answers" in answers["message"]
    business = api.get("Business", namespace, BUSINESS)
    assert business["status"]["phase"] == "Degraded"
    assert "voice" not in _args(api, namespace)
