"""Rendered manifests: golden files, Kubernetes and KubeRay schemas, names and security."""

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from example_tenants import example_tenant
from pydantic import SecretStr

from agent_runtime.settings import AgentSettings
from business_operator.names import child_name
from business_operator.render import (
    Model,
    Platform,
    Tenant,
    render_agent_children,
    render_language_model_children,
    render_route,
)
from business_operator.render.index import render_writer_input, render_writer_job
from katha.api import Business, LanguageModel
from katha.api.business import Template, Templates
from katha.contracts.messages import MessageType
from katha.contracts.routing import Credentials
from katha.contracts.serving import AGENT_READS

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "crds" / "examples"
GOLDEN = Path(__file__).parent / "golden"
KUBERAY_CRD = REPO_ROOT.parent / "shared" / "data" / "kuberay" / "ray.io_rayservices.yaml"
BUSINESSES = [
    "01-minimal-business",
    "02-every-source-type",
    "04-business-with-model",
    "05-business-with-postgres-memory",
    "07-business-with-voice-and-photos",
]
WORKLOADS = ["rayService", "deployment"]


def _tenant(example: str, workload: str, **changes: Any) -> Tenant:
    return example_tenant(example, workload, **changes)


def _model(example: str = "03-language-model") -> Model:
    resource = LanguageModel.model_validate(
        yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text())
    )
    return Model(
        name=resource.metadata.name,
        namespace=str(resource.metadata.namespace),
        uid="00000000-0000-0000-0000-000000000002",
        spec=resource.spec,
        platform=Platform(),
    )


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The API server prunes unknown fields silently; in tests an unknown field is an error."""
    if schema.get("type") == "object" and "properties" in schema:
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
        for child in schema["properties"].values():
            _strict(child)
    if isinstance(schema.get("items"), dict):
        _strict(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        _strict(schema["additionalProperties"])
    return schema


@pytest.fixture(scope="module")
def rayservice_schema() -> dict[str, Any]:
    crd = yaml.safe_load(KUBERAY_CRD.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    return _strict(version["schema"]["openAPIV3Schema"])


def _validate(manifest: dict[str, Any], rayservice_schema: dict[str, Any]) -> None:
    if manifest["kind"] == "RayService":
        errors = [
            f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
            for error in jsonschema.Draft7Validator(rayservice_schema).iter_errors(manifest)
        ]
        assert errors == []
    else:
        assert kubernetes_validate.validate(manifest, "1.33", strict=True) == "1.33"


def _check_golden(name: str, manifests: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump_all(manifests, sort_keys=False, allow_unicode=True, width=100)
    path = GOLDEN / f"{name}.yaml"
    if os.environ.get("KATHA_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"no golden file {path.name}: run with KATHA_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{path.name} differs: review, then KATHA_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("example", BUSINESSES)
def test_business_children_match_golden_and_schemas(
    example: str, workload: str, rayservice_schema: dict[str, Any]
) -> None:
    tenant = _tenant(example, workload)
    # The children, then one run of the index writer (the schedule starts it): its input
    # and its Job.
    run = [
        render_writer_input(tenant, "67a0f3c1"),
        render_writer_job(tenant, "67a0f3c1", "created"),
    ]
    manifests = [*render_agent_children(tenant), *run]
    for manifest in manifests:
        _validate(manifest, rayservice_schema)
    _check_golden(f"{example}-{workload}", manifests)


@pytest.mark.parametrize("example", ["03-language-model", "06-transcription-language-model"])
def test_language_model_children_match_golden_and_schemas(
    example: str, rayservice_schema: dict[str, Any]
) -> None:
    manifests = render_language_model_children(_model(example))
    for manifest in manifests:
        _validate(manifest, rayservice_schema)
    _check_golden(example, manifests)


def test_long_business_names_give_valid_distinct_stable_child_names() -> None:
    first = "ceylon-spice-kitchen-and-bakery-colombo-seven-branch-number-one"
    second = "ceylon-spice-kitchen-and-bakery-colombo-seven-branch-number-two"
    assert len(first) <= 63
    names = {child_name(owner, "agent-config") for owner in (first, second)}
    assert len(names) == 2
    for name in names:
        assert len(name) <= 63
        assert name.endswith("-agent-config")
        assert name[0].isalnum()
    assert child_name(first, "agent-config") == child_name(first, "agent-config")
    assert child_name("kandy", "agent") == "kandy-agent"


@pytest.mark.parametrize("workload", WORKLOADS)
def test_pods_run_locked_down_without_api_tokens(workload: str) -> None:
    manifests = render_agent_children(_tenant("02-every-source-type", workload))
    by_kind = {manifest["kind"]: manifest for manifest in manifests}
    assert by_kind["ServiceAccount"]["automountServiceAccountToken"] is False
    workload_object = by_kind["RayService" if workload == "rayService" else "Deployment"]
    if workload == "rayService":
        cluster = workload_object["spec"]["rayClusterConfig"]
        templates = [cluster["headGroupSpec"]["template"]]
        templates += [group["template"] for group in cluster["workerGroupSpecs"]]
    else:
        templates = [workload_object["spec"]["template"]]
    for template in templates:
        pod = template["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"] == {"drop": ["ALL"]}


def test_serve_config_carries_the_tenant_and_its_scaling() -> None:
    tenant = _tenant("02-every-source-type", "rayService")
    service = next(m for m in render_agent_children(tenant) if m["kind"] == "RayService")
    app = yaml.safe_load(service["spec"]["serveConfigV2"])["applications"][0]
    assert app["import_path"] == "agent_runtime.serve_app:build_app"
    assert app["args"]["tenant"] == "tenants/ceylon-spice"
    assert app["args"]["business"]["displayName"] == "Ceylon Spice Kitchen"
    assert app["deployments"][0]["autoscaling_config"] == {
        "min_replicas": 1,
        "max_replicas": 4,
        "target_ongoing_requests": 4,
    }
    assert app["deployments"][0]["max_ongoing_requests"] == 8  # twice the target
    workers = service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]
    assert (workers["minReplicas"], workers["maxReplicas"]) == (1, 4)


def test_the_serve_config_is_one_ray_serve_itself_accepts() -> None:
    # KubeRay hands serveConfigV2 to Serve, which refuses a misspelt field only in a cluster.
    from ray.serve.schema import ServeDeploySchema

    tenant = _tenant("02-every-source-type", "rayService")
    service = next(m for m in render_agent_children(tenant) if m["kind"] == "RayService")
    config = ServeDeploySchema.model_validate(yaml.safe_load(service["spec"]["serveConfigV2"]))
    deployment = config.applications[0].deployments[0]
    assert deployment.name == "Agent"
    assert deployment.max_ongoing_requests == 8
    assert deployment.autoscaling_config == {
        "min_replicas": 1,
        "max_replicas": 4,
        "target_ongoing_requests": 4,
    }


def _agent_containers(tenant: Tenant) -> list[dict[str, Any]]:
    """Every container that runs agent code: the RayService's head and workers, or the pod."""
    manifests = render_agent_children(tenant)
    if tenant.workload == "rayService":
        cluster = next(m for m in manifests if m["kind"] == "RayService")["spec"]
        cluster = cluster["rayClusterConfig"]
        groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
        assert len(groups) == 2
        return [c for group in groups for c in group["template"]["spec"]["containers"]]
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    return list(deployment["spec"]["template"]["spec"]["containers"])


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


