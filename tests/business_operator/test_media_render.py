"""What the operator renders for voice notes and photos: the transcription LanguageModel's
Serve config, the agent's voice and vision args and API keys, the router's daily caps, and
the same args from `katha up` on one machine."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from example_tenants import example_tenant
from pydantic import SecretStr

from agent_runtime.media.settings import MediaSettings
from business_operator.grants import secret_uses
from business_operator.render import Model, Platform, Tenant, render_agent_children, render_route
from business_operator.render.language_model import llm_config
from katha.api import Business, LanguageModel
from katha.api.media import MediaEndpoint, Vision, Voice
from katha.api.refs import SecretKeyRef
from katha.contracts.routing import Credentials
from katha.contracts.serving import AgentAppArgs, LlmEndpoint
from katha_cli.local.ray_agents import app_args as local_app_args
from katha_cli.local.ray_agents import media_endpoint
from katha_cli.local.router_process import route as local_route
from katha_cli.local.summary import media_lines
from katha_cli.local.workspace import LocalTenant

EXAMPLES = Path(__file__).resolve().parents[2] / "crds" / "examples"
VOICE_EXAMPLE = "07-business-with-voice-and-photos"
CREDENTIALS = Credentials(
    access_token=SecretStr("EAAG-test-token"),
    app_secret=SecretStr("app-secret-0123456789"),
    verify_token=SecretStr("verify-token-0123456789"),
)
WHISPER = LlmEndpoint(
    base_url="http://whisper-large-v3-llm-serve-svc.katha-system.svc:8000/v1",
    model="whisper-large-v3",
)
OPENAI_VOICE = Voice(
    endpoint=MediaEndpoint(
        base_url="https://api.openai.com/v1",
        model="whisper-1",
        api_key_secret_ref=SecretKeyRef(name="openai", key="apiKey"),
    ),
    daily_limit=40,
)
GEMINI_VISION = Vision(
    endpoint=MediaEndpoint(
        base_url="https://generativelanguage.googleapis.com/v1beta/openai",
        model="gemma-3-27b-it",
        api_key_secret_ref=SecretKeyRef(name="google", key="key"),
    )
)


def _model(example: str, **changes: Any) -> Model:
    resource = LanguageModel.model_validate(
        yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text())
    )
    return Model(
        name=resource.metadata.name,
        namespace=str(resource.metadata.namespace),
        uid="00000000-0000-0000-0000-000000000003",
        spec=resource.spec.model_copy(update=changes),
        platform=Platform(),
    )


def test_a_transcription_model_keeps_its_own_context_and_a_chat_model_gets_8192() -> None:
    whisper = llm_config(_model("06-transcription-language-model"))
    assert whisper["model_loading_config"] == {
        "model_id": "whisper-large-v3",
        "model_source": "openai/whisper-large-v3",
    }
    # vLLM refuses a context longer than Whisper's 448 tokens: none is set for it.
    assert "max_model_len" not in whisper["engine_kwargs"]
    told = llm_config(_model("06-transcription-language-model", max_model_len=448))
    assert told["engine_kwargs"]["max_model_len"] == 448
    gemma = llm_config(_model("03-language-model", max_model_len=None))
    assert gemma["engine_kwargs"]["max_model_len"] == 8192


def _serve_args(tenant: Tenant) -> dict[str, Any]:
    config_map = next(m for m in render_agent_children(tenant) if m["kind"] == "ConfigMap")
    args: dict[str, Any] = json.loads(config_map["data"]["app-args.json"])
    return args


@pytest.mark.parametrize("workload", ["rayService", "deployment"])
def test_resolved_voice_and_vision_models_reach_the_agents_args(workload: str) -> None:
    tenant = example_tenant(VOICE_EXAMPLE, workload)
    resolved = dataclasses.replace(tenant, voice=WHISPER, vision=WHISPER)
    args = AgentAppArgs.model_validate(_serve_args(resolved))  # as build_app reads them
    assert args.voice == WHISPER
    assert args.vision == WHISPER
    assert args.business.voice is not None
    assert args.business.voice.language_model_ref == "whisper-large-v3"
    unresolved = AgentAppArgs.model_validate(_serve_args(tenant))  # not ready: a person
    assert (unresolved.voice, unresolved.vision) == (None, None)


def _containers(tenant: Tenant) -> list[dict[str, Any]]:
    """Every container that runs agent code: the RayService's head and workers, or the pod."""
    containers: list[dict[str, Any]] = []
    for manifest in render_agent_children(tenant):
        if manifest["kind"] == "Deployment":
            containers += manifest["spec"]["template"]["spec"]["containers"]
        if manifest["kind"] == "RayService":
            cluster = manifest["spec"]["rayClusterConfig"]
            for group in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]:
                containers += group["template"]["spec"]["containers"]
    return containers


