"""A Kubernetes API on loopback authorising the chart's own RBAC, the real kubectl as a
platform engineer, and the console's `KubernetesBusinesses` as the chart's console
ServiceAccount (get and patch on Businesses, nothing else)."""

import itertools
import json
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from chart_rbac import RELEASE_NAMESPACE, TOKENS, chart_rbac
from k8s_tools import tool
from kube_api import kubeconfig
from kube_emulator import KubeEmulator, running_emulator
from rbac import Gate, Policy, service_account

from console.businesses.kubernetes import KubernetesBusinesses

CONSOLE_TOKEN = "katha-console-token"
CHART_VALUES = {
    "store": {"enabled": True, "urlSecretRef": {"name": "katha-store", "key": "url"}},
    "console": {"enabled": True},
}
TENANTS = "tenants"
_names = itertools.count(1)

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeEmulator]:
    tokens = {**TOKENS, CONSOLE_TOKEN: service_account(RELEASE_NAMESPACE, "katha-console")}
    gate = Gate(Policy.from_manifests(chart_rbac(CHART_VALUES)), tokens)
    tls = tmp_path_factory.mktemp("emulator-tls")
    with running_emulator(kuberay=False, gate=gate, tls_folder=tls) as (emulator, _):
        yield emulator


@pytest.fixture(autouse=True)
def _nothing_refused(kube: KubeEmulator) -> Iterator[None]:
    """The chart's RBAC lets the console do all it does: any refusal fails the test."""
    seen = len(kube.refusals)
    yield
    assert kube.refusals[seen:] == []


@pytest.fixture(scope="session")
def kubectl(kube: KubeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    """The real kubectl as a cluster admin (over HTTPS: kubectl sends no token over HTTP)."""
    assert kube.https_url is not None
    config = tmp_path_factory.mktemp("admin") / "kubeconfig"
    admin_token = next(token for token, user in TOKENS.items() if user.is_admin)
    config.write_text(kubeconfig(kube.https_url, admin_token, "admin", TENANTS, kube.certificate))

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        command = [tool("kubectl"), "--kubeconfig", str(config), *args]
        return subprocess.run(
            command, input=stdin, capture_output=True, text=True, timeout=60, check=False
        )

    return run


@pytest.fixture
async def businesses(kube: KubeEmulator) -> AsyncIterator[KubernetesBusinesses]:
    console = KubernetesBusinesses.connect(kube.http_url, CONSOLE_TOKEN)
    yield console
    await console.aclose()


def business_yaml(name: str, **persona: Any) -> str:
    """A platform engineer's Business (JSON is YAML)."""
    spec: dict[str, Any] = {
        "displayName": "Kandy Bakehouse",
        "whatsapp": {
            "phoneNumberId": "105954558954427",
            "credentialsSecretRef": {"name": "kandy-bakehouse-whatsapp"},
        },
    }
    if persona:
        spec["persona"] = persona
    manifest = {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": name, "namespace": TENANTS},
        "spec": spec,
    }
    return json.dumps(manifest, ensure_ascii=False)


@pytest.fixture
def tenant(kubectl: Kubectl) -> str:
    """A fresh Business, created as `kubectl create -f` does (field manager kubectl-create)."""
    name = f"bakehouse-{next(_names)}"
    created = kubectl("create", "--validate=false", "-f", "-", stdin=business_yaml(name))
    assert created.returncode == 0, created.stderr
    return f"{TENANTS}/{name}"


def get_business(kubectl: Kubectl, tenant: str, *extra: str) -> dict[str, Any]:
    namespace, name = tenant.split("/")
    shown = kubectl("get", "biz", name, "-n", namespace, "-o", "json", *extra)
    assert shown.returncode == 0, shown.stderr
    business: dict[str, Any] = json.loads(shown.stdout)
    return business


def managers(business: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each field manager's FieldsV1 under spec, by "manager/operation"."""
    return {
        f"{entry['manager']}/{entry['operation']}": entry["fieldsV1"].get("f:spec", {})
        for entry in business["metadata"].get("managedFields", [])
    }
