"""The index writer's schedule, run for real.

The operator (against the Kubernetes emulator, with the chart's RBAC) starts a writer Job
on create, on a knowledge change, on request (the refresh annotation `katha refresh`
sets) and when `refreshInterval` has passed, never two at once. The test kubelet runs
each Job's pod as a process (`python -m ingestion`, the writer's real code path, with
the ConfigMap a source names mounted), and the operator reads the outcome from the Job's
Pod as in a cluster. An agent then answers from what the writer committed.
"""

import base64
import io
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.fs as fs
import pytest
from kube_api import Api, credentials_secret, eventually
from kubelet import run_job
from peers.object_store import S3Server
from typer.testing import CliRunner

from agent_runtime.agent import Agent
from agent_runtime.settings import AgentSettings
from katha.contracts.messages import InboundMessage
from katha.contracts.serving import AgentAppArgs
from katha_cli.app import app

pytestmark = pytest.mark.slow

NAME = "kandy-bakehouse"
PRICES = {
    "name": "prices",
    "type": "spreadsheet",
    "configMapRef": {"name": "kandy-prices", "key": "prices.xlsx"},
}
HOURS = {"name": "hours", "type": "faq", "items": [{"q": "When are you open?", "a": "7am-8pm"}]}


def price_list() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Prices"
    sheet.append(("Item", "Price (Rs.)"))
    for row in (("Chicken Kottu", 1200), ("Egg Hopper", 90), ("Fish Rice & Curry", 850)):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def writer_jobs(api: Api, namespace: str) -> list[dict[str, Any]]:
    """The Business's writer runs, oldest first (by the order the API server stored them)."""
    selector = f"app.kubernetes.io/instance={NAME},app.kubernetes.io/component=index-writer"
    jobs = api.list_labelled("Job", namespace, selector)
    return sorted(jobs, key=lambda job: int(job["metadata"]["resourceVersion"]))


def trigger(job: dict[str, Any]) -> str:
    return str(job["metadata"]["annotations"]["katha.dev/trigger"])


def new_job(api: Api, namespace: str, seen: int) -> dict[str, Any]:
    """Waits for the operator to start run number `seen + 1`; that run's Job."""
    jobs = eventually(lambda: (found := writer_jobs(api, namespace))[seen:] and found, timeout=30)
    assert len(jobs) == seen + 1, [job["metadata"]["name"] for job in jobs]
    return jobs[-1]


def business_status(api: Api, namespace: str) -> dict[str, Any]:
    return dict((api.get("Business", namespace, NAME) or {}).get("status") or {})


def indexed(api: Api, namespace: str) -> dict[str, Any]:
    return next(
        c for c in business_status(api, namespace)["conditions"] if c["type"] == "KnowledgeIndexed"
    )


@pytest.fixture
def shop(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    """A Business whose price list is a spreadsheet in a ConfigMap."""
    api.create(credentials_secret(namespace, f"{NAME}-whatsapp"))
    prices = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kandy-prices", "namespace": namespace},
        "binaryData": {"prices.xlsx": base64.b64encode(price_list()).decode()},
    }
    api.create(prices)
    manifest = business_manifest(
        namespace,
        agent={"workload": "deployment"},
        knowledge={"sources": [PRICES, HOURS], "refreshInterval": "24h"},
    )
    api.create(manifest)
    return manifest


def ask(args: AgentAppArgs, index_root: Path, state: Path, text: str) -> str:
    """An agent replica as the operator configures it (read-only), on the writer's index."""
    settings = AgentSettings(index_read_only=True, state_dir=state)
    agent = Agent(args.model_copy(update={"index_dir": str(index_root)}), settings)
    try:
        message = InboundMessage.model_validate(
            {
                "message_id": "wamid.price.1",
                "tenant": args.tenant,
                "conversation_id": "c-1",
                "type": "text",
                "timestamp": datetime.now(UTC).isoformat(),
                "text": text,
            }
        )
        return agent.reply(message).text or ""
    finally:
        agent.close()


