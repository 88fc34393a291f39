"""The router writes what Meta said about a number into its Business's `status.whatsapp`,
through the Kubernetes API as the chart's `katha-router` ServiceAccount: the emulator
enforces the RBAC the chart renders (patch on businesses/status, nothing more)."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from chart_rbac import ROUTER_TOKEN, chart_gate
from example_tenants import EXAMPLES
from kube_api import Api
from kube_emulator import KubeEmulator, running_emulator

from router import routes_kubernetes
from router.business_status import KubernetesStatusWriter
from router.settings import RouterSettings

AT = "2026-12-04T10:00:00+00:00"


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with running_emulator(kuberay=False, gate=chart_gate()) as (emulator, _):
        yield emulator


def _writer(
    url: str, token_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> KubernetesStatusWriter:
    (token_folder / "token").write_text(ROUTER_TOKEN)
    monkeypatch.setattr(routes_kubernetes, "SERVICE_ACCOUNT", token_folder)
    return KubernetesStatusWriter.in_cluster(RouterSettings(kubernetes_api_url=url))


def test_the_router_merges_meta_signals_into_the_business_status_and_nothing_else(
    kube: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = Api(kube.http_url)
    business = yaml.safe_load((EXAMPLES / "01-minimal-business.yaml").read_text())
    business["metadata"].update(name="kandy-bakehouse", namespace="tenants")
    admin.create(business)
    admin.patch_status("Business", "tenants", "kandy-bakehouse", {"phase": "Ready"})

    async def write() -> tuple[bool, bool]:
        writer = _writer(kube.http_url, tmp_path, monkeypatch)
        try:
            quality = {"event": "FLAGGED", "messagingLimit": "TIER_1K", "at": AT}
            first = await writer.write("tenants/kandy-bakehouse", {"quality": quality})
            paused = {"name": "katha_handoff", "language": "en", "event": "PAUSED", "at": AT}
            template = {"templates": {"katha_handoff:en": paused}}
            second = await writer.write("tenants/kandy-bakehouse", template)
            return first, second
        finally:
            await writer.aclose()

    assert asyncio.run(write()) == (True, True)
    status = admin.get("Business", "tenants", "kandy-bakehouse")["status"]
    assert status["phase"] == "Ready"  # what the operator wrote stays
    assert status["whatsapp"]["quality"]["event"] == "FLAGGED"
    assert status["whatsapp"]["templates"]["katha_handoff:en"]["event"] == "PAUSED"
    assert kube.refusals == []


def test_a_business_that_is_gone_costs_a_log_line_not_an_error(
    kube: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def write() -> bool:
        writer = _writer(kube.http_url, tmp_path, monkeypatch)
        try:
            return await writer.write("tenants/closed-shop", {"quality": {"event": "FLAGGED"}})
        finally:
            await writer.aclose()

    assert asyncio.run(write()) is False
