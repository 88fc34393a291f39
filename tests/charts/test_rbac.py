"""The authoriser the emulator uses decides as the API server's RBAC does, and the chart's
rules, evaluated by it, give each component what it does and nothing more."""

from collections.abc import Callable
from typing import Any

import pytest
from chart_rbac import ADMIN_TOKEN, OPERATOR_TOKEN, ROUTER_TOKEN, TOKENS, chart_gate
from katha_chart import SCENARIOS, Manifest
from rbac import (
    ANONYMOUS_USER,
    Attributes,
    Gate,
    Policy,
    RbacError,
    User,
    request_attributes,
    service_account,
)

OPERATOR = TOKENS[OPERATOR_TOKEN]
ROUTER = TOKENS[ROUTER_TOKEN]
SECRETS = "/api/v1/namespaces/katha-system/secrets"
BUSINESSES = "/apis/katha.dev/v1alpha1/namespaces/shop/businesses"


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", SECRETS, {}, ("list", "", "secrets", "", "katha-system", "")),
        ("GET", SECRETS, {"watch": "true"}, ("watch", "", "secrets", "", "katha-system", "")),
        (
            "GET",
            SECRETS,
            {"watch": "true", "fieldSelector": "metadata.name=katha-routes"},
            ("watch", "", "secrets", "", "katha-system", "katha-routes"),
        ),
        ("GET", f"{SECRETS}/x", {}, ("get", "", "secrets", "", "katha-system", "x")),
        ("POST", SECRETS, {}, ("create", "", "secrets", "", "katha-system", "")),
        ("PUT", f"{SECRETS}/x", {}, ("update", "", "secrets", "", "katha-system", "x")),
        ("PATCH", f"{SECRETS}/x", {}, ("patch", "", "secrets", "", "katha-system", "x")),
        ("DELETE", f"{SECRETS}/x", {}, ("delete", "", "secrets", "", "katha-system", "x")),
        ("DELETE", SECRETS, {}, ("deletecollection", "", "secrets", "", "katha-system", "")),
        (
            "PATCH",
            f"{BUSINESSES}/b/status",
            {},
            ("patch", "katha.dev", "businesses", "status", "shop", "b"),
        ),
        (
            "GET",
            "/apis/katha.dev/v1alpha1/businesses",
            {"watch": "true"},
            ("watch", "katha.dev", "businesses", "", "", ""),
        ),
        ("GET", "/api/v1/namespaces", {}, ("list", "", "namespaces", "", "", "")),
        ("GET", "/api/v1/namespaces/shop", {}, ("get", "", "namespaces", "", "shop", "shop")),
        (
            "PUT",
            "/api/v1/namespaces/shop/finalize",
            {},
            ("update", "", "namespaces", "finalize", "shop", "shop"),
        ),
    ],
)
def test_requests_are_authorised_as_the_api_servers_request_info_reads_them(
    method: str, path: str, query: dict[str, str], expected: tuple[str, ...]
) -> None:
    found = request_attributes(method, path, query)
    assert found.resource_request
    got = (found.verb, found.api_group, found.resource, found.subresource)
    assert (*got, found.namespace, found.name) == expected


@pytest.mark.parametrize(
    "path", ["/api", "/api/v1", "/apis", "/apis/katha.dev", "/apis/katha.dev/v1alpha1", "/version"]
)
def test_discovery_is_a_non_resource_request_open_to_every_authenticated_user(path: str) -> None:
    request = request_attributes("GET", path, {})
    assert not request.resource_request
    policy = Policy.from_manifests([])
    assert policy.authorize(service_account("anywhere", "nobody"), request)
    assert policy.authorize(ANONYMOUS_USER, request) is (path == "/version")


def role(kind: str, name: str, rules: list[dict[str, Any]], namespace: str = "") -> Manifest:
    meta = {"name": name} | ({"namespace": namespace} if namespace else {})
    return {"kind": kind, "metadata": meta, "rules": rules}


def binding(
    binding_kind: str, role_ref: tuple[str, str], namespace: str = "", **subject: str
) -> Manifest:
    meta = {"name": f"{role_ref[1]}-binding"} | ({"namespace": namespace} if namespace else {})
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": role_ref[0], "name": role_ref[1]}
    return {"kind": binding_kind, "metadata": meta, "roleRef": ref, "subjects": [subject]}


def allowed(policy: Policy, user: Any, method: str, path: str, **query: str) -> bool:
    return policy.authorize(user, request_attributes(method, path, query))


