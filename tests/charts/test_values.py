"""values.schema.json and the templates refuse mistakes at install time, with a message that says
what to change; accepted values reach the components as their KATHA_* settings."""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from katha_chart import CHART, NAMESPACE, HelmError, Manifest, env_of, one

from business_operator.settings import OperatorSettings
from router.settings import RouterSettings

RenderWith = Callable[[dict[str, Any]], list[Manifest]]


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"router": {"replicas": -1}}, "/router/replicas"),
        ({"router": {"replicas": "two"}}, "/router/replicas"),
        ({"routers": {"replicas": 2}}, "additional properties 'routers' not allowed"),
        ({"router": {"replica": 2}}, "additional properties 'replica' not allowed"),
        ({"router": {"config": {"agentTimeoutSecs": 5}}}, "'agentTimeoutSecs' not allowed"),
        ({"router": {"config": {"agentTimeoutSeconds": 0}}}, "/router/config/agentTimeoutSeconds"),
        ({"router": {"inbox": {"redis": {"url": "http://redis:6379"}}}}, "/router/inbox/redis/url"),
        ({"operator": {"watchNamespaces": ["Shops"]}}, "/operator/watchNamespaces/0"),
        ({"operator": {"logLevel": "verbose"}}, "/operator/logLevel"),
        ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
        ({"router": {"ingress": {"hosts": [{"host": "a.lk"}]}}}, "missing property 'paths'"),
    ],
)
def test_schema_rejects_mistakes(
    values: dict[str, Any], complaint: str, render_with: RenderWith
) -> None:
    with pytest.raises(HelmError, match="values don't meet the specifications") as error:
        render_with(values)
    assert complaint in str(error.value)


@pytest.mark.parametrize(
    "router",
    [{"replicas": 2}, {"autoscaling": {"enabled": True}}],
)
def test_more_than_one_router_needs_redis_not_sqlite(
    router: dict[str, Any], render_with: RenderWith
) -> None:
    with pytest.raises(HelmError, match=r"needs a shared inbox: set router\.inbox\.redis\.url"):
        render_with({"router": router})


def test_redis_is_given_once(render_with: RenderWith) -> None:
    redis = {"url": "redis://redis:6379/0", "existingSecret": {"name": "redis"}}
    with pytest.raises(HelmError, match=r"either url or existingSecret\.name"):
        render_with({"router": {"inbox": {"redis": redis}}})


