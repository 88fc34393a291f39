"""The owner console in the chart: off unless asked for (and then only beside the store), run
with the router's security posture, given the store's URL from the router's Secret
reference, the router's own admin token, a session secret kept across upgrades, and the
settings `console.settings.ConsoleSettings` reads. Its Kubernetes rights:
test_console_businesses.py."""

from collections.abc import Callable
from typing import Any

import pytest
from katha_chart import CONSOLE_SCENARIOS, HelmError, Manifest, env_of, one

from console.settings import ConsoleSettings

RenderWith = Callable[[dict[str, Any]], list[Manifest]]
Rendered = Callable[[str], list[Manifest]]
ROOT = [{"path": "/", "pathType": "Prefix"}]
STORE = {"enabled": True, "urlSecretRef": {"name": "katha-store", "key": "url"}}
# What the Secrets hold, by (name, key), for building the settings the pod would see.
SAMPLES = {
    ("katha-store", "url"): "postgresql://katha:a-password@postgres.db.svc:5432/katha",
    ("katha-store-app", "uri"): "postgresql://katha:a-password@katha-store-rw:5432/katha",
    ("katha-router-secrets", "adminToken"): "an-admin-token-of-48-characters-0000000000000000",
    ("katha-console-secrets", "sessionSecret"): "a-session-secret-of-48-characters-0000000000000",
    ("katha-console-oidc", "clientSecret"): "an-oidc-client-secret",
}


