"""One index writer per Business, read-only serving replicas, and index state from Pod status.

The writer is an init container of the one pod that owns the index (the Deployment's pod,
or the RayService's head); its summary is its termination message, which the operator
reads from the API, never by calling an agent.
"""

import ipaddress
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from example_tenants import example_tenant
from kube_api import Api, credentials_secret, eventually

from agent_runtime.settings import AgentSettings
from business_operator.knowledge import SHARED_NODE, knowledge_from_pods
from business_operator.names import INDEX_WRITER
from business_operator.render import Platform, Tenant, render_agent_children
from business_operator.render.agent import BUSINESS_KEY, CONFIG_MOUNT_PATH
from business_operator.render.context import Network
from ingestion.addresses import refusal
from ingestion.settings import IngestionSettings
from katha.api import Business, load_resources
from katha.contracts.serving import INDEX_MOUNT_PATH

WORKLOADS = ["rayService", "deployment"]


def _tenant(workload: str, example: str = "02-every-source-type", **changes: Any) -> Tenant:
    return example_tenant(example, workload, **changes)


def _workload(tenant: Tenant) -> dict[str, Any]:
    kind = "RayService" if tenant.workload == "rayService" else "Deployment"
    return next(m for m in render_agent_children(tenant) if m["kind"] == kind)


def _templates(workload: dict[str, Any]) -> list[dict[str, Any]]:
    if workload["kind"] == "Deployment":
        return [workload["spec"]["template"]]
    cluster = workload["spec"]["rayClusterConfig"]
    return [cluster["headGroupSpec"]["template"]] + [
        group["template"] for group in cluster["workerGroupSpecs"]
    ]


