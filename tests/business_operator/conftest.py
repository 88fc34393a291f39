"""The real Kopf operator against the Kubernetes emulator, shared by this folder's tests.

The emulator enforces the RBAC the chart renders: the operator signs in with the token of
the chart's `katha-operator` ServiceAccount (through a kubeconfig, as `kopf run` would
outside a pod), so any request its Roles do not allow is refused with 403, and the test
during which that happened fails (a missing verb in the chart fails a test).
"""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chart_rbac import ADMIN_TOKEN, OPERATOR_TOKEN, chart_gate
from kopf.testing import KopfRunner
from kube_api import PLATFORM_NAMESPACE, Api, eventually, kubeconfig
from kube_emulator import KubeEmulator, running_emulator

RECONCILE_INTERVAL = 2.0


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeEmulator]:
    tls = tmp_path_factory.mktemp("emulator-tls")
    with running_emulator(kuberay=True, gate=chart_gate(), tls_folder=tls) as (emulator, _):
        yield emulator


@pytest.fixture(scope="session")
def admin_kubeconfig(kube: KubeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kubectl as a cluster admin (over HTTPS: kubectl sends no token over plain HTTP)."""
    assert kube.https_url is not None
    config = tmp_path_factory.mktemp("admin") / "kubeconfig"
    config.write_text(kubeconfig(kube.https_url, ADMIN_TOKEN, "admin", "default", kube.certificate))
    return config


@pytest.fixture(scope="session")
def kube_url(kube: KubeEmulator) -> str:
    return kube.http_url


@pytest.fixture(autouse=True)
def _no_request_refused(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test during which the chart's RBAC refused the operator anything."""
    if "kube_url" not in request.fixturenames:
        yield
        return
    kube: KubeEmulator = request.getfixturevalue("kube")
    seen = len(kube.refusals)
    yield
    refused = kube.refusals[seen:]
    assert not refused, "the chart's RBAC refused:\n" + "\n".join(sorted(set(refused)))


@pytest.fixture(scope="session")
def operator(kube_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KopfRunner]:
    config = tmp_path_factory.mktemp("operator") / "kubeconfig"
    config.write_text(kubeconfig(kube_url, OPERATOR_TOKEN, "katha-operator"))
    settings = {
        "KUBECONFIG": str(config),
        "KATHA_OPERATOR_PLATFORM_NAMESPACE": PLATFORM_NAMESPACE,
        "KATHA_OPERATOR_RECONCILE_INTERVAL_SECONDS": str(RECONCILE_INTERVAL),
        "KATHA_OPERATOR_LOG_FORMAT": "json",
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("KATHA_OPERATOR_KUBE_API_URL", raising=False)
        for key, value in settings.items():
            patch.setenv(key, value)
        args = ["run", "--all-namespaces", "--standalone", "-m", "business_operator.main"]
        runner = KopfRunner(args, timeout=60).__enter__()
        _RUNNING.append(runner)
        try:
            yield runner
        finally:
            _stop_operator()  # a no-op when this folder's last test stopped it already
    assert runner.exception is None, runner.output


_RUNNING: list[KopfRunner] = []


def _stop_operator() -> None:
    while _RUNNING:
        _RUNNING.pop().__exit__(None, None, None)


@pytest.hookimpl(trylast=True)  # after the test's own fixtures are torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """The operator is shared by this folder's tests only: once the last of them is done
    (and its namespaces are cleaned up, which needs the operator), it stops, rather than
    reconciling on a timer through the rest of the suite."""
    here = Path(__file__).parent
    if nextitem is None or here not in Path(nextitem.path).parents:
        _stop_operator()


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