@pytest.mark.parametrize("workload", ["rayService", "deployment"])
def test_media_api_keys_reach_the_agent_by_secret_reference_and_load_into_its_settings(
    workload: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = example_tenant(VOICE_EXAMPLE, workload, voice=OPENAI_VOICE, vision=GEMINI_VISION)
    secrets = {("openai", "apiKey"): "sk-test-voice", ("google", "key"): "g-test-vision"}
    containers = _containers(tenant)
    assert containers
    for container in containers:
        env = {item["name"]: item for item in container["env"]}
        assert env["KATHA_AGENT_VOICE_API_KEY"]["valueFrom"] == {
            "secretKeyRef": {"name": "openai", "key": "apiKey"}
        }
        for item in container["env"]:
            if "valueFrom" in item and "secretKeyRef" in item["valueFrom"]:
                ref = item["valueFrom"]["secretKeyRef"]
                monkeypatch.setenv(item["name"], secrets[ref["name"], ref["key"]])
        settings = MediaSettings()
        assert settings.voice_api_key is not None
        assert settings.voice_api_key.get_secret_value() == "sk-test-voice"
        assert settings.vision_api_key is not None
        assert settings.vision_api_key.get_secret_value() == "g-test-vision"
    text = json.dumps(render_agent_children(tenant))
    assert "sk-test-voice" not in text
    plain = example_tenant("01-minimal-business", workload)
    for container in _containers(plain):
        names = {item["name"] for item in container["env"]}
        assert not names & {"KATHA_AGENT_VOICE_API_KEY", "KATHA_AGENT_VISION_API_KEY"}


def test_the_route_caps_what_the_gpu_models_read_per_day() -> None:
    route = render_route(example_tenant(VOICE_EXAMPLE, "deployment"), CREDENTIALS)
    assert route.media_daily_limits == {"audio": 300, "image": 100}
    voice_only = example_tenant(VOICE_EXAMPLE, "deployment", vision=None)
    assert render_route(voice_only, CREDENTIALS).media_daily_limits == {"audio": 300}
    # Without models the router's own default applies.
    plain = render_route(example_tenant("01-minimal-business", "deployment"), CREDENTIALS)
    assert plain.media_daily_limits == {}


def _local(spec_changes: dict[str, Any], tmp_path: Path) -> LocalTenant:
    manifest = yaml.safe_load((EXAMPLES / f"{VOICE_EXAMPLE}.yaml").read_text())
    manifest["spec"].update(spec_changes)
    business = Business.model_validate(manifest)
    return LocalTenant(business, tmp_path / "business.yaml", CREDENTIALS, "test", live=False)


def test_katha_up_gives_the_agent_the_same_endpoint_voice_and_vision(tmp_path: Path) -> None:
    tenant = _local(
        {
            "voice": OPENAI_VOICE.to_yaml_dict(),
            "vision": {"languageModelRef": "gemma-3-4b", "dailyLimit": 25},
        },
        tmp_path,
    )
    args = local_app_args(tenant, tmp_path / "state", None)
    assert args.voice == LlmEndpoint(
        base_url="https://api.openai.com/v1",
        model="whisper-1",
        api_key_env="OPENAI_API_KEY",  # the Secret `openai`, key `apiKey`, as a .env name
    )
    assert args.vision is None  # a LanguageModel needs a GPU cluster: a person looks
    assert media_endpoint(None) is None
    route = local_route(tenant, "http://127.0.0.1:8000")
    assert route.media_daily_limits == {"audio": 40, "image": 25}
    assert media_lines(tenant) == [
        "  voice notes   whisper-1 at https://api.openai.com/v1, at most 40 a day",
        "  photos        a person (LanguageModel gemma-3-4b needs a GPU cluster), at most 25 a day",
    ]


def test_the_voice_and_vision_keys_are_secrets_the_business_must_be_granted() -> None:
    spec = example_tenant(VOICE_EXAMPLE, "deployment", voice=OPENAI_VOICE, vision=GEMINI_VISION)
    uses = {(use.name, use.field) for use in secret_uses(spec.spec)}
    assert ("openai", "spec.voice.endpoint.apiKeySecretRef") in uses
    assert ("google", "spec.vision.endpoint.apiKeySecretRef") in uses
