"""The console's Kubernetes rights in the chart: its pod carries a token, with which it may
get and patch Businesses where the operator works (to apply owners' changes as field
manager katha-console) and nothing else; its env picks the Kubernetes API for Businesses;
and its NetworkPolicy reaches the API server's own port where a cluster needs it."""

from collections.abc import Callable
from typing import Any

import pytest
from katha_chart import CONSOLE_SCENARIOS, NAMESPACE, Manifest, env_of, one
from rbac import Policy, request_attributes, service_account

from console.settings import ConsoleSettings

RenderWith = Callable[[dict[str, Any]], list[Manifest]]
Rendered = Callable[[str], list[Manifest]]
STORE = {"enabled": True, "urlSecretRef": {"name": "katha-store", "key": "url"}}
BUSINESSES = "/apis/katha.dev/v1alpha1/namespaces/{namespace}/businesses"
CONSOLE = service_account(NAMESPACE, "katha-console")


def allowed(policy: Policy, method: str, path: str, query: dict[str, str] | None = None) -> bool:
    return policy.authorize(CONSOLE, request_attributes(method, path, query or {}))


def refused_everything_else(policy: Policy, namespace: str) -> None:
    business = f"{BUSINESSES.format(namespace=namespace)}/kandy-bakehouse"
    for method, path, query in [
        ("GET", BUSINESSES.format(namespace=namespace), {}),  # no list: one Business at a time
        ("GET", BUSINESSES.format(namespace=namespace), {"watch": "true"}),
        ("POST", BUSINESSES.format(namespace=namespace), {}),
        ("PUT", business, {}),
        ("DELETE", business, {}),
        ("PATCH", f"{business}/status", {}),
        ("GET", f"/api/v1/namespaces/{namespace}/secrets/kandy-bakehouse-whatsapp", {}),
        ("GET", f"/api/v1/namespaces/{NAMESPACE}/secrets/katha-router-secrets", {}),
        ("PATCH", f"/apis/katha.dev/v1alpha1/namespaces/{namespace}/languagemodels/m", {}),
        ("PATCH", f"/apis/apps/v1/namespaces/{namespace}/deployments/kandy-bakehouse-agent", {}),
    ]:
        assert not allowed(policy, method, path, query), f"{method} {path} {query}"


@pytest.mark.parametrize("scenario", CONSOLE_SCENARIOS)
def test_the_console_may_get_and_patch_businesses_and_nothing_else(
    scenario: str, rendered: Rendered
) -> None:
    manifests = rendered(scenario)
    policy = Policy.from_manifests(manifests)
    business = f"{BUSINESSES.format(namespace='tenants')}/kandy-bakehouse"
    assert allowed(policy, "GET", business)
    apply = {"fieldManager": "katha-console", "force": "false"}
    assert allowed(policy, "PATCH", business, apply)
    refused_everything_else(policy, "tenants")
    pod = one(manifests, "Deployment", "katha-console")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is True
    account = one(manifests, "ServiceAccount", "katha-console")
    assert account["automountServiceAccountToken"] is False, "only the pod opts in"


def test_with_watched_namespaces_the_console_is_limited_to_them(render_with: RenderWith) -> None:
    values = {
        "store": STORE,
        "console": {"enabled": True},
        "operator": {"watchNamespaces": ["shops-a", "shops-b"]},
    }
    manifests = render_with(values)
    assert not [m for m in manifests if m["kind"] == "ClusterRole" and "console" in str(m)]
    policy = Policy.from_manifests(manifests)
    for namespace in ("shops-a", "shops-b"):
        business = f"{BUSINESSES.format(namespace=namespace)}/kandy-bakehouse"
        assert allowed(policy, "GET", business)
        assert allowed(policy, "PATCH", business)
        refused_everything_else(policy, namespace)
    assert not allowed(policy, "GET", f"{BUSINESSES.format(namespace='elsewhere')}/b")


def test_without_console_rbac_nothing_is_bound_to_it(render_with: RenderWith) -> None:
    manifests = render_with(
        {"store": STORE, "console": {"enabled": True, "rbac": {"create": False}}}
    )
    bindings = [m for m in manifests if m["kind"] in {"RoleBinding", "ClusterRoleBinding"}]
    assert bindings, "the operator and the router are bound"
    for binding in bindings:
        names = {subject["name"] for subject in binding["subjects"]}
        assert "katha-console" not in names, binding["metadata"]["name"]


@pytest.mark.parametrize("scenario", CONSOLE_SCENARIOS)
def test_the_console_is_told_to_use_the_kubernetes_api(scenario: str, rendered: Rendered) -> None:
    env = env_of(one(rendered(scenario), "Deployment", "katha-console"))
    assert env["KATHA_CONSOLE_BUSINESSES"] == "kubernetes"
    settings = ConsoleSettings.model_validate({"businesses": env["KATHA_CONSOLE_BUSINESSES"]})
    assert settings.businesses == "kubernetes"
    assert settings.kubernetes_api_url is None, "in the pod: its own API server"


def egress_ports(policy: Manifest) -> list[list[int]]:
    return [
        sorted(port["port"] for port in rule.get("ports", []))
        for rule in policy["spec"]["egress"]
        if "to" not in rule
    ]


def test_the_api_servers_own_port_is_open_by_default_and_can_be_closed(
    render_with: RenderWith,
) -> None:
    values: dict[str, Any] = {
        "store": STORE,
        "console": {"enabled": True},
        "networkPolicy": {"enabled": True},
    }
    policy = one(render_with(values), "NetworkPolicy", "katha-console")
    assert [443] in egress_ports(policy), "the `kubernetes` Service and the OIDC issuer"
    assert [6443] in egress_ports(policy), "kubeadm's, k3s's API server behind the Service"
    values["console"]["networkPolicy"] = {"apiServerPorts": []}
    policy = one(render_with(values), "NetworkPolicy", "katha-console")
    assert [6443] not in egress_ports(policy)