@pytest.mark.parametrize("workload", WORKLOADS)
def test_without_postgres_the_agent_gets_the_default_retention_only(workload: str) -> None:
    containers = _agent_containers(_tenant("01-minimal-business", workload))
    assert containers
    for container in containers:
        env = _env(container)
        assert env["KATHA_AGENT_CONVERSATION_RETENTION_DAYS"] == {
            "name": "KATHA_AGENT_CONVERSATION_RETENTION_DAYS",
            "value": "30",
        }
        assert "KATHA_AGENT_POSTGRES_URL" not in env


@pytest.mark.parametrize("workload", WORKLOADS)
def test_postgres_url_reaches_every_agent_container_by_secret_reference(workload: str) -> None:
    containers = _agent_containers(_tenant("05-business-with-postgres-memory", workload))
    assert containers
    for container in containers:
        env = _env(container)
        assert env["KATHA_AGENT_CONVERSATION_RETENTION_DAYS"]["value"] == "90"
        assert env["KATHA_AGENT_POSTGRES_URL"] == {
            "name": "KATHA_AGENT_POSTGRES_URL",
            "valueFrom": {"secretKeyRef": {"name": "colombo-tea-house-postgres", "key": "url"}},
        }


@pytest.mark.parametrize("workload", WORKLOADS)
def test_the_agent_reads_the_memory_settings_the_operator_renders(
    workload: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kubelet's part done by hand: values as given, secretKeyRefs from a Secret."""
    secrets = {("colombo-tea-house-postgres", "url"): "postgresql://katha:s3cr3t-pw@pg:5432/k"}
    memory = Business.model_validate(
        yaml.safe_load((EXAMPLES / "05-business-with-postgres-memory.yaml").read_text())
    ).spec.memory.model_copy(update={"retention_days": 0.25})
    tenant = _tenant("05-business-with-postgres-memory", workload, memory=memory)
    for container in _agent_containers(tenant):
        for item in container["env"]:
            if "valueFrom" in item:
                ref = item["valueFrom"]["secretKeyRef"]
                monkeypatch.setenv(item["name"], secrets[ref["name"], ref["key"]])
            else:
                monkeypatch.setenv(item["name"], item["value"])
        settings = AgentSettings()
        assert settings.conversation_retention_days == 0.25
        assert settings.postgres_url is not None
        assert (
            settings.postgres_url.get_secret_value() == secrets["colombo-tea-house-postgres", "url"]
        )


@pytest.mark.parametrize("workload", WORKLOADS)
def test_rendered_objects_name_the_postgres_secret_but_hold_no_url(workload: str) -> None:
    manifests = render_agent_children(_tenant("05-business-with-postgres-memory", workload))
    text = json.dumps(manifests)
    assert "colombo-tea-house-postgres" in text
    assert "postgresql://" not in text
    assert all(m["kind"] != "Secret" for m in manifests)


def _with_keyed_services(workload: str) -> Tenant:
    """The minimal Business, answering through OpenAI with a key and searching with Tavily."""
    spec = Business.model_validate(
        yaml.safe_load((EXAMPLES / "01-minimal-business.yaml").read_text())
    ).spec.model_dump(by_alias=True, mode="json")
    spec["model"] = {
        "endpoint": {
            "baseUrl": "https://api.openai.com/v1",
            "model": "gpt-4o-mini",
            "apiKeySecretRef": {"name": "openai", "key": "api-key"},
        }
    }
    spec["webSearch"] = {
        "enabled": True,
        "provider": "tavily",
        "apiKeySecretRef": {"name": "tavily", "key": "key"},
    }
    keyed = Business.model_validate(
        {"apiVersion": "katha.dev/v1alpha1", "kind": "Business",
         "metadata": {"name": "keyed", "namespace": "tenants"}, "spec": spec}
    )  # fmt: skip
    return _tenant("01-minimal-business", workload, **dict(keyed.spec))


@pytest.mark.parametrize("workload", WORKLOADS)
def test_api_keys_reach_the_agent_by_secret_reference_and_load_into_its_settings(
    workload: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {("openai", "api-key"): "sk-test-openai-key", ("tavily", "key"): "tvly-test-key"}
    containers = _agent_containers(_with_keyed_services(workload))
    assert containers
    for container in containers:
        env = _env(container)
        assert env["KATHA_AGENT_LLM_API_KEY"]["valueFrom"] == {
            "secretKeyRef": {"name": "openai", "key": "api-key"}
        }
        assert env["KATHA_AGENT_TAVILY_API_KEY"]["valueFrom"] == {
            "secretKeyRef": {"name": "tavily", "key": "key"}
        }
        for item in container["env"]:
            if "valueFrom" in item:
                ref = item["valueFrom"]["secretKeyRef"]
                monkeypatch.setenv(item["name"], secrets[ref["name"], ref["key"]])
        settings = AgentSettings()
        assert settings.llm_api_key is not None
        assert settings.llm_api_key.get_secret_value() == "sk-test-openai-key"
        assert settings.tavily_api_key is not None
        assert settings.tavily_api_key.get_secret_value() == "tvly-test-key"


@pytest.mark.parametrize("workload", WORKLOADS)
def test_without_keys_no_key_variables_are_rendered(workload: str) -> None:
    for container in _agent_containers(_tenant("02-every-source-type", workload)):
        env = _env(container)
        assert "KATHA_AGENT_LLM_API_KEY" not in env
        assert "KATHA_AGENT_TAVILY_API_KEY" not in env


CREDENTIALS = Credentials(
    access_token=SecretStr("EAAG-test-token"),
    app_secret=SecretStr("app-secret-0123456789"),
    verify_token=SecretStr("verify-token-0123456789"),
)


def test_the_route_tells_the_router_every_type_the_agent_reads() -> None:
    route = render_route(_tenant("01-minimal-business", "deployment"), CREDENTIALS)
    assert route.accepts == list(AGENT_READS)
    assert MessageType.IMAGE in route.accepts  # a captioned photo reaches the agent


def test_the_route_carries_the_account_templates_and_names_the_router_sends_with() -> None:
    """Account-wide webhooks name only the account; templates need the names filled in."""
    example = _tenant("02-every-source-type", "deployment")
    templates = Templates(
        handoff_notice=Template(name="owner_handoff", languages=["en"]),
        reopen=Template(name="reopen_chat", languages=["si", "en"], category="MARKETING"),
    )
    whatsapp = example.spec.whatsapp.model_copy(update={"templates": templates})
    route = render_route(
        _tenant("02-every-source-type", "deployment", whatsapp=whatsapp), CREDENTIALS
    )
    assert route.business_account_id == "102290129340398"
    assert route.templates == templates
    assert route.display_name == "Ceylon Spice Kitchen"
    assert route.assistant_name == "Nila"
    plain = render_route(_tenant("01-minimal-business", "deployment"), CREDENTIALS)
    assert plain.business_account_id is None
    assert plain.templates == Templates()
    assert plain.assistant_name == "Katha"  # the persona's default name
