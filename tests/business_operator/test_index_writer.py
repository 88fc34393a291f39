"""One index writer per Business, as a Job; read-only serving replicas; storage that works
across nodes; and when a run starts, decided from the Jobs the API server has.

The writer's summary is its termination message, which the operator reads from the Job's
Pod, never by calling an agent.
"""

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from example_tenants import example_tenant

from agent_runtime.settings import AgentSettings
from business_operator.index_runs import FAILED_RETRY, Plan, Run, expired, plan, result, run_id
from business_operator.names import INDEX_WRITER
from business_operator.render import Platform, Tenant, render_agent_children
from business_operator.render.context import Network
from business_operator.render.index import (
    BUSINESS_KEY,
    CONFIG_MOUNT_PATH,
    CONFIGMAPS_DIR,
    INDEX_VOLUME_LABEL,
    KNOWLEDGE_DIR,
    knowledge_digest,
    render_forget_job,
    render_writer_input,
    render_writer_job,
)
from ingestion.addresses import refusal
from ingestion.index.location import IndexLocation
from ingestion.settings import IngestionSettings
from katha.api import Business, load_resources
from katha.api.knowledge import KnowledgeStorage, ObjectStore, VolumeAccessMode
from katha.api.refs import SecretRef
from katha.contracts.serving import INDEX_MOUNT_PATH, AgentAppArgs

WORKLOADS = ["rayService", "deployment"]
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _tenant(workload: str, example: str = "02-every-source-type", **changes: Any) -> Tenant:
    return example_tenant(example, workload, **changes)


def _stored(tenant: Tenant, storage: KnowledgeStorage) -> Tenant:
    knowledge = tenant.spec.knowledge.model_copy(update={"storage": storage})
    return _tenant(tenant.workload, knowledge=knowledge)


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