def test_a_configmap_spreadsheet_is_indexed_by_the_writer_job_and_answered(
    api: Api, namespace: str, shop: dict[str, Any], tmp_path: Path
) -> None:
    job = new_job(api, namespace, 0)
    assert trigger(job) == "created"
    volumes = tmp_path / "volumes"
    run = run_job(api, namespace, job["metadata"]["name"], volumes)
    assert run.exit_codes == [0], run.log.read_text()[-2000:]

    def reported() -> dict[str, Any] | None:
        knowledge = business_status(api, namespace).get("knowledge") or {}
        return knowledge if knowledge.get("lastRun") else None

    knowledge = eventually(reported, timeout=30)
    assert knowledge["failedSources"] == [], knowledge
    assert knowledge["documents"] >= 2, knowledge  # the workbook and the FAQ
    assert knowledge["chunks"] >= 4
    assert knowledge["indexVersion"] >= 1
    assert knowledge["failedSources"] == []
    last, following = (
        datetime.fromisoformat(knowledge[key].replace("Z", "+00:00"))
        for key in ("lastRun", "nextRun")
    )
    assert following - last == timedelta(hours=24)
    assert (indexed(api, namespace)["status"], indexed(api, namespace)["reason"]) == (
        "True",
        "Indexed",
    )

    config = api.get("ConfigMap", namespace, f"{NAME}-agent-config")
    assert config is not None
    args = AgentAppArgs.model_validate_json(config["data"]["app-args.json"])
    index_root = volumes / namespace / "pvc" / f"{NAME}-index"
    answer = ask(args, index_root, tmp_path / "state", "How much is a chicken kottu?")
    assert "1200" in answer.replace(",", "")


