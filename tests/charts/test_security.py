"""Every pod runs locked down, and RBAC grants only what each component does: no wildcards,
the router reads one Secret, the operator's cluster-wide rights exist only for all-namespaces,
and the owner console may only get and patch Businesses."""

from collections.abc import Callable
from typing import Any

import pytest
from katha_chart import (
    CONSOLE_SCENARIOS,
    NAMESPACE,
    SCENARIOS,
    STORE_SCENARIOS,
    Manifest,
    one,
    pod_templates,
)

from business_operator.kube import RESOURCE_TYPES
from business_operator.routing_table import ROUTES_SECRET
from router.settings import RouterSettings

ROLE_KINDS = {"Role", "ClusterRole"}
WORKLOADS_WITH_API_ACCESS = {"katha-console", "katha-operator", "katha-router"}


def rules_of(manifests: list[Manifest]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (m["kind"], m["metadata"]["name"], rule)
        for m in manifests
        if m["kind"] in ROLE_KINDS
        for rule in m["rules"]
    ]


def granted(role: Manifest) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) triples a role grants, ignoring resourceNames."""
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_pod_runs_as_non_root_with_a_read_only_root_and_no_privileges(
    scenario: str, rendered: Callable[[str], list[Manifest]]
) -> None:
    templates = pod_templates(rendered(scenario))
    migrations = {"katha-store-migrations"} if scenario in STORE_SCENARIOS else set()
    console = {"katha-console"} if scenario in CONSOLE_SCENARIOS else set()
    assert set(templates) == {"katha-operator", "katha-router", *migrations, *console}
    for name, template in templates.items():
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == 10001, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["enableServiceLinks"] is False, name
        for container in pod["containers"] + pod.get("initContainers", []):
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["privileged"] is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{name}: a read-only root needs a writable /tmp"
            assert container["resources"]["requests"], name
            assert container["resources"]["limits"]["memory"], name


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_service_accounts_mount_no_token_unless_the_pod_asks_for_one(
    scenario: str, rendered: Callable[[str], list[Manifest]]
) -> None:
    manifests = rendered(scenario)
    for account in (m for m in manifests if m["kind"] == "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False
    for name, template in pod_templates(manifests).items():
        wants_token = template["spec"]["automountServiceAccountToken"]
        assert wants_token is (name in WORKLOADS_WITH_API_ACCESS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_rbac_rule_uses_a_wildcard(
    scenario: str, rendered: Callable[[str], list[Manifest]]
) -> None:
    rules = rules_of(rendered(scenario))
    assert rules
    for kind, name, rule in rules:
        for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
            values = rule.get(field, [])
            assert not any("*" in value for value in values), f"{kind} {name}: {field}={values}"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_router_may_only_read_the_routing_table_secret(
    scenario: str, rendered: Callable[[str], list[Manifest]]
) -> None:
    manifests = rendered(scenario)
    role = one(manifests, "Role", "katha-router-routes")
    assert role["metadata"]["namespace"] == NAMESPACE
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["katha-routes"],
            "verbs": ["get", "list", "watch"],
        }
    ]
    bindings = [
        m
        for m in manifests
        if m["kind"] in {"RoleBinding", "ClusterRoleBinding"}
        and any(subject["name"] == "katha-router" for subject in m["subjects"])
    ]
    routes = [b for b in bindings if b["roleRef"]["name"] == "katha-router-routes"]
    assert [binding["kind"] for binding in routes] == ["RoleBinding"]
    # Besides, it may patch Businesses' status (status.whatsapp), and nothing else there.
    others = [b for b in bindings if b not in routes]
    assert {binding["roleRef"]["name"] for binding in others} == {"katha-router-business-status"}
    for binding in others:
        where = binding["metadata"].get("namespace")
        (status_role,) = [
            m
            for m in manifests
            if (m["kind"], m["metadata"]["name"])
            == (binding["roleRef"]["kind"], "katha-router-business-status")
            and m["metadata"].get("namespace") == where
        ]
        assert granted(status_role) == {("katha.dev", "businesses/status", "patch")}


def test_operator_gets_a_cluster_role_for_what_it_manages_in_every_namespace(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    manifests = rendered("default")
    role = one(manifests, "ClusterRole", "katha-operator")
    rights = granted(role)
    for resource in ("businesses", "languagemodels"):
        assert {("katha.dev", resource, verb) for verb in ("list", "watch", "patch")} <= rights
        assert ("katha.dev", f"{resource}/status", "patch") in rights
        assert ("katha.dev", f"{resource}/finalizers", "update") in rights
    children = [
        ("", "configmaps"),
        ("", "services"),
        ("", "serviceaccounts"),
        ("", "persistentvolumeclaims"),
        ("apps", "deployments"),
        ("networking.k8s.io", "networkpolicies"),
        ("ray.io", "rayservices"),
    ]
    for group, resource in children:
        assert {(group, resource, verb) for verb in ("get", "create", "patch", "delete")} <= rights
        assert (group, resource, "list") not in rights, "children are read by name only"
    assert {(g, r, v) for g, r, v in rights if r == "secrets"} == {("", "secrets", "get")}
    assert ("", "events", "create") in rights
    # Pods only read: the index writer's result is in its Pod's status.
    assert {(g, r, v) for g, r, v in rights if r == "pods"} == {
        ("", "pods", "get"),
        ("", "pods", "list"),
    }
    assert not {r for _, r, _ in rights} & {"namespaces", "clusterroles", "roles"}
    discovery = one(manifests, "ClusterRole", "katha-operator-discovery")
    assert granted(discovery) == {
        ("apiextensions.k8s.io", "customresourcedefinitions", verb)
        for verb in ("get", "list", "watch")
    }
    deployment = one(manifests, "Deployment", "katha-operator")
    assert "--all-namespaces" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.mark.parametrize("scenario", ["default", "namespaced"])
def test_operator_writes_only_the_routing_table_in_the_platform_namespace(
    scenario: str, rendered: Callable[[str], list[Manifest]]
) -> None:
    role = one(rendered(scenario), "Role", "katha-operator-routes")
    assert role["metadata"]["namespace"] == NAMESPACE
    create, by_name = role["rules"]
    assert create == {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}
    assert by_name["resourceNames"] == ["katha-routes"]
    assert by_name["verbs"] == ["get", "patch"]


def test_namespaced_operator_gets_roles_only_in_its_namespaces(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    manifests = rendered("namespaced")
    watched = {NAMESPACE, "shops", "restaurants"}
    roles = [
        m for m in manifests if m["kind"] == "Role" and m["metadata"]["name"] == "katha-operator"
    ]
    assert {role["metadata"]["namespace"] for role in roles} == watched
    bindings = [
        m
        for m in manifests
        if m["kind"] == "RoleBinding" and m["metadata"]["name"] == "katha-operator"
    ]
    assert {binding["metadata"]["namespace"] for binding in bindings} == watched
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "katha-operator", "namespace": NAMESPACE}
        ]
    cluster_roles = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "ClusterRole"}
    assert set(cluster_roles) == {"katha-operator-discovery"}, "no tenant rights cluster-wide"
    assert granted(cluster_roles["katha-operator-discovery"]) == {
        ("apiextensions.k8s.io", "customresourcedefinitions", "get"),
        ("apiextensions.k8s.io", "customresourcedefinitions", "list"),
        ("apiextensions.k8s.io", "customresourcedefinitions", "watch"),
        ("", "namespaces", "list"),
        ("", "namespaces", "watch"),
    }
    args = one(manifests, "Deployment", "katha-operator")["spec"]["template"]["spec"]["containers"][
        0
    ]["args"]
    assert "--all-namespaces" not in args
    assert [arg for arg in args if arg.startswith("--namespace=")] == [
        f"--namespace={NAMESPACE}",
        "--namespace=shops",
        "--namespace=restaurants",
    ]


def test_without_cluster_discovery_a_namespaced_install_has_no_cluster_objects(
    render_with: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    manifests = render_with(
        {
            "crds": {"install": False},
            "operator": {"watchNamespaces": ["shops"], "rbac": {"clusterDiscovery": False}},
        }
    )
    cluster_kinds = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
    assert not [m for m in manifests if m["kind"] in cluster_kinds]


def test_operator_may_write_every_kind_its_kube_client_manages(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    rights = granted(one(rendered("default"), "ClusterRole", "katha-operator"))
    watched = {"katha.dev"}  # Kopf's own resources: read, watched and patched, never created
    for (api_version, kind), resource_type in RESOURCE_TYPES.items():
        group = api_version.rpartition("/")[0]
        if group in watched:
            needed = {"get", "list", "watch", "patch"}
        elif kind == "Secret":
            needed = {"get"}  # credentials; the routing table has its own Role
        elif kind == "Job":
            needed = {"get", "list", "create", "delete"}  # index writer runs: never patched
        else:
            needed = {"get", "create", "patch", "delete"}
        missing = {verb for verb in needed if (group, resource_type.plural, verb) not in rights}
        assert not missing, f"the operator manages {kind} but may not {sorted(missing)} it"


def test_routing_table_secret_name_is_the_one_operator_and_router_use(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    assert ROUTES_SECRET == RouterSettings.model_fields["routes_secret"].default == "katha-routes"
    manifests = rendered("default")
    for role in ("katha-router-routes", "katha-operator-routes"):
        names = {
            n
            for rule in one(manifests, "Role", role)["rules"]
            for n in rule.get("resourceNames", [])
        }
        assert names == {ROUTES_SECRET}, role
