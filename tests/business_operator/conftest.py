"""The real Kopf operator against the Kubernetes emulator, shared by this folder's tests."""

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kopf.testing import KopfRunner
from kube_api import PLATFORM_NAMESPACE, Api, eventually
from kube_emulator import running_emulator

RECONCILE_INTERVAL = 2.0


@pytest.fixture(scope="session")
def kube_url() -> Iterator[str]:
    with running_emulator(kuberay=True) as (_, url):
        yield url


@pytest.fixture(scope="session")
def operator(kube_url: str) -> Iterator[KopfRunner]:
    settings = {
        "KATHA_OPERATOR_KUBE_API_URL": kube_url,
        "KATHA_OPERATOR_PLATFORM_NAMESPACE": PLATFORM_NAMESPACE,
        "KATHA_OPERATOR_RECONCILE_INTERVAL_SECONDS": str(RECONCILE_INTERVAL),
        "KATHA_OPERATOR_LOG_FORMAT": "json",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in settings.items():
            patch.setenv(key, value)
        args = ["run", "--all-namespaces", "--standalone", "-m", "business_operator.main"]
        with KopfRunner(args, timeout=60) as runner:
            yield runner
    assert runner.exception is None, runner.output


@pytest.fixture
def api(kube_url: str, operator: KopfRunner) -> Api:
    return Api(kube_url)


@pytest.fixture
def namespace(api: Api) -> Iterator[str]:
    """A fresh namespace per test; its Businesses are deleted afterwards so that the
    operator's timers do not keep reconciling every earlier test's tenants."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield name
    for business in api.list("Business", name):
        api.delete("Business", name, business["metadata"]["name"])
    eventually(lambda: not api.list("Business", name), timeout=60)


@pytest.fixture
def business_manifest() -> Callable[..., dict[str, Any]]:
    def make(namespace: str, name: str = "kandy-bakehouse", **spec: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "displayName": "Kandy Bakehouse",
            "whatsapp": {
                "phoneNumberId": str(100000000000000 + int(uuid.uuid4().int % 10**9)),
                "credentialsSecretRef": {"name": f"{name}-whatsapp"},
            },
            "knowledge": {"sources": [{"type": "faq", "items": [{"q": "Open?", "a": "7am-8pm"}]}]},
        }
        body.update(spec)
        return {
            "apiVersion": "katha.dev/v1alpha1",
            "kind": "Business",
            "metadata": {"name": name, "namespace": namespace},
            "spec": body,
        }

    return make