def _writer(job: dict[str, Any]) -> dict[str, Any]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_serving_replicas_only_read_the_index(workload: str) -> None:
    tenant = _tenant(workload)
    folder = f"{tenant.namespace}/{tenant.name}.documents"
    documents = IndexLocation(INDEX_MOUNT_PATH).child(tenant.namespace, tenant.name).documents()
    for template in _templates(_workload(tenant)):
        pod = template["spec"]
        assert "initContainers" not in pod  # the writer is a Job of its own
        for container in pod["containers"]:
            (index,) = [m for m in container["volumeMounts"] if m["mountPath"] == INDEX_MOUNT_PATH]
            assert index["readOnly"] is True
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
            # Writable state never overlaps the index: a folder no namespace can be named;
            # on a volume shared across nodes, one per pod (SQLite wants one host).
            assert state["name"] == "index"
            assert state["subPathExpr"] == ".katha-state/$(KATHA_POD_NAME)"
            pod_name = next(item for item in container["env"] if item["name"] == "KATHA_POD_NAME")
            assert pod_name["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
            # The owner's uploads arrive through the agent: of the index volume, only the
            # Business's document folder is writable, where the agent looks for it.
            writable = [
                m for m in container["volumeMounts"]
                if m["name"] == "index" and not m.get("readOnly")
            ]  # fmt: skip
            assert [m["mountPath"] for m in writable if "subPath" in m] == [documents.uri]
            assert [m["subPath"] for m in writable if "subPath" in m] == [folder]


def test_the_writer_job_indexes_the_business_from_its_config_and_every_source_it_names(
    tmp_path: Path,
) -> None:
    tenant = _tenant("deployment")
    config_map = render_writer_input(tenant, "67a0f3c1")
    job = render_writer_job(tenant, "67a0f3c1", "created")
    # The run reads its own copy of the Business: a later change cannot alter it.
    config = next(v for v in job["spec"]["template"]["spec"]["volumes"] if v["name"] == "config")
    assert config["configMap"]["name"] == config_map["metadata"]["name"] == job["metadata"]["name"]
    assert job["kind"] == "Job"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1
    writer = _writer(job)
    assert writer["name"] == INDEX_WRITER
    command = writer["command"]
    assert command[:4] == ["python", "-m", "ingestion", f"{CONFIG_MOUNT_PATH}/{BUSINESS_KEY}"]
    assert _option(command, "--index-dir") == INDEX_MOUNT_PATH
    assert _option(command, "--configmap-dir") == CONFIGMAPS_DIR
    assert _option(command, "--base-dir") == KNOWLEDGE_DIR
    assert _option(command, "--summary-file") == writer["terminationMessagePath"]
    assert writer["terminationMessagePolicy"] == "FallbackToLogsOnError"
    mounts = {mount["mountPath"]: mount for mount in writer["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in job["spec"]["template"]["spec"]["volumes"]}
    # The index read-write; the ConfigMap a source names and the files volume read-only.
    assert "readOnly" not in mounts[INDEX_MOUNT_PATH]
    sources = mounts[CONFIGMAPS_DIR]
    assert sources["readOnly"] is True
    # Each key a source names lands at CONFIGMAPS_DIR/NAME/KEY, where the writer looks.
    assert volumes[sources["name"]]["projected"]["sources"] == [
        {
            "configMap": {
                "name": "ceylon-spice-prices",
                "items": [{"key": "prices.xlsx", "path": "ceylon-spice-prices/prices.xlsx"}],
            }
        }
    ]
    files = mounts[KNOWLEDGE_DIR]
    assert volumes[files["name"]]["persistentVolumeClaim"] == {
        "claimName": "ceylon-spice-files",
        "readOnly": True,
    }
    # What the writer reads is the Business itself, as `python -m ingestion` loads it.
    path = tmp_path / BUSINESS_KEY
    path.write_text(config_map["data"][BUSINESS_KEY], encoding="utf-8")
    (business,) = load_resources(path)
    assert isinstance(business, Business)
    assert business.spec == tenant.spec


@pytest.mark.parametrize("workload", WORKLOADS)
def test_on_a_read_write_once_volume_every_pod_that_mounts_it_shares_a_node(workload: str) -> None:
    base = _tenant(workload)
    tenant = _stored(
        base,
        base.spec.knowledge.storage.model_copy(
            update={"access_mode": VolumeAccessMode.READ_WRITE_ONCE}
        ),
    )
    job = render_writer_job(tenant, "1", "created")
    pods = [*_templates(_workload(tenant)), job["spec"]["template"]]
    for template in pods:
        (term,) = template["spec"]["affinity"]["podAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        # Every such pod matches every other's term, and its own (so the first goes anywhere).
        for other in pods:
            assert (
                term["labelSelector"]["matchLabels"].items() <= other["metadata"]["labels"].items()
            )
    volume = next(m for m in render_agent_children(tenant) if m["kind"] == "PersistentVolumeClaim")
    assert volume["spec"]["accessModes"] == ["ReadWriteOnce"]
    # All on one node: the replicas share one state folder (and its SQLite) safely.
    for template in _templates(_workload(tenant)):
        for container in template["spec"]["containers"]:
            (state,) = [m for m in container["volumeMounts"] if "state" in m["mountPath"]]
            assert state["subPath"] == ".katha-state"


@pytest.mark.parametrize("workload", WORKLOADS)
def test_on_a_read_write_many_volume_pods_go_to_any_node(workload: str) -> None:
    tenant = _tenant(workload)  # the example asks for ReadWriteMany
    assert tenant.spec.knowledge.storage.access_mode is VolumeAccessMode.READ_WRITE_MANY
    job = render_writer_job(tenant, "1", "created")
    for template in [*_templates(_workload(tenant)), job["spec"]["template"]]:
        assert "affinity" not in template["spec"]
        assert INDEX_VOLUME_LABEL not in template["metadata"]["labels"]
    volume = next(m for m in render_agent_children(tenant) if m["kind"] == "PersistentVolumeClaim")
    assert volume["spec"]["accessModes"] == ["ReadWriteMany"]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_an_index_in_object_storage_needs_no_volume_and_keys_come_from_the_secret(
    workload: str,
) -> None:
    store = ObjectStore(
        url="s3://katha-indexes/prod",
        endpoint="http://minio.storage.svc:9000",
        region="ap-south-1",
        credentials_secret_ref=SecretRef(name="katha-index-store"),
    )
    base = _tenant(workload)
    tenant = _stored(base, base.spec.knowledge.storage.model_copy(update={"object_store": store}))
    children = render_agent_children(tenant)
    assert not [m for m in children if m["kind"] == "PersistentVolumeClaim"]
    config_map = next(m for m in children if m["kind"] == "ConfigMap")
    args = AgentAppArgs.model_validate_json(config_map["data"]["app-args.json"])
    assert args.index_dir == "s3://katha-indexes/prod"
    writer = _writer(render_writer_job(tenant, "1", "created"))
    assert _option(writer["command"], "--index-dir") == "s3://katha-indexes/prod"
    containers = [c for t in _templates(_workload(tenant)) for c in t["spec"]["containers"]]
    for container in [writer, *containers]:
        env = {item["name"]: item for item in container["env"]}
        assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {
            "name": "katha-index-store",
            "key": "accessKeyId",
        }
        assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "secretAccessKey"
        assert env["AWS_ENDPOINT_URL"]["value"] == "http://minio.storage.svc:9000"
        assert env["AWS_REGION"]["value"] == "ap-south-1"
        assert not [m for m in container["volumeMounts"] if m["name"] == "index"]
    # Deleting the Business deletes its objects (unless kept), with the same keys.
    forget = render_forget_job(tenant)
    assert kubernetes_validate.validate(forget, "1.33", strict=True) == "1.33"
    (cleaner,) = forget["spec"]["template"]["spec"]["containers"]
    assert cleaner["command"][:3] == ["python", "-m", "ingestion.forget"]
    assert _option(cleaner["command"], "--index-dir") == "s3://katha-indexes/prod"
    assert {item["name"] for item in cleaner["env"]} >= {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }


def test_the_writer_refuses_the_clusters_own_ranges_as_its_network_policy_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    network = Network(cluster_cidrs=("35.192.0.0/14",))  # GKE-style
    tenant = example_tenant("02-every-source-type", "deployment", Platform(network=network))
    writer = _writer(render_writer_job(tenant, "1", "created"))
    for variable in writer["env"]:
        if "value" in variable:
            monkeypatch.setenv(variable["name"], variable["value"])
    policy = IngestionSettings().address_policy()
    assert refusal(ipaddress.ip_address("35.193.0.7"), policy) is not None
    assert refusal(ipaddress.ip_address("8.8.8.8"), policy) is None


def _run(
    name: str,
    hours_ago: float,
    *,
    finished_hours_ago: float | None = None,
    digest: str = "d1",
    request: str = "",
    succeeded: bool = True,
) -> Run:
    finished = None if finished_hours_ago is None else NOW - timedelta(hours=finished_hours_ago)
    created = NOW - timedelta(hours=hours_ago)
    return Run(
        name, created, digest, request, "schedule", finished, succeeded and finished is not None
    )


DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("runs", "digest", "request_", "trigger"),
    [
        ([], "d1", "", "created"),
        ([_run("a", 2, finished_hours_ago=1)], "d2", "", "knowledge-changed"),
        ([_run("a", 2, finished_hours_ago=1)], "d1", "2026-12-04T11:59:00Z", "requested"),
        ([_run("a", 2, finished_hours_ago=1, request="r1")], "d1", "r1", None),
        ([_run("a", 2, finished_hours_ago=1)], "d1", "", None),
        ([_run("a", 26, finished_hours_ago=25)], "d1", "", "schedule"),
        # A failed run is tried again within the hour, not a whole interval later.
        ([_run("a", 2, finished_hours_ago=1.5, succeeded=False)], "d1", "", "schedule"),
        # Never two at once: a change while a run is active waits for it.
        ([_run("a", 0.1)], "d2", "r9", None),
    ],
)
def test_a_run_starts_on_create_change_request_and_schedule_and_never_beside_another(
    runs: list[Run], digest: str, request_: str, trigger: str | None
) -> None:
    assert plan(runs, digest, request_, DAY, NOW).trigger == trigger


def test_the_next_run_is_an_interval_after_the_last_success_and_sooner_after_a_failure() -> None:
    ok = plan([_run("a", 2, finished_hours_ago=1)], "d1", "", DAY, NOW)
    assert ok.next_run == NOW - timedelta(hours=1) + DAY
    failed = plan([_run("a", 2, finished_hours_ago=1, succeeded=False)], "d1", "", DAY, NOW)
    assert failed.next_run == NOW - timedelta(hours=1) + FAILED_RETRY
    assert plan([_run("a", 0.1)], "d1", "", DAY, NOW).next_run is None


def test_only_the_newest_finished_runs_are_kept() -> None:
    runs = [_run(f"r{n}", 10 - n, finished_hours_ago=9.5 - n) for n in range(5)] + [_run("r5", 0.1)]
    assert [run.name for run in expired(runs)] == ["r0", "r1"]


def _pod(job: str, created: str, code: int, message: str) -> dict[str, Any]:
    terminated = {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}
    return {
        "metadata": {"name": f"{job}-x", "creationTimestamp": created, "labels": {"job-name": job}},
        "status": {
            "containerStatuses": [
                {"name": INDEX_WRITER, "state": {"terminated": {**terminated, "message": message}}}
            ]
        },
    }


READY = {
    "state": "ready",
    "documents": 3,
    "chunks": 41,
    "indexVersion": 7,
    "lastIndexed": "2026-12-04T10:00:00+00:00",
}


def test_the_newest_finished_runs_summary_is_the_index_state_while_the_next_one_runs() -> None:
    runs = [
        _run("old", 30, finished_hours_ago=29),
        _run("new", 3, finished_hours_ago=2),
        _run("now", 0.1),
    ]
    pods = [
        _pod("old", "2026-12-03T06:00:00Z", 0, json.dumps({**READY, "chunks": 5})),
        _pod(
            "new", "2026-12-04T09:00:00Z", 0, json.dumps({**READY, "failedSources": ["menu: 404"]})
        ),
    ]
    check, report = result(runs, pods, Plan(None, None))
    assert (check.ok, check.reason) == (True, "Indexed")
    assert check.message.startswith(
        "41 chunks from 3 documents (version 7); sources not refreshed: menu: 404"
    )
    assert "Job now is indexing again" in check.message
    assert report == {
        "writerJob": "now",
        "lastRun": "2026-12-04T10:00:00Z",
        "lastRunDigest": "d1",
        "lastRunRequest": "",
        "lastRunSucceeded": True,
        "documents": 3,
        "chunks": 41,
        "indexVersion": 7,
        "lastIndexed": "2026-12-04T10:00:00+00:00",
        "failedSources": ["menu: 404"],
    }


@pytest.mark.parametrize(
    ("succeeded", "code", "message", "ok", "reason"),
    [
        (
            False,
            1,
            json.dumps({"state": "failed", "message": "index not written: model down"}),
            False,
            "IndexFailed",
        ),
        (False, 1, "Traceback ...\nMemoryError", False, "IndexFailed"),
        (True, 0, json.dumps({**READY, "state": "failed"}), False, "IndexFailed"),
        (True, 0, json.dumps(READY), True, "Indexed"),
    ],
)
def test_a_finished_run_becomes_knowledge_indexed(
    succeeded: bool, code: int, message: str, ok: bool, reason: str
) -> None:
    runs = [_run("job", 2, finished_hours_ago=1, succeeded=succeeded)]
    check, _ = result(runs, [_pod("job", "2026-12-04T10:00:00Z", code, message)], Plan(None, None))
    assert (check.ok, check.reason) == (ok, reason)
    if "MemoryError" in message:
        assert check.message.endswith("exited with code 1: MemoryError")


def test_no_run_yet_and_a_first_run_say_so() -> None:
    assert result([], [], Plan("created", None))[0].reason == "WaitingForIndexWriter"
    check, report = result([_run("first", 0.1)], [], Plan(None, None))
    assert (check.ok, check.reason) == (None, "Indexing")
    assert report == {"writerJob": "first"}


def test_the_run_digest_follows_the_knowledge_only() -> None:
    base = _tenant("deployment")
    renamed = _tenant("deployment", persona=base.spec.persona.model_copy(update={"name": "Nila"}))
    fewer = _tenant("deployment", knowledge=base.spec.knowledge.model_copy(update={"sources": []}))
    assert knowledge_digest(renamed) == knowledge_digest(base)
    assert knowledge_digest(fewer) != knowledge_digest(base)


@pytest.mark.parametrize("workload", WORKLOADS)
def test_a_knowledge_change_does_not_roll_the_agent_and_a_persona_change_does(
    workload: str,
) -> None:
    def agent_config(tenant: Tenant) -> Any:
        workload = _workload(tenant)
        if workload["kind"] == "Deployment":
            return workload["spec"]["template"]["metadata"]["annotations"]
        return workload["spec"]["serveConfigV2"]

    base = _tenant(workload)
    fewer = _tenant(workload, knowledge=base.spec.knowledge.model_copy(update={"sources": []}))
    renamed = _tenant(workload, persona=base.spec.persona.model_copy(update={"name": "Kumari"}))
    assert agent_config(fewer) == agent_config(base)  # the writer's business, not the agent's
    assert agent_config(renamed) != agent_config(base)


def test_one_decision_names_one_run_and_the_next_decision_another() -> None:
    before = [_run("a", 2, finished_hours_ago=1)]
    first = run_id("schedule", "d1", "", before)
    # A timer and a change handler deciding the same thing at once make one Job (409).
    assert run_id("schedule", "d1", "", before) == first
    # The knowledge going back to an earlier digest still gets a run of its own.
    assert (
        run_id("schedule", "d1", "", [*before, _run(first, 0.5, finished_hours_ago=0.1)]) != first
    )
    assert run_id("requested", "d1", "r1", before) != first
