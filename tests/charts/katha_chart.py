"""Rendering charts/katha with the real helm binary, the install scenarios the chart's issue
names, and small lookups over the rendered objects."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from k8s_tools import tool

from business_operator.render import Platform
from business_operator.settings import OperatorSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "katha"
RELEASE = "katha"
NAMESPACE = "katha-system"

Manifest = dict[str, Any]

INGRESS_NGINX = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
}
SCENARIOS: dict[str, dict[str, Any]] = {
    "default": {},
    "namespaced": {"operator": {"watchNamespaces": ["shops", "restaurants"]}},
    "ha-redis": {
        "router": {
            "replicas": 3,
            "inbox": {"redis": {"existingSecret": {"name": "katha-redis", "key": "url"}}},
            "autoscaling": {
                "enabled": True,
                "minReplicas": 2,
                "maxReplicas": 8,
                "requestsPerSecond": {"enabled": True},
            },
        }
    },
    "monitoring": {
        "monitoring": {
            "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
            "podMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
            "dashboard": {"enabled": True},
        }
    },
    "ingress-tls": {
        "router": {
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
                "hosts": [
                    {
                        "host": "wa.katha.lk",
                        "paths": [{"path": "/webhooks", "pathType": "Prefix"}],
                    }
                ],
                "tls": [{"secretName": "katha-router-tls", "hosts": ["wa.katha.lk"]}],
            }
        }
    },
    "network-policies": {
        "networkPolicy": {"enabled": True},
        "router": {"inbox": {"redis": {"url": "redis://redis.katha-system.svc:6379/0"}}},
    },
    # The conversation store on a CloudNativePG Cluster the chart renders ...
    "store-cloudnativepg": {
        "store": {
            "enabled": True,
            "cloudNativePG": {"enabled": True, "instances": 2, "storageClassName": "fast"},
        },
        "networkPolicy": {"enabled": True},
    },
    # ... and on a PostgreSQL run elsewhere, its URL in the platform team's Secret.
    "store-external": {
        "store": {
            "enabled": True,
            "urlSecretRef": {"name": "katha-store", "key": "url"},
            "networkPolicy": {
                "to": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "db"}}}
                ]
            },
        },
        "networkPolicy": {"enabled": True},
    },
    # The owner console beside an external store: two replicas behind an Ingress with TLS,
    # OIDC sign-in, NetworkPolicies narrowed to the ingress controller, a ServiceMonitor ...
    "console": {
        "store": {"enabled": True, "urlSecretRef": {"name": "katha-store", "key": "url"}},
        "console": {
            "enabled": True,
            "replicas": 2,
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "hosts": [
                    {"host": "console.katha.lk", "paths": [{"path": "/", "pathType": "Prefix"}]}
                ],
                "tls": [{"secretName": "katha-console-tls", "hosts": ["console.katha.lk"]}],
            },
            "oidc": {
                "issuer": "https://id.katha.lk/realms/katha",
                "clientId": "katha-console",
                "clientSecretRef": {"name": "katha-console-oidc", "key": "clientSecret"},
            },
            "networkPolicy": {"from": [INGRESS_NGINX]},
        },
        "networkPolicy": {"enabled": True},
        "monitoring": {"serviceMonitor": {"enabled": True}},
    },
    # ... and, with nothing else set, beside the CloudNativePG Cluster.
    "console-cloudnativepg": {
        "store": {"enabled": True, "cloudNativePG": {"enabled": True}},
        "console": {"enabled": True},
        "networkPolicy": {"enabled": True},
    },
}
CONSOLE_SCENARIOS = ("console", "console-cloudnativepg")
STORE_SCENARIOS = ("store-cloudnativepg", "store-external", *CONSOLE_SCENARIOS)


class HelmError(Exception):
    """helm refused the chart or the values; the message is what helm printed."""


def helm(*args: str, values: dict[str, Any] | None = None, tmp: Path | None = None) -> str:
    command = [tool("helm"), *args]
    if values is not None:
        assert tmp is not None
        file = tmp / "values.yaml"
        file.write_text(yaml.safe_dump(values))
        command += ["--values", str(file)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise HelmError(result.stderr.strip() or result.stdout.strip())
    return result.stdout


def render(values: dict[str, Any], tmp: Path) -> list[Manifest]:
    """`helm template` of the chart as a release in NAMESPACE: every object it would create."""
    text = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, values=values, tmp=tmp)
    return [document for document in yaml.safe_load_all(text) if document]


def one(manifests: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind and name in (None, m["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def kinds(manifests: list[Manifest]) -> list[str]:
    return sorted(m["kind"] for m in manifests)


def pod_templates(manifests: list[Manifest]) -> dict[str, Manifest]:
    """Every pod template the chart renders, by workload name."""
    return {
        m["metadata"]["name"]: m["spec"]["template"]
        for m in manifests
        if m["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}
    }


def env_of(deployment: Manifest) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {entry["name"]: entry.get("value", entry.get("valueFrom")) for entry in container["env"]}


def operator_platform(chart: list[Manifest], monkeypatch: pytest.MonkeyPatch) -> Platform:
    """The Platform the operator builds from the environment the chart gives its pod."""
    env = env_of(one(chart, "Deployment", "katha-operator"))
    fields = set(OperatorSettings.model_fields)
    for name, value in env.items():
        assert name.removeprefix("KATHA_OPERATOR_").lower() in fields, f"{name} sets nothing"
        monkeypatch.setenv(name, value)
    settings = OperatorSettings()
    return Platform(
        namespace=settings.platform_namespace,
        router_labels=dict(settings.router_labels),
        network=settings.network(),
    )