def test_resource_names_allow_reading_by_name_but_never_create_or_an_unnamed_list() -> None:
    rules = [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["katha-routes"],
            "verbs": ["get", "list", "watch", "create", "delete"],
        }
    ]
    policy = Policy.from_manifests(
        [
            role("Role", "routes", rules, "katha-system"),
            binding(
                "RoleBinding", ("Role", "routes"), "katha-system", kind="ServiceAccount", name="r"
            ),
        ]
    )
    user = service_account("katha-system", "r")  # the binding's own namespace is implied
    assert allowed(policy, user, "GET", f"{SECRETS}/katha-routes")
    assert allowed(policy, user, "DELETE", f"{SECRETS}/katha-routes")
    assert not allowed(policy, user, "GET", f"{SECRETS}/other")
    assert not allowed(policy, user, "POST", SECRETS), "a create has no name to match"
    assert not allowed(policy, user, "GET", SECRETS)
    assert not allowed(policy, user, "DELETE", SECRETS), "deletecollection names nothing"
    narrowed = {"fieldSelector": "metadata.name=katha-routes", "watch": "true"}
    assert allowed(policy, user, "GET", SECRETS, **narrowed)
    assert not allowed(policy, user, "GET", "/api/v1/namespaces/other/secrets/katha-routes")


def test_a_role_binding_grants_a_cluster_role_only_in_its_own_namespace() -> None:
    rules = [{"apiGroups": ["katha.dev"], "resources": ["businesses"], "verbs": ["get"]}]
    policy = Policy.from_manifests(
        [
            role("ClusterRole", "reader", rules),
            binding(
                "RoleBinding",
                ("ClusterRole", "reader"),
                "shop",
                kind="Group",
                name="system:serviceaccounts:platform",
            ),
        ]
    )
    user = service_account("platform", "anyone")
    assert allowed(policy, user, "GET", f"{BUSINESSES}/b")
    assert not allowed(policy, user, "GET", "/apis/katha.dev/v1alpha1/namespaces/cafe/businesses/b")
    assert not allowed(policy, user, "GET", "/apis/katha.dev/v1alpha1/businesses")
    assert not allowed(policy, service_account("elsewhere", "anyone"), "GET", f"{BUSINESSES}/b")