def _index_mounts(container: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        mount
        for mount in container.get("volumeMounts", [])
        if mount["name"] == "index" and mount["mountPath"] == INDEX_MOUNT_PATH
    ]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_only_the_index_writer_may_write_the_index(workload: str) -> None:
    writers, serving = [], []
    for template in _templates(_workload(_tenant(workload))):
        pod = template["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            mounts = _index_mounts(container)
            assert len(mounts) == 1, container["name"]
            if mounts[0].get("readOnly") is True:
                serving.append(container)
            else:
                writers.append(container)
    assert [writer["name"] for writer in writers] == [INDEX_WRITER]
    assert serving
    for container in serving:
        env = {item["name"]: item for item in container["env"] if "value" in item}
        with pytest.MonkeyPatch.context() as patch:
            for name, item in env.items():
                patch.setenv(name, item["value"])
            settings = AgentSettings()
        assert settings.index_read_only is True
        assert settings.state_dir is not None
        state = next(
            m for m in container["volumeMounts"] if m["mountPath"] == str(settings.state_dir)
        )
        # Writable state never overlaps the index: a folder no namespace can be named.
        assert state["name"] == "index"
        assert state["subPath"].startswith(".")


@pytest.mark.parametrize("workload", WORKLOADS)
def test_the_writer_indexes_the_business_from_its_config_and_reports_by_termination_message(
    workload: str, tmp_path: Path
) -> None:
    tenant = _tenant(workload)
    config_map = next(m for m in render_agent_children(tenant) if m["kind"] == "ConfigMap")
    writer = next(
        container
        for template in _templates(_workload(tenant))
        for container in template["spec"].get("initContainers", [])
    )
    assert writer["command"][:3] == ["python", "-m", "ingestion"]
    assert writer["command"][3] == f"{CONFIG_MOUNT_PATH}/{BUSINESS_KEY}"
    arguments = writer["command"][4:]
    assert arguments[arguments.index("--index-dir") + 1] == INDEX_MOUNT_PATH
    assert arguments[arguments.index("--summary-file") + 1] == "/dev/termination-log"
    assert writer["terminationMessagePath"] == "/dev/termination-log"
    assert writer["terminationMessagePolicy"] == "File"
    # What the writer reads is the Business itself, as `python -m ingestion` loads it.
    path = tmp_path / BUSINESS_KEY
    path.write_text(config_map["data"][BUSINESS_KEY], encoding="utf-8")
    (business,) = load_resources(path)
    assert isinstance(business, Business)
    assert (business.metadata.name, business.metadata.namespace) == (tenant.name, tenant.namespace)
    assert business.spec == tenant.spec


def test_ray_workers_go_to_the_node_of_the_pods_that_hold_the_index() -> None:
    tenant = _tenant("rayService")
    head, worker = _templates(_workload(tenant))
    assert "initContainers" not in worker["spec"]  # one writer: the head's
    for template in (head, worker):
        (term,) = template["spec"]["affinity"]["podAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        selected = term["labelSelector"]["matchLabels"]
        assert selected.items() <= head["metadata"]["labels"].items()
        assert selected.items() <= worker["metadata"]["labels"].items()


def test_a_knowledge_change_rolls_the_ray_cluster_and_a_persona_change_does_not() -> None:
    def digest(tenant: Tenant) -> str:
        head = _templates(_workload(tenant))[0]
        return str(head["metadata"]["annotations"]["katha.dev/knowledge-digest"])

    base = _tenant("rayService")
    renamed = _tenant("rayService", persona=base.spec.persona.model_copy(update={"name": "Nila"}))
    fewer = _tenant("rayService", knowledge=base.spec.knowledge.model_copy(update={"sources": []}))
    assert digest(renamed) == digest(base)
    assert digest(fewer) != digest(base)


def _pod(created: str, state: dict[str, Any], last: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"name": INDEX_WRITER, "state": state}
    if last is not None:
        status["lastState"] = last
    return {
        "metadata": {"name": f"agent-{created}", "creationTimestamp": created},
        "status": {"initContainerStatuses": [status]},
    }


def _done(code: int, **summary: Any) -> dict[str, Any]:
    return {"terminated": {"exitCode": code, "reason": "Completed", "message": json.dumps(summary)}}


READY = {
    "state": "ready",
    "documents": 3,
    "chunks": 41,
    "indexVersion": 7,
    "lastIndexed": "2026-12-04T10:00:00+00:00",
}


def test_the_newest_writers_summary_is_the_index_state() -> None:
    old = _pod("2026-12-01T00:00:00Z", _done(0, **{**READY, "chunks": 5, "indexVersion": 2}))
    new = _pod("2026-12-04T00:00:00Z", _done(0, **READY, failedSources=["menu: 404"]))
    check, report = knowledge_from_pods([new, old])
    assert (check.ok, check.reason) == (True, "Indexed")
    assert (
        check.message == "41 chunks from 3 documents (version 7); sources not refreshed: menu: 404"
    )
    assert report == {
        "documents": 3,
        "chunks": 41,
        "indexVersion": 7,
        "lastIndexed": "2026-12-04T10:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("pods", "ok", "reason"),
    [
        ([], None, "WaitingForIndexWriter"),
        ([_pod("2026-12-04T00:00:00Z", {"running": {}})], None, "Indexing"),
        (
            [
                _pod(
                    "2026-12-04T00:00:00Z",
                    {"waiting": {"reason": "CrashLoopBackOff"}},
                    _done(1, state="failed", message="index not written: model down"),
                )
            ],
            False,
            "IndexFailed",
        ),
        (
            [_pod("2026-12-04T00:00:00Z", _done(0, **{**READY, "state": "failed"}))],
            False,
            "IndexFailed",
        ),
        ([_pod("2026-12-04T00:00:00Z", {"terminated": {"exitCode": 137}})], False, "IndexFailed"),
    ],
)
def test_the_writers_state_becomes_knowledge_indexed(
    pods: list[dict[str, Any]], ok: bool | None, reason: str
) -> None:
    check, _ = knowledge_from_pods(pods)
    assert (check.ok, check.reason) == (ok, reason)


def test_ray_status_says_replicas_share_the_heads_node() -> None:
    check, _ = knowledge_from_pods(
        [_pod("2026-12-04T00:00:00Z", _done(0, **READY))], shared_node=True
    )
    assert check.message.endswith(SHARED_NODE)


def test_the_operator_reads_the_index_state_from_the_writers_pod(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    api.create(business_manifest(namespace, agent={"workload": "deployment"}))
    deployment = eventually(lambda: api.get("Deployment", namespace, "kandy-bakehouse-agent"))
    # The kubelet's part: the Deployment's pod, its writer finished with a summary.
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "kandy-bakehouse-agent-7d9f-x2x4q",
            "namespace": namespace,
            "labels": deployment["spec"]["template"]["metadata"]["labels"],
        },
        "spec": deployment["spec"]["template"]["spec"],
        "status": {"initContainerStatuses": [{"name": INDEX_WRITER, "state": _done(0, **READY)}]},
    }
    response = api.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod)
    response.raise_for_status()

    def knowledge() -> dict[str, Any] | None:
        status = (api.get("Business", namespace, "kandy-bakehouse") or {}).get("status") or {}
        return status.get("knowledge")

    assert eventually(knowledge) == {
        "documents": 3,
        "chunks": 41,
        "indexVersion": 7,
        "lastIndexed": "2026-12-04T10:00:00+00:00",
    }
    status = api.get("Business", namespace, "kandy-bakehouse")["status"]
    indexed = next(c for c in status["conditions"] if c["type"] == "KnowledgeIndexed")
    assert (indexed["status"], indexed["reason"]) == ("True", "Indexed")


def test_the_writer_refuses_the_clusters_own_ranges_as_its_network_policy_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    network = Network(cluster_cidrs=("35.192.0.0/14",))  # GKE-style
    tenant = example_tenant("02-every-source-type", "deployment", Platform(network=network))
    (writer,) = _templates(_workload(tenant))[0]["spec"]["initContainers"]
    for variable in writer["env"]:
        if "value" in variable:
            monkeypatch.setenv(variable["name"], variable["value"])
    policy = IngestionSettings().address_policy()
    assert refusal(ipaddress.ip_address("35.193.0.7"), policy) is not None
    assert refusal(ipaddress.ip_address("8.8.8.8"), policy) is None