def test_router_reads_the_routing_table_inbox_and_secrets_from_the_platform_namespace(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    manifests = rendered("default")
    router = one(manifests, "Deployment", "katha-router")
    container = router["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["python", "-m", "router"]
    env = env_of(router)
    assert env["KATHA_ROUTER_NAMESPACE"] == NAMESPACE
    assert env["KATHA_ROUTER_ROUTES_SECRET"] == "katha-routes"
    assert env["KATHA_ROUTER_INBOX_URL"] == "sqlite:///var/lib/katha/inbox.db"
    assert env["KATHA_ROUTER_LOG_FORMAT"] == "json"
    assert env["KATHA_ROUTER_AGENT_TIMEOUT_SECONDS"] == "30"
    assert env["KATHA_ROUTER_GRAPH_API_URL"] == "https://graph.facebook.com/v23.0"
    secret = one(manifests, "Secret", "katha-router-secrets")
    for variable, key in [
        ("KATHA_ROUTER_PSEUDONYM_KEY", "pseudonymKey"),
        ("KATHA_ROUTER_ADMIN_TOKEN", "adminToken"),
    ]:
        assert env[variable] == {"secretKeyRef": {"name": "katha-router-secrets", "key": key}}
        assert len(secret["data"][key]) >= 48, "generated, long enough to be a real secret"
    assert secret["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    probes = {
        probe: container[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes == {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert mounts["/var/lib/katha"] == "inbox"


def test_ha_router_takes_the_redis_url_from_a_secret(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    env = env_of(one(rendered("ha-redis"), "Deployment", "katha-router"))
    assert env["KATHA_ROUTER_INBOX_URL"] == {"secretKeyRef": {"name": "katha-redis", "key": "url"}}


def test_a_redis_url_given_in_values_is_kept_in_a_secret_not_in_the_pod_spec(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    manifests = rendered("network-policies")
    env = env_of(one(manifests, "Deployment", "katha-router"))
    reference = {"secretKeyRef": {"name": "katha-router-redis", "key": "url"}}
    assert env["KATHA_ROUTER_INBOX_URL"] == reference
    secret = one(manifests, "Secret", "katha-router-redis")
    assert secret["stringData"] == {"url": "redis://redis.katha-system.svc:6379/0"}


def test_existing_router_secret_is_used_instead_of_a_generated_one(
    render_with: RenderWith,
) -> None:
    manifests = render_with({"router": {"secrets": {"existingSecret": "my-router-keys"}}})
    assert not [m for m in manifests if m["kind"] == "Secret"]
    env = env_of(one(manifests, "Deployment", "katha-router"))
    assert env["KATHA_ROUTER_ADMIN_TOKEN"]["secretKeyRef"]["name"] == "my-router-keys"


def test_operator_settings_name_the_platform_the_image_and_the_router_pods(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    manifests = rendered("default")
    operator = one(manifests, "Deployment", "katha-operator")
    assert operator["spec"]["replicas"] == 1
    assert operator["spec"]["strategy"] == {"type": "Recreate"}
    container = operator["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:5] == ["kopf", "run", "-m", "business_operator.main", "--standalone"]
    assert "--liveness=http://0.0.0.0:8080/healthz" in container["args"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    env = env_of(operator)
    assert env["KATHA_OPERATOR_PLATFORM_NAMESPACE"] == NAMESPACE
    assert env["KATHA_OPERATOR_IMAGE"] == container["image"] == "ghcr.io/katha-dev/katha:0.1.0"
    assert env["KATHA_OPERATOR_LOG_FORMAT"] == "json"
    assert env["KATHA_OPERATOR_RECONCILE_INTERVAL_SECONDS"] == "60"
    assert json.loads(env["KATHA_OPERATOR_GPU_NODE_SELECTOR"]) == {}
    router_pods = one(manifests, "Deployment", "katha-router")["spec"]["template"]["metadata"]
    router_labels = json.loads(env["KATHA_OPERATOR_ROUTER_LABELS"])
    assert router_labels["app.kubernetes.io/component"] == "router"
    assert router_labels.items() <= router_pods["labels"].items(), (
        "agents' NetworkPolicies admit pods with these labels: they must be the router's"
    )


def test_agents_can_run_another_image_than_the_platform(render_with: RenderWith) -> None:
    values = {
        "image": {"tag": "0.2.0"},
        "operator": {"agentImage": {"repository": "registry.lk/katha-gpu"}},
    }
    env = env_of(one(render_with(values), "Deployment", "katha-operator"))
    assert env["KATHA_OPERATOR_IMAGE"] == "registry.lk/katha-gpu:0.2.0"


def test_sqlite_inbox_without_persistence_uses_an_empty_dir(render_with: RenderWith) -> None:
    values = {"router": {"inbox": {"persistence": {"enabled": False}}}}
    manifests = render_with(values)
    assert not [m for m in manifests if m["kind"] == "PersistentVolumeClaim"]
    router = one(manifests, "Deployment", "katha-router")
    volumes = {v["name"]: v for v in router["spec"]["template"]["spec"]["volumes"]}
    assert volumes["inbox"] == {"name": "inbox", "emptyDir": {}}


SAMPLE_SECRETS = {
    "pseudonymKey": "a-pseudonym-key-of-48-characters-000000000000000",
    "adminToken": "an-admin-token-of-48-characters-0000000000000000",
    "url": "redis://redis.katha-system.svc:6379/0",
    # The store's URL: CloudNativePG's app Secret, or the platform team's (name/key).
    "uri": "postgresql://katha:a-password@katha-store-rw.katha-system:5432/katha",
    "katha-store/url": "postgresql://katha:a-password@postgres.db.svc:5432/katha",
}


def settings_env(env: dict[str, Any], prefix: str, fields: set[str]) -> dict[str, str]:
    """The component's environment as the pod would see it, checking each name is a setting."""
    resolved: dict[str, str] = {}
    for name, value in env.items():
        assert name.startswith(prefix), f"{name} is not a {prefix}* setting"
        field = name.removeprefix(prefix).lower()
        assert field in fields, f"{name} sets nothing: the settings have no field {field!r}"
        if isinstance(value, dict):
            ref = value["secretKeyRef"]
            sample = SAMPLE_SECRETS.get(
                f"{ref['name']}/{ref['key']}", SAMPLE_SECRETS.get(ref["key"])
            )
            assert sample is not None, f"{name}: no sample for Secret {ref}"
            resolved[name] = sample
        else:
            resolved[name] = value
    return resolved


@pytest.mark.parametrize(
    "scenario",
    [
        "default",
        "namespaced",
        "ha-redis",
        "network-policies",
        "store-cloudnativepg",
        "store-external",
    ],
)
def test_router_accepts_the_environment_the_chart_gives_it(
    scenario: str,
    rendered: Callable[[str], list[Manifest]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = env_of(one(rendered(scenario), "Deployment", "katha-router"))
    for name, value in settings_env(env, "KATHA_ROUTER_", set(RouterSettings.model_fields)).items():
        monkeypatch.setenv(name, value)
    settings = RouterSettings()
    assert settings.namespace == NAMESPACE
    assert settings.port == 8080
    assert settings.pseudonym_key is not None
    assert settings.admin_token is not None


@pytest.mark.parametrize("scenario", ["default", "namespaced"])
def test_operator_accepts_the_environment_the_chart_gives_it(
    scenario: str,
    rendered: Callable[[str], list[Manifest]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = env_of(one(rendered(scenario), "Deployment", "katha-operator"))
    fields = set(OperatorSettings.model_fields)
    for name, value in settings_env(env, "KATHA_OPERATOR_", fields).items():
        monkeypatch.setenv(name, value)
    settings = OperatorSettings()
    assert settings.platform_namespace == NAMESPACE
    assert settings.router_labels["app.kubernetes.io/component"] == "router"
    assert settings.liveness_port == 8080


def test_every_router_setting_the_schema_accepts_is_a_router_setting() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    accepted = schema["properties"]["router"]["properties"]["config"]["properties"]
    snake = {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower() for key in accepted}
    assert snake <= set(RouterSettings.model_fields), snake - set(RouterSettings.model_fields)


def test_numbers_reach_the_router_as_it_parses_them(
    render_with: RenderWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {
        "maxBodyBytes": 4 * 1024 * 1024,
        "handoffTimeoutSeconds": 14 * 86400,
        "idlePollSeconds": 0.05,
    }
    env = env_of(one(render_with({"router": {"config": config}}), "Deployment", "katha-router"))
    assert env["KATHA_ROUTER_MAX_BODY_BYTES"] == "4194304", "not 4.194304e+06"
    assert env["KATHA_ROUTER_HANDOFF_TIMEOUT_SECONDS"] == "1209600"
    assert env["KATHA_ROUTER_IDLE_POLL_SECONDS"] == "0.05"
    for name, value in settings_env(env, "KATHA_ROUTER_", set(RouterSettings.model_fields)).items():
        monkeypatch.setenv(name, value)
    settings = RouterSettings()
    assert settings.max_body_bytes == 4 * 1024 * 1024
    assert settings.idle_poll_seconds == 0.05