def test_a_subresource_needs_its_own_rule_unless_wildcarded() -> None:
    rules = [
        {"apiGroups": ["katha.dev"], "resources": ["businesses"], "verbs": ["patch"]},
        {"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["*"]},
    ]
    policy = Policy.from_manifests(
        [
            role("ClusterRole", "patcher", rules),
            binding("ClusterRoleBinding", ("ClusterRole", "patcher"), kind="User", name="u"),
        ]
    )
    user = User(name="u", groups=frozenset({"system:authenticated"}))
    assert allowed(policy, user, "PATCH", f"{BUSINESSES}/b")
    assert not allowed(policy, user, "PATCH", f"{BUSINESSES}/b/status")
    assert allowed(policy, user, "PUT", "/apis/apps/v1/namespaces/shop/deployments/d/scale")
    assert not allowed(policy, user, "GET", "/apis/apps/v1/namespaces/shop/deployments/d")
    assert not allowed(policy, service_account("x", "y"), "PATCH", f"{BUSINESSES}/b")


def test_aggregated_cluster_roles_are_refused_rather_than_read_as_empty() -> None:
    aggregated = role("ClusterRole", "agg", [])
    aggregated["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}
    with pytest.raises(RbacError, match="aggregated"):
        Policy.from_manifests([aggregated])


def test_the_gate_answers_401_to_an_unknown_token_and_a_forbidden_status_to_a_refusal() -> None:
    gate = Gate(Policy.from_manifests([]), {"t": service_account("katha-system", "katha-router")})
    unknown = gate.check("GET", "/api", {}, {"Authorization": "Bearer nope"})
    assert unknown is not None
    assert (unknown["code"], unknown["reason"]) == (401, "Unauthorized")
    assert gate.check("GET", "/api", {}, {"authorization": "Bearer t"}) is None
    refused = gate.check("GET", f"{SECRETS}/katha-routes", {}, {"Authorization": "Bearer t"})
    assert refused == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'secrets "katha-routes" is forbidden: User '
        '"system:serviceaccount:katha-system:katha-router" cannot get resource "secrets" '
        'in API group "" in the namespace "katha-system"',
        "reason": "Forbidden",
        "details": {"kind": "secrets", "name": "katha-routes"},
        "code": 403,
    }


def test_an_admin_token_may_do_anything() -> None:
    gate = chart_gate()
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert gate.check("DELETE", "/api/v1/namespaces/kube-system", {}, headers) is None


def chart_allows(gate: Gate, user: Any, method: str, path: str, **query: str) -> bool:
    return gate.policy.authorize(user, request_attributes(method, path, query))


def test_the_charts_router_account_reads_the_routing_table_and_patches_business_status_only() -> (
    None
):
    gate = chart_gate()
    narrowed = {"fieldSelector": "metadata.name=katha-routes"}
    assert chart_allows(gate, ROUTER, "GET", f"{SECRETS}/katha-routes")
    assert chart_allows(gate, ROUTER, "GET", SECRETS, watch="true", **narrowed)
    assert not chart_allows(gate, ROUTER, "PATCH", f"{SECRETS}/katha-routes")
    assert not chart_allows(gate, ROUTER, "GET", SECRETS)
    assert not chart_allows(gate, ROUTER, "GET", "/api/v1/namespaces/shop/secrets/x")
    assert not chart_allows(gate, ROUTER, "GET", "/api/v1/secrets")
    # Meta's account signals go into status.whatsapp of any Business it routes...
    assert chart_allows(gate, ROUTER, "PATCH", f"{BUSINESSES}/b/status")
    cafe = "/apis/katha.dev/v1alpha1/namespaces/cafe/businesses"
    assert chart_allows(gate, ROUTER, "PATCH", f"{cafe}/c/status")
    # ... by a merge patch only: it neither reads, replaces nor changes a Business's spec.
    assert not chart_allows(gate, ROUTER, "PATCH", f"{BUSINESSES}/b")
    assert not chart_allows(gate, ROUTER, "PUT", f"{BUSINESSES}/b/status")
    assert not chart_allows(gate, ROUTER, "GET", f"{BUSINESSES}/b/status")
    assert not chart_allows(gate, ROUTER, "GET", f"{BUSINESSES}/b")
    assert not chart_allows(gate, ROUTER, "GET", BUSINESSES)
    assert not chart_allows(gate, ROUTER, "GET", "/apis/katha.dev/v1alpha1/businesses")
    assert not chart_allows(gate, ROUTER, "DELETE", f"{BUSINESSES}/b")
    languagemodel = "/apis/katha.dev/v1alpha1/namespaces/katha-system/languagemodels/m/status"
    assert not chart_allows(gate, ROUTER, "PATCH", languagemodel)


def test_a_namespaced_router_patches_business_status_only_where_the_operator_watches(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    policy = Policy.from_manifests(rendered("namespaced"))
    shops = "/apis/katha.dev/v1alpha1/namespaces/shops/businesses/b/status"
    cafes = "/apis/katha.dev/v1alpha1/namespaces/cafes/businesses/b/status"
    assert policy.authorize(ROUTER, request_attributes("PATCH", shops, {}))
    assert not policy.authorize(ROUTER, request_attributes("PATCH", cafes, {}))
    spec = shops.removesuffix("/status")
    assert not policy.authorize(ROUTER, request_attributes("PATCH", spec, {}))


def test_the_charts_operator_account_manages_tenants_everywhere_but_the_table_only_by_name() -> (
    None
):
    gate = chart_gate()
    assert chart_allows(gate, OPERATOR, "GET", "/apis/katha.dev/v1alpha1/businesses", watch="true")
    assert chart_allows(gate, OPERATOR, "PATCH", f"{BUSINESSES}/b/status")
    assert chart_allows(gate, OPERATOR, "GET", "/api/v1/namespaces/any/secrets/creds")
    assert chart_allows(gate, OPERATOR, "POST", SECRETS)
    assert chart_allows(gate, OPERATOR, "PATCH", f"{SECRETS}/katha-routes")
    assert not chart_allows(gate, OPERATOR, "PATCH", f"{SECRETS}/other")
    assert not chart_allows(gate, OPERATOR, "GET", "/api/v1/secrets")
    assert not chart_allows(gate, OPERATOR, "PATCH", "/api/v1/namespaces/any/secrets/creds")
    assert not chart_allows(
        gate, OPERATOR, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles"
    )


def test_a_namespaced_operator_is_refused_tenants_outside_its_namespaces(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    assert SCENARIOS["namespaced"]["operator"]["watchNamespaces"] == ["shops", "restaurants"]
    policy = Policy.from_manifests(rendered("namespaced"))
    shops = "/apis/katha.dev/v1alpha1/namespaces/shops/businesses"
    cafes = "/apis/katha.dev/v1alpha1/namespaces/cafes/businesses"
    assert policy.authorize(OPERATOR, request_attributes("GET", shops, {"watch": "true"}))
    assert not policy.authorize(OPERATOR, request_attributes("GET", cafes, {"watch": "true"}))
    everywhere = request_attributes("GET", "/apis/katha.dev/v1alpha1/businesses", {})
    assert not policy.authorize(OPERATOR, everywhere)
    namespaces = request_attributes("GET", "/api/v1/namespaces", {"watch": "true"})
    assert policy.authorize(OPERATOR, namespaces)


def test_refusals_describe_cluster_scoped_requests() -> None:
    request = Attributes(verb="list", path="/api/v1/nodes", resource_request=True, resource="nodes")
    assert request.describe() == 'cannot list resource "nodes" in API group "" at the cluster scope'