def console_objects(manifests: list[Manifest]) -> list[str]:
    return [
        f"{m['kind']}/{m['metadata']['name']}"
        for m in manifests
        if m["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "console"
    ]


def console_pod(manifests: list[Manifest]) -> dict[str, Any]:
    spec: dict[str, Any] = one(manifests, "Deployment", "katha-console")["spec"]["template"]
    return spec


def secret_ref(name: str, key: str) -> dict[str, Any]:
    return {"secretKeyRef": {"name": name, "key": key}}


@pytest.mark.parametrize("scenario", ["default", "store-external", "store-cloudnativepg"])
def test_without_console_enabled_nothing_of_it_is_rendered(
    scenario: str, rendered: Rendered
) -> None:
    assert console_objects(rendered(scenario)) == []


@pytest.mark.parametrize("scenario", CONSOLE_SCENARIOS)
def test_console_runs_with_the_routers_security_posture(scenario: str, rendered: Rendered) -> None:
    manifests = rendered(scenario)
    router = one(manifests, "Deployment", "katha-router")["spec"]["template"]["spec"]
    pod = console_pod(manifests)["spec"]
    # The token is for Businesses (test_console_businesses.py); the account mounts none.
    assert pod["automountServiceAccountToken"] is True
    assert pod["serviceAccountName"] == "katha-console"
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"] == router["securityContext"]
    (container,) = pod["containers"]
    assert container["args"] == ["python", "-m", "console"]
    assert container["image"] == router["containers"][0]["image"]
    assert container["securityContext"] == router["containers"][0]["securityContext"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}
    assert container["ports"] == [
        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9102, "protocol": "TCP"},
    ]
    probes = {
        name: container[name]["httpGet"]["path"] for name in ("livenessProbe", "readinessProbe")
    }
    assert probes == {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    account = one(manifests, "ServiceAccount", "katha-console")
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize(
    ("scenario", "store_url"),
    [
        ("console", secret_ref("katha-store", "url")),
        ("console-cloudnativepg", secret_ref("katha-store-app", "uri")),
    ],
)
def test_console_shares_the_store_url_and_the_admin_token_with_the_router(
    scenario: str, store_url: dict[str, Any], rendered: Rendered
) -> None:
    manifests = rendered(scenario)
    router = env_of(one(manifests, "Deployment", "katha-router"))
    console = env_of(one(manifests, "Deployment", "katha-console"))
    assert console["KATHA_CONSOLE_STORE_URL"] == router["KATHA_ROUTER_STORE_URL"] == store_url
    # One token: the console presents exactly what the router checks.
    token = secret_ref("katha-router-secrets", "adminToken")
    assert (
        console["KATHA_CONSOLE_ROUTER_ADMIN_TOKEN"] == router["KATHA_ROUTER_ADMIN_TOKEN"] == token
    )
    assert console["KATHA_CONSOLE_SESSION_SECRET"] == secret_ref(
        "katha-console-secrets", "sessionSecret"
    )
    service = one(manifests, "Service", "katha-router")
    assert (
        console["KATHA_CONSOLE_ROUTER_URL"]
        == f"http://katha-router:{service['spec']['ports'][0]['port']}"
    )
    assert console["KATHA_CONSOLE_PORT"] == "8080"


def test_an_existing_router_secret_gives_both_the_same_admin_token(
    render_with: RenderWith,
) -> None:
    values = {
        "store": STORE,
        "console": {"enabled": True},
        "router": {"secrets": {"existingSecret": "platform-router-keys"}},
    }
    manifests = render_with(values)
    router = env_of(one(manifests, "Deployment", "katha-router"))
    console = env_of(one(manifests, "Deployment", "katha-console"))
    token = secret_ref("platform-router-keys", "adminToken")
    assert (
        console["KATHA_CONSOLE_ROUTER_ADMIN_TOKEN"] == router["KATHA_ROUTER_ADMIN_TOKEN"] == token
    )
    secrets = [m["metadata"]["name"] for m in manifests if m["kind"] == "Secret"]
    assert secrets == ["katha-console-secrets"], "the router's is the platform team's"


def test_session_secret_is_generated_once_or_taken_from_console_existing_secret(
    rendered: Rendered, render_with: RenderWith
) -> None:
    secret = one(rendered("console"), "Secret", "katha-console-secrets")
    assert set(secret["data"]) == {"sessionSecret"}, "no copy of the admin token"
    assert len(secret["data"]["sessionSecret"]) >= 48
    manifests = render_with(
        {"store": STORE, "console": {"enabled": True, "existingSecret": "console-keys"}}
    )
    assert not [
        m for m in manifests if m["kind"] == "Secret" and "console" in m["metadata"]["name"]
    ]
    env = env_of(one(manifests, "Deployment", "katha-console"))
    assert env["KATHA_CONSOLE_SESSION_SECRET"] == secret_ref("console-keys", "sessionSecret")


def settings_of(console: Manifest, monkeypatch: pytest.MonkeyPatch) -> ConsoleSettings:
    """ConsoleSettings built from the pod's environment, Secrets resolved to samples; every
    variable must be a setting the console reads."""
    fields = set(ConsoleSettings.model_fields)
    for name, value in env_of(console).items():
        assert name.startswith("KATHA_CONSOLE_"), name
        assert name.removeprefix("KATHA_CONSOLE_").lower() in fields, f"{name} sets nothing"
        if isinstance(value, dict):
            ref = value["secretKeyRef"]
            value = SAMPLES[(ref["name"], ref["key"])]
        monkeypatch.setenv(name, value)
    return ConsoleSettings()


def test_console_accepts_the_environment_the_chart_gives_it(
    rendered: Rendered, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(one(rendered("console"), "Deployment", "katha-console"), monkeypatch)
    assert settings.port == 8080
    assert settings.public_url == "https://console.katha.lk"
    assert settings.router_url == "http://katha-router:80"
    assert settings.secure_cookies is True
    assert settings.store_url is not None
    assert settings.store_url.get_secret_value() == SAMPLES[("katha-store", "url")]
    assert settings.oidc_issuer == "https://id.katha.lk/realms/katha"
    assert settings.oidc_client_id == "katha-console"
    assert settings.oidc_client_secret is not None
    assert settings.oidc_businesses_claim == "katha_businesses"
    assert settings.session_secret is not None
    assert settings.log_format == "json"
    assert settings.proxies() == []  # none trusted unless named
    assert settings.session_idle_minutes == 120


def test_trusted_proxies_and_the_idle_timeout_reach_the_console(
    render_with: RenderWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = {"enabled": True, "trustedProxies": "10.0.0.0/8, fd00::/8", "sessionIdleMinutes": 30}
    manifests = render_with({"store": STORE, "console": console})
    settings = settings_of(one(manifests, "Deployment", "katha-console"), monkeypatch)
    assert settings.proxies() == ["10.0.0.0/8", "fd00::/8"]
    assert settings.session_idle_minutes == 30


def test_without_an_issuer_the_console_gets_no_oidc_settings(
    rendered: Rendered, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = one(rendered("console-cloudnativepg"), "Deployment", "katha-console")
    assert not [name for name in env_of(console) if "OIDC" in name]
    settings = settings_of(console, monkeypatch)
    assert settings.oidc_issuer is None
    assert settings.public_url == "http://localhost:8081", "the notes' port-forward"


@pytest.mark.parametrize(
    ("console", "url"),
    [
        ({"publicUrl": "https://owners.shop.lk/"}, "https://owners.shop.lk"),
        ({"ingress": {"enabled": True, "hosts": [{"host": "c.lk", "paths": ROOT}]}}, "http://c.lk"),
    ],
)
def test_public_url_is_the_value_else_the_ingress_host(
    console: dict[str, Any], url: str, render_with: RenderWith
) -> None:
    manifests = render_with({"store": STORE, "console": {"enabled": True, **console}})
    env = env_of(one(manifests, "Deployment", "katha-console"))
    assert env["KATHA_CONSOLE_PUBLIC_URL"] == url


def test_service_and_ingress_reach_the_console_pods(rendered: Rendered) -> None:
    manifests = rendered("console")
    labels = console_pod(manifests)["metadata"]["labels"]
    service = one(manifests, "Service", "katha-console")
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "console"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
        {"name": "metrics", "port": 9102, "targetPort": "metrics", "protocol": "TCP"},
    ]
    ingress = one(manifests, "Ingress", "katha-console")
    assert ingress["spec"]["tls"] == [
        {"secretName": "katha-console-tls", "hosts": ["console.katha.lk"]}
    ]
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert (rule["host"], path["path"]) == ("console.katha.lk", "/")
    assert path["backend"]["service"]["port"] == {"name": "http"}  # never the metrics port
    assert path["backend"]["service"] == {"name": "katha-console", "port": {"name": "http"}}
    assert not [m for m in rendered("console-cloudnativepg") if m["kind"] == "Ingress"]


def test_more_than_one_replica_gets_a_disruption_budget_and_a_spread(rendered: Rendered) -> None:
    manifests = rendered("console")
    deployment = one(manifests, "Deployment", "katha-console")
    assert deployment["spec"]["replicas"] == 2
    budgets = [m for m in manifests if m["kind"] == "PodDisruptionBudget"]
    (budget,) = [b for b in budgets if b["metadata"]["name"] == "katha-console"]
    assert budget["spec"]["maxUnavailable"] == 1
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (spread,) = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    single = rendered("console-cloudnativepg")
    assert "katha-console" not in {
        m["metadata"]["name"] for m in single if m["kind"] == "PodDisruptionBudget"
    }
    pod = one(single, "Deployment", "katha-console")["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in pod


def test_service_monitor_scrapes_the_console_service(rendered: Rendered) -> None:
    manifests = rendered("console")
    monitor = one(manifests, "ServiceMonitor", "katha-console")
    service = one(manifests, "Service", "katha-console")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert selector["app.kubernetes.io/component"] == "console"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")
    assert one(manifests, "ServiceMonitor", "katha-router")


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"console": {"enabled": True}}, "/store/enabled"),
        (
            {"store": STORE, "console": {"enabled": True, "oidc": {"issuer": "https://id.lk"}}},
            "/console/oidc/clientId",
        ),
        (
            {
                "store": STORE,
                "console": {"enabled": True, "oidc": {"issuer": "https://id.lk", "clientId": "c"}},
            },
            "/console/oidc/clientSecretRef/name",
        ),
        ({"console": {"publicUrl": "console.shop.lk"}}, "/console/publicUrl"),
        ({"console": {"oidc": {"issuer": "id.lk"}}}, "/console/oidc/issuer"),
        ({"console": {"replicas": 0}}, "/console/replicas"),
        ({"console": {"existingSecret": "Console_Keys"}}, "/console/existingSecret"),
        ({"console": {"trustedProxies": "*"}}, "/console/trustedProxies"),
        ({"console": {"trustedProxies": "10.0.0.0/8, ingress"}}, "/console/trustedProxies"),
        ({"console": {"sessionIdleMinutes": 0}}, "/console/sessionIdleMinutes"),
        ({"console": {"adminToken": "x"}}, "additional properties 'adminToken' not allowed"),
        ({"console": {"networkPolicy": {"apiServerPorts": [0]}}}, "apiServerPorts/0"),
        ({"console": {"networkPolicy": {"apiServerPorts": ["6443"]}}}, "apiServerPorts/0"),
        ({"console": {"rbac": {"create": "yes"}}}, "/console/rbac/create"),
    ],
)
def test_schema_refuses_console_mistakes(
    values: dict[str, Any], complaint: str, render_with: RenderWith
) -> None:
    with pytest.raises(HelmError, match="values don't meet the specifications") as error:
        render_with(values)
    assert complaint in str(error.value)