def test_runs_start_on_change_request_and_schedule_and_never_two_at_once(
    api: Api, namespace: str, shop: dict[str, Any], tmp_path: Path, admin_kubeconfig: Path
) -> None:
    volumes = tmp_path / "volumes"
    first = new_job(api, namespace, 0)
    # While the first run is active, a knowledge change and a request both wait for it.
    changed = {**shop["spec"]["knowledge"], "sources": [HOURS]}
    api.patch("Business", namespace, NAME, {"spec": {"knowledge": changed}})
    api.patch(
        "Business",
        namespace,
        NAME,
        {"metadata": {"annotations": {"katha.dev/refresh-requested": "2026-12-04T12:00:00Z"}}},
    )
    eventually(lambda: business_status(api, namespace).get("observedGeneration") == 2, timeout=30)
    assert len(writer_jobs(api, namespace)) == 1
    assert run_job(api, namespace, first["metadata"]["name"], volumes).exit_codes == [0]
    before = eventually(
        lambda: (business_status(api, namespace).get("knowledge") or {}).get("chunks"), timeout=30
    )

    second = new_job(api, namespace, 1)
    assert trigger(second) == "knowledge-changed"
    # The run answers the request too: it was there when the run started.
    assert (
        second["metadata"]["annotations"]["katha.dev/refresh-requested"] == "2026-12-04T12:00:00Z"
    )
    assert run_job(api, namespace, second["metadata"]["name"], volumes).exit_codes == [0]

    # The price list left the spec: its chunks leave the index with that run.
    def fewer() -> int | None:
        chunks = (business_status(api, namespace).get("knowledge") or {}).get("chunks")
        return chunks if chunks is not None and chunks < before else None

    eventually(fewer, timeout=30)

    # `katha refresh`, as a shop's platform engineer runs it (here as the cluster admin).
    refreshed = CliRunner().invoke(
        app, ["refresh", NAME, "-n", namespace, "--kubeconfig", str(admin_kubeconfig)]
    )
    assert refreshed.exit_code == 0, refreshed.output
    assert "re-index requested" in refreshed.output
    third = new_job(api, namespace, 2)
    assert trigger(third) == "requested"
    assert run_job(api, namespace, third["metadata"]["name"], volumes).exit_codes == [0]

    # A day passes (as the Job's status tells it): the schedule starts the next run.
    status = api.get("Job", namespace, third["metadata"]["name"])["status"]
    day_ago = (datetime.now(UTC) - timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api.patch_status(
        "Job", namespace, third["metadata"]["name"], {**status, "completionTime": day_ago}
    )
    fourth = new_job(api, namespace, 3)
    assert trigger(fourth) == "schedule"

    def started() -> list[dict[str, Any]]:
        return [e for e in api.list("Event", namespace) if e.get("reason") == "IndexRunStarted"]

    # Kopf posts events after the handler returns: the Job is visible first.
    eventually(lambda: len(started()) >= 4, timeout=30)
    assert len(started()) == 4  # one per run, none for a 409


def test_a_failed_run_keeps_the_last_good_version_and_says_why(
    api: Api, namespace: str, shop: dict[str, Any], tmp_path: Path
) -> None:
    volumes = tmp_path / "volumes"
    first = new_job(api, namespace, 0)
    assert run_job(api, namespace, first["metadata"]["name"], volumes).exit_codes == [0]
    good = eventually(
        lambda: (
            (business_status(api, namespace).get("knowledge") or {}).get("lastRun")
            and business_status(api, namespace)["knowledge"]
        ),
        timeout=30,
    )

    api.patch(
        "Business",
        namespace,
        NAME,
        {"metadata": {"annotations": {"katha.dev/refresh-requested": "now"}}},
    )
    second = new_job(api, namespace, 1)
    # The embeddings service this run is told to use is down: no version can be written.
    broken = {
        "KATHA_INGEST_EMBEDDER": "openai",
        "KATHA_INGEST_EMBEDDINGS_URL": "http://127.0.0.1:9/v1",
        "KATHA_INGEST_FETCH_TIMEOUT_SECONDS": "2",
    }
    run = run_job(api, namespace, second["metadata"]["name"], volumes, extra_env=broken)
    assert run.exit_codes == [1, 1, 1]  # the first try and the Job's two retries (backoffLimit)

    def failed() -> dict[str, Any] | None:
        condition = indexed(api, namespace)
        return condition if condition["reason"] == "IndexFailed" else None

    condition = eventually(failed, timeout=30)
    assert condition["status"] == "False"
    knowledge = business_status(api, namespace)["knowledge"]
    assert knowledge["writerJob"] == second["metadata"]["name"]
    # What is served is still the first run's version.
    assert (knowledge["indexVersion"], knowledge["chunks"]) == (
        good["indexVersion"],
        good["chunks"],
    )
    config = api.get("ConfigMap", namespace, f"{NAME}-agent-config")
    assert config is not None
    args = AgentAppArgs.model_validate_json(config["data"]["app-args.json"])
    index_root = volumes / namespace / "pvc" / f"{NAME}-index"
    assert "1200" in ask(args, index_root, tmp_path / "state", "chicken kottu price?").replace(
        ",", ""
    )


def test_refreshing_a_business_that_does_not_exist_says_so(
    api: Api, namespace: str, admin_kubeconfig: Path
) -> None:
    result = CliRunner().invoke(
        app, ["refresh", "nobody", "-n", namespace, "--kubeconfig", str(admin_kubeconfig)]
    )
    assert result.exit_code == 1
    assert f"Business {namespace}/nobody: no such Business" in result.output


def test_a_missing_configmap_is_named_with_what_to_do_and_the_run_waits_for_it(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, f"{NAME}-whatsapp"))
    api.create(business_manifest(namespace, knowledge={"sources": [PRICES, HOURS]}))

    def waiting() -> dict[str, Any] | None:
        status = business_status(api, namespace)
        conditions = {c["type"]: c for c in status.get("conditions") or []}
        condition = conditions.get("KnowledgeIndexed")
        return condition if condition and condition["reason"] == "SourceMissing" else None

    condition = eventually(waiting, timeout=30)
    assert condition["status"] == "False"
    assert "ConfigMap kandy-prices does not exist" in condition["message"]
    # Too big for a ConfigMap is the usual reason it is missing: say where such files go.
    assert "at most 1 MiB" in condition["message"]
    assert "spec.knowledge.files" in condition["message"]
    assert writer_jobs(api, namespace) == []
    prices = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kandy-prices", "namespace": namespace},
        "binaryData": {"prices.xlsx": base64.b64encode(price_list()).decode()},
    }
    api.create(prices)
    assert trigger(new_job(api, namespace, 0)) == "created"


@pytest.fixture
def s3() -> Iterator[S3Server]:
    with S3Server().serve() as server:
        server.create_bucket("katha-indexes")
        yield server


