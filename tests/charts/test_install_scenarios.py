"""`helm lint --strict` passes, and every scenario renders objects a Kubernetes 1.33 API server
accepts (strict: an unknown field is an error, not silently pruned)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from katha_chart import CHART, NAMESPACE, RELEASE, SCENARIOS, Manifest, helm, kinds, one

KUBERNETES_VERSION = "1.33"

# The Prometheus Operator's ServiceMonitor is a custom kind kubernetes-validate does not know;
# this is the part of its schema the chart uses.
SERVICE_MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchLabels": {"type": "object", "minProperties": 1}},
                },
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchNames": {"type": "array", "items": {"type": "string"}}},
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["port"],
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                            "scrapeTimeout": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                        },
                    },
                },
            },
        },
    },
}


_ENDPOINT = SERVICE_MONITOR_SCHEMA["properties"]["spec"]["properties"]["endpoints"]
# The PodMonitor's: every agent pod in any namespace, by label expression, on named ports.
POD_MONITOR_SCHEMA: dict[str, Any] = {
    **SERVICE_MONITOR_SCHEMA,
    "properties": {
        **SERVICE_MONITOR_SCHEMA["properties"],
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "podMetricsEndpoints"],
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "matchExpressions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["key", "operator"],
                                "properties": {
                                    "key": {"type": "string"},
                                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                                    "values": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        }
                    },
                },
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"any": {"type": "boolean"}},
                },
                "podMetricsEndpoints": _ENDPOINT,
            },
        },
    },
}


_QUANTITY = "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"
# CloudNativePG's Cluster (postgresql.cnpg.io/v1), the fields the chart uses, as its CRD
# defines them: a name CloudNativePG accepts (it derives Services and Secrets from it).
CNPG_CLUSTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "postgresql.cnpg.io/v1"},
        "kind": {"const": "Cluster"},
        "metadata": {
            "type": "object",
            "required": ["name", "namespace"],
            "properties": {
                "name": {
                    "type": "string",
                    "maxLength": 50,
                    "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$",
                }
            },
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["instances", "storage"],
            "properties": {
                "instances": {"type": "integer", "minimum": 1},
                "storage": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["size"],
                    "properties": {
                        "size": {"type": "string", "pattern": _QUANTITY},
                        "storageClass": {"type": "string", "minLength": 1},
                    },
                },
                "bootstrap": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "initdb": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "database": {"type": "string", "minLength": 1},
                                "owner": {"type": "string", "minLength": 1},
                            },
                        }
                    },
                },
            },
        },
    },
}
CUSTOM_SCHEMAS = {
    "ServiceMonitor": SERVICE_MONITOR_SCHEMA,
    "PodMonitor": POD_MONITOR_SCHEMA,
    "Cluster": CNPG_CLUSTER_SCHEMA,
}


def validate(manifest: Manifest) -> None:
    if manifest["kind"] in CUSTOM_SCHEMAS:
        jsonschema.validate(manifest, CUSTOM_SCHEMAS[manifest["kind"]])
        return
    version = kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    assert version == KUBERNETES_VERSION


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_chart_passes_strict_lint(scenario: str, tmp_path: Path) -> None:
    output = helm("lint", "--strict", str(CHART), values=SCENARIOS[scenario], tmp=tmp_path)
    assert "0 chart(s) failed" in output


def test_install_notes_say_what_to_do_next(tmp_path: Path) -> None:
    notes = helm(
        "install",
        RELEASE,
        str(CHART),
        "--dry-run=client",
        "--namespace",
        NAMESPACE,
        values=SCENARIOS["ingress-tls"],
        tmp=tmp_path,
    ).partition("NOTES:")[2]
    assert "create secret generic" in notes
    for key in ("accessToken", "appSecret", "verifyToken"):
        assert key in notes
    assert "kubectl apply -f business.yaml" in notes
    assert "https://wa.katha.lk/webhooks/whatsapp" in notes


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_rendered_object_is_valid_for_kubernetes_1_33(
    scenario: str, rendered: Callable[[str], list[Manifest]]
) -> None:
    manifests = rendered(scenario)
    assert manifests
    for manifest in manifests:
        try:
            validate(manifest)
        except Exception as error:
            name = f"{manifest['kind']}/{manifest['metadata']['name']}"
            pytest.fail(f"{scenario}: {name} is invalid: {error}")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_namespaced_objects_are_placed_in_a_namespace(
    scenario: str, rendered: Callable[[str], list[Manifest]]
) -> None:
    cluster_scoped = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
    for manifest in rendered(scenario):
        if manifest["kind"] not in cluster_scoped:
            assert manifest["metadata"].get("namespace"), manifest["metadata"]["name"]


def test_default_install_is_crds_operator_and_single_router_with_a_volume(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    manifests = rendered("default")
    assert kinds(manifests) == sorted(
        ["CustomResourceDefinition"] * 2
        + ["ClusterRole"] * 3
        + ["ClusterRoleBinding"] * 3
        + ["Role"] * 2
        + ["RoleBinding"] * 2
        + ["ServiceAccount"] * 2
        + ["Deployment"] * 2
        + ["Secret", "Service", "PersistentVolumeClaim", "PodDisruptionBudget"]
    )
    router = one(manifests, "Deployment", "katha-router")
    assert router["spec"]["replicas"] == 1
    assert router["spec"]["strategy"]["type"] == "Recreate"
    claim = one(manifests, "PersistentVolumeClaim")
    volumes = {v["name"]: v for v in router["spec"]["template"]["spec"]["volumes"]}
    assert volumes["inbox"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]


def test_ha_router_scales_with_an_hpa_on_cpu_and_requests_and_keeps_a_pdb(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    manifests = rendered("ha-redis")
    router = one(manifests, "Deployment", "katha-router")
    assert "replicas" not in router["spec"], "the HPA owns the replica count"
    assert router["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    hpa = one(manifests, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "katha-router"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 8)
    assert [metric["type"] for metric in hpa["spec"]["metrics"]] == ["Resource", "Pods"]
    pdb = one(manifests, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "router"
    assert not [m for m in manifests if m["kind"] == "PersistentVolumeClaim"]
    spread = router["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert spread[0]["topologyKey"] == "kubernetes.io/hostname"


def test_ingress_publishes_only_the_webhook_path_over_tls(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    ingress = one(rendered("ingress-tls"), "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"secretName": "katha-router-tls", "hosts": ["wa.katha.lk"]}]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "wa.katha.lk"
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/webhooks"
    assert path["backend"]["service"] == {"name": "katha-router", "port": {"name": "http"}}


def test_network_policies_admit_only_the_router_port_and_the_operator_probe(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    policies = {
        m["metadata"]["name"]: m["spec"]
        for m in rendered("network-policies")
        if m["kind"] == "NetworkPolicy"
    }
    assert set(policies) == {"katha-router", "katha-operator"}
    for spec in policies.values():
        assert spec["policyTypes"] == ["Ingress"]
        assert [rule["ports"] for rule in spec["ingress"]] == [[{"protocol": "TCP", "port": 8080}]]
    assert policies["katha-router"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "katha",
        "app.kubernetes.io/instance": "katha",
        "app.kubernetes.io/component": "router",
    }


def test_release_namespace_is_the_platform_namespace(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    for manifest in rendered("default"):
        if "namespace" in manifest["metadata"]:
            assert manifest["metadata"]["namespace"] == NAMESPACE