def test_an_index_in_object_storage_is_written_there_and_goes_with_the_business(
    api: Api,
    namespace: str,
    business_manifest: Callable[..., dict[str, Any]],
    s3: S3Server,
    tmp_path: Path,
) -> None:
    api.create(credentials_secret(namespace, f"{NAME}-whatsapp"))
    keys = {"accessKeyId": s3.access_key, "secretAccessKey": s3.secret_key}
    store_secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "index-store",
            "namespace": namespace,
            "labels": {"katha.dev/business": NAME},
        },
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in keys.items()},
    }
    api.create(store_secret)
    storage = {
        "objectStore": {
            "url": "s3://katha-indexes/shops",
            "endpoint": s3.base,
            "region": s3.region,
            "credentialsSecretRef": {"name": "index-store"},
        }
    }
    api.create(business_manifest(namespace, knowledge={"sources": [HOURS], "storage": storage}))
    job = new_job(api, namespace, 0)
    run = run_job(api, namespace, job["metadata"]["name"], tmp_path / "volumes")
    assert run.exit_codes == [0], run.log.read_text()[-2000:]
    prefix = f"shops/{namespace}/{NAME}"  # the index (NAME/) and the uploads (NAME.documents/)
    assert s3.keys("katha-indexes", f"{prefix}/")  # in the bucket, not on a volume
    assert api.get("PersistentVolumeClaim", namespace, f"{NAME}-index") is None
    owner = fs.S3FileSystem(
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        region=s3.region,
        endpoint_override=s3.base.removeprefix("http://"),
        scheme="http",
    )
    with owner.open_output_stream(f"katha-indexes/{prefix}.documents/menu.md") as upload:
        upload.write(b"# Menu\nKottu Rs. 1200\n")
    # A run is going when the Business is deleted: it is stopped before the cleanup.
    annotate = {"metadata": {"annotations": {"katha.dev/refresh-requested": "before-delete"}}}
    api.patch("Business", namespace, NAME, annotate)
    running = new_job(api, namespace, 1)

    api.delete("Business", namespace, NAME)
    cleanup = eventually(lambda: api.get("Job", namespace, f"{NAME}-index-forget"), timeout=30)
    assert api.get("Job", namespace, running["metadata"]["name"]) is None
    assert "ownerReferences" not in cleanup["metadata"]  # a foreground deletion keeps it
    assert api.get("Business", namespace, NAME) is not None  # held until the index is gone
    forgot = run_job(api, namespace, cleanup["metadata"]["name"], tmp_path / "volumes")
    assert forgot.exit_codes == [0], forgot.log.read_text()[-2000:]
    eventually(lambda: api.get("Business", namespace, NAME) is None, timeout=30)
    assert s3.keys("katha-indexes", prefix) == []  # the index and the uploaded menu
    eventually(lambda: api.get("Job", namespace, f"{NAME}-index-forget") is None, timeout=30)


def test_a_missing_object_store_secret_is_named_and_no_run_starts(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, f"{NAME}-whatsapp"))
    store = {"url": "s3://katha-indexes/shops", "credentialsSecretRef": {"name": "index-store"}}
    knowledge = {"sources": [HOURS], "storage": {"objectStore": store}}
    api.create(business_manifest(namespace, knowledge=knowledge))

    def waiting() -> dict[str, Any] | None:
        conditions = {c["type"]: c for c in business_status(api, namespace).get("conditions") or []}
        found = conditions.get("KnowledgeIndexed")
        return found if found and found["reason"] == "SourceMissing" else None

    condition = eventually(waiting, timeout=30)
    assert (
        "Secret index-store (objectStore.credentialsSecretRef) does not exist"
        in condition["message"]
    )
    assert writer_jobs(api, namespace) == []


def test_runs_whose_jobs_were_deleted_are_remembered_from_the_status(
    api: Api, namespace: str, shop: dict[str, Any], tmp_path: Path
) -> None:
    """A cluster policy that puts a TTL on every Job (or a person) deletes the finished
    runs: the Business is not taken for never indexed, and its figures stay."""
    first = new_job(api, namespace, 0)
    assert run_job(api, namespace, first["metadata"]["name"], tmp_path / "volumes").exit_codes == [
        0
    ]

    def reported() -> dict[str, Any] | None:
        knowledge = business_status(api, namespace).get("knowledge") or {}
        return knowledge if knowledge.get("lastRun") else None

    before = eventually(reported, timeout=30)
    api.delete("Job", namespace, first["metadata"]["name"])
    for pod in api.list_labelled("Pod", namespace, f"job-name={first['metadata']['name']}"):
        api.delete("Pod", namespace, pod["metadata"]["name"])
    # Several reconciles later (the timer runs every 2 s): no run started, nothing lost.
    generation = business_status(api, namespace).get("observedGeneration")
    api.patch("Business", namespace, NAME, {"spec": {"displayName": "Kandy Bakehouse & Cafe"}})
    eventually(lambda: business_status(api, namespace).get("observedGeneration") != generation)
    time.sleep(5)  # not a timing assertion: two timer rounds that must not start a run
    assert writer_jobs(api, namespace) == []
    after = business_status(api, namespace)["knowledge"]
    for key in ("documents", "chunks", "indexVersion", "lastRun", "nextRun"):
        assert after[key] == before[key], key
    assert indexed(api, namespace)["reason"] == "Indexed"
