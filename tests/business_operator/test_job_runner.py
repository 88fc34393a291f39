"""The test Job controller and kubelet (tests/support/kubelet.py): a Job of the emulator runs
as a real local process, and its Pod and Job statuses read as a cluster's would."""

import base64
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from kube_api import Api
from kubelet import pending_jobs, run_job

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

# Reads a mounted ConfigMap and a Secret variable, writes to the claim and to the
# termination log; every path is the container's, as an image's program would see them.
WRITER = """
import os, pathlib, sys
greeting = pathlib.Path('/etc/greeting/hello.txt').read_text()
logo = pathlib.Path('/etc/greeting/logo.bin').read_bytes()
if os.environ['API_TOKEN'] != 'token-for-tests' or logo != bytes([0, 255, 1]):
    sys.exit(3)
if 'OPTIONAL_SETTING' in os.environ:
    sys.exit(4)
out = pathlib.Path(os.environ['OUTPUT'])
out.write_text(greeting + ' from ' + os.environ['POD_NAME'])
print('wrote', out.name)
pathlib.Path('/dev/termination-log').write_text('{"chunks": 7}')
"""
FAILING = "import sys; print('boom: no sources reachable', file=sys.stderr); sys.exit(2)"


@pytest.fixture
def kube_api(kube_url: str) -> Api:
    return Api(kube_url)


@pytest.fixture
def job_namespace() -> str:
    return f"jobs-{uuid.uuid4().hex[:8]}"


def job(namespace: str, name: str, container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    pod_spec = {"restartPolicy": "Never", "containers": [{"name": "writer", **container}]}
    pod_spec |= spec.pop("pod", {})
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "index-writer"}},
        "spec": {"template": {"metadata": {"labels": {"app": "index-writer"}}, "spec": pod_spec}}
        | spec,
    }


def config_map(namespace: str, name: str, **fields: Any) -> dict[str, Any]:
    meta = {"name": name, "namespace": namespace}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta} | fields


def condition_types(found: dict[str, Any]) -> list[str]:
    return [condition["type"] for condition in found["status"].get("conditions", [])]


def create_writer_job(kube_api: Api, ns: str) -> None:
    """A ConfigMap, a Secret, a claim and a Job whose pod uses them all (WRITER)."""
    logo = base64.b64encode(bytes([0, 255, 1])).decode()
    kube_api.create(
        config_map(
            ns, "greeting", data={"hello.txt": "hello", "unused": "x"}, binaryData={"logo": logo}
        )
    )
    token = base64.b64encode(b"token-for-tests").decode()
    kube_api.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "api", "namespace": ns},
            "data": {"token": token},
        }
    )
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "index", "namespace": ns},
    }
    kube_api.create(claim)
    items = [{"key": "hello.txt", "path": "hello.txt"}, {"key": "logo", "path": "logo.bin"}]
    container = {
        "command": ["python", "-c", WRITER],
        "env": [
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "OUTPUT", "value": "/var/index/$(POD_NAME).txt"},
            {
                "name": "OPTIONAL_SETTING",
                "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "x", "optional": True}},
            },
        ],
        "volumeMounts": [
            {"name": "greeting", "mountPath": "/etc/greeting"},
            {"name": "index", "mountPath": "/var/index", "subPath": "v1"},
        ],
    }
    volumes = [
        {"name": "greeting", "configMap": {"name": "greeting", "items": items}},
        {"name": "index", "persistentVolumeClaim": {"claimName": "index"}},
    ]
    kube_api.create(job(ns, "write-index", container, pod={"volumes": volumes}))


def test_job_pod_reads_config_and_secret_writes_claim_and_termination_message(
    kube_api: Api, job_namespace: str, tmp_path: Path
) -> None:
    ns = job_namespace
    create_writer_job(kube_api, ns)
    assert pending_jobs(kube_api, ns) == ["write-index"]

    run = run_job(kube_api, ns, "write-index", tmp_path)

    assert run.exit_codes == [0], run.log.read_text()
    assert run.message == '{"chunks": 7}'
    [pod_name] = run.pod_names
    assert re.fullmatch(r"write-index-[a-z0-9]{5}", pod_name)
    assert (tmp_path / ns / "pvc" / "index" / "v1" / f"{pod_name}.txt").read_text() == (
        f"hello from {pod_name}"
    )
    assert "wrote" in run.log.read_text()
    [pod] = kube_api.list_labelled("Pod", ns, {"job-name": "write-index"})
    written_job = kube_api.get("Job", ns, "write-index")
    assert written_job is not None
    assert pod["metadata"]["name"] == pod_name
    assert pod["metadata"]["labels"]["app"] == "index-writer"
    assert pod["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "write-index"
    [owner] = pod["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (
        "Job",
        written_job["metadata"]["uid"],
        True,
    )
    assert pod["status"]["phase"] == "Succeeded"
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    assert terminated["message"] == '{"chunks": 7}'
    assert RFC3339.fullmatch(terminated["startedAt"])
    assert RFC3339.fullmatch(terminated["finishedAt"])
    status = written_job["status"]
    assert (status["succeeded"], status["active"]) == (1, 0)
    assert RFC3339.fullmatch(status["startTime"])
    assert RFC3339.fullmatch(status["completionTime"])
    assert condition_types(written_job) == ["SuccessCriteriaMet", "Complete"]
    assert {c["reason"] for c in status["conditions"]} == {"CompletionsReached"}
    assert pending_jobs(kube_api, ns) == []


def test_failing_container_is_retried_until_the_backoff_limit_then_the_job_fails(
    kube_api: Api, job_namespace: str, tmp_path: Path
) -> None:
    ns = job_namespace
    container = {
        "command": ["python3", "-c", FAILING],
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    kube_api.create(job(ns, "write-index", container, backoffLimit=1))

    run = run_job(kube_api, ns, "write-index", tmp_path)

    assert run.exit_codes == [2, 2]
    assert run.message == "boom: no sources reachable\n"
    pods = kube_api.list_labelled("Pod", ns, "job-name=write-index")
    assert sorted(pod["metadata"]["name"] for pod in pods) == sorted(run.pod_names)
    assert len(set(run.pod_names)) == 2
    for pod in pods:
        assert pod["status"]["phase"] == "Failed"
        terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
        assert (terminated["exitCode"], terminated["reason"]) == (2, "Error")
        assert terminated["message"] == "boom: no sources reachable\n"
    failed = kube_api.get("Job", ns, "write-index")
    assert failed is not None
    assert (failed["status"]["failed"], failed["status"]["active"]) == (2, 0)
    assert "succeeded" not in failed["status"]
    assert "completionTime" not in failed["status"]
    assert condition_types(failed) == ["FailureTarget", "Failed"]
    assert failed["status"]["conditions"][-1]["reason"] == "BackoffLimitExceeded"
    assert pending_jobs(kube_api, ns) == []


MISSING_VOLUME = [{"name": "config", "configMap": {"name": "absent"}}]


@pytest.mark.parametrize(
    ("wiring", "volumes", "waiting", "event"),
    [
        (
            {
                "env": [
                    {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "x"}}}
                ]
            },
            [],
            "CreateContainerConfigError",
            "Failed",
        ),
        (
            {"volumeMounts": [{"name": "config", "mountPath": "/etc/config"}]},
            MISSING_VOLUME,
            "ContainerCreating",
            "FailedMount",
        ),
    ],
    ids=["variable", "volume"],
)
def test_missing_config_map_holds_the_pod_pending_and_runs_nothing(
    kube_api: Api,
    job_namespace: str,
    tmp_path: Path,
    wiring: dict[str, Any],
    volumes: list[dict[str, Any]],
    waiting: str,
    event: str,
) -> None:
    ns = job_namespace
    ran = tmp_path / "ran"
    container = {"command": ["python", "-c", f"open({str(ran)!r}, 'w')"], **wiring}
    kube_api.create(job(ns, "write-index", container, pod={"volumes": volumes}))

    run = run_job(kube_api, ns, "write-index", tmp_path / "volumes")

    assert run.exit_codes == []
    assert not ran.exists()
    assert 'configmap "absent" not found' in run.message
    [pod] = kube_api.list_labelled("Pod", ns, {"job-name": "write-index"})
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == waiting
    events = [
        e
        for e in kube_api.list("Event", ns)
        if e["involvedObject"]["name"] == pod["metadata"]["name"]
    ]
    assert [(e["reason"], e["type"]) for e in events] == [(event, "Warning")]
    assert 'configmap "absent" not found' in events[0]["message"]
    # The Job stays active, as in a cluster, where the kubelet keeps retrying.
    stuck = kube_api.get("Job", ns, "write-index")
    assert stuck is not None
    assert stuck["status"]["active"] == 1
    assert "conditions" not in stuck["status"]
    assert pending_jobs(kube_api, ns) == ["write-index"]

    # Once the ConfigMap is there, the kubelet starts the same pod.
    kube_api.create(config_map(ns, "absent", data={"x": "1"}))
    retried = run_job(kube_api, ns, "write-index", tmp_path / "volumes")

    assert (retried.exit_codes, retried.pod_names) == ([0], run.pod_names)
    assert ran.exists()
    assert condition_types(kube_api.get("Job", ns, "write-index") or {}) == [
        "SuccessCriteriaMet",
        "Complete",
    ]
    with pytest.raises(ValueError, match="has ended"):
        run_job(kube_api, ns, "write-index", tmp_path / "volumes")


def test_pending_jobs_are_oldest_first_and_narrowed_by_labels(
    kube_api: Api, job_namespace: str
) -> None:
    ns = job_namespace
    container = {"command": ["python", "-c", "pass"]}
    for name in ("first", "second", "third"):
        manifest = job(ns, name, container)
        manifest["metadata"]["labels"]["katha.dev/business"] = (
            "bakery" if name != "second" else "cafe"
        )
        kube_api.create(manifest)

    assert pending_jobs(kube_api, ns) == ["first", "second", "third"]
    assert pending_jobs(kube_api, ns, {"katha.dev/business": "bakery"}) == ["first", "third"]
    assert pending_jobs(kube_api, ns, "katha.dev/business notin (bakery)") == ["second"]
    assert pending_jobs(kube_api, ns, "app,katha.dev/business!=cafe") == ["first", "third"]
    assert pending_jobs(kube_api, ns, "!app") == []


# Checks what a second pod sees, and names in its termination message what it found wrong.
READER = """
import os, pathlib, sys
scratch = pathlib.Path('/scratch')
checks = {
    'fresh': not any(scratch.iterdir()),
    'cwd': os.path.samefile(os.getcwd(), os.environ['SCRATCH']),
    'argument': os.path.samefile(sys.argv[1], '/scratch'),
    'projected': pathlib.Path('/etc/bundle/settings/name').read_text() == 'bakery',
    'key': pathlib.Path('/etc/bundle/key.pem').read_text() == 'KEY',
    'secret': sorted(p.name for p in pathlib.Path('/etc/creds').iterdir()) == ['password', 'user'],
    'optional': not any(pathlib.Path('/etc/maybe').iterdir()),
    'shared': pathlib.Path('/data/note.txt').read_text() == 'left by the first pod',
    'extra': os.environ.get('FROM_IMAGE') == 'yes',
}
(scratch / 'tmp').write_text('x')
pathlib.Path('/data/cache/c').write_text('cached')
pathlib.Path('/dev/termination-log').write_text(','.join(k for k, ok in checks.items() if not ok))
sys.exit(0 if all(checks.values()) else 1)
"""


def test_later_pod_sees_the_claim_projected_and_secret_volumes_and_a_fresh_empty_dir(
    kube_api: Api, job_namespace: str, tmp_path: Path
) -> None:
    ns = job_namespace
    kube_api.create(config_map(ns, "settings", data={"name": "bakery"}))
    for name, values in {
        "creds": {"user": "u", "password": "p"},
        "tls": {"key.pem": "KEY"},
    }.items():
        data = {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}
        meta = {"name": name, "namespace": ns}
        kube_api.create({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": data})
    meta = {"name": "notes", "namespace": ns}
    kube_api.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta})
    claim = {"name": "notes", "persistentVolumeClaim": {"claimName": "notes"}}
    write = "open('/data/note.txt', 'w').write('left by the first pod')"
    first = {
        "command": ["python", "-c", write],
        "volumeMounts": [{"name": "notes", "mountPath": "/data"}],
    }
    kube_api.create(job(ns, "first", first, pod={"volumes": [claim]}))
    assert run_job(kube_api, ns, "first", tmp_path).exit_codes == [0]
    sources = [
        {"configMap": {"name": "settings", "items": [{"key": "name", "path": "settings/name"}]}},
        {"secret": {"name": "tls"}},
    ]
    volumes = [
        claim,
        {"name": "bundle", "projected": {"sources": sources}},
        {"name": "creds", "secret": {"secretName": "creds"}},
        {"name": "maybe", "secret": {"secretName": "absent", "optional": True}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "cache", "emptyDir": {}},
    ]
    mounts = {"notes": "/data", "bundle": "/etc/bundle", "creds": "/etc/creds"}
    mounts |= {"maybe": "/etc/maybe", "scratch": "/scratch", "cache": "/data/cache"}
    second = {
        "command": ["python", "-c", READER],
        "args": ["$(SCRATCH)"],
        "workingDir": "/scratch",
        "env": [{"name": "SCRATCH", "value": "/scratch"}],
        "volumeMounts": [{"name": name, "mountPath": path} for name, path in mounts.items()],
    }
    kube_api.create(job(ns, "second", second, pod={"volumes": volumes}, backoffLimit=0))

    run = run_job(kube_api, ns, "second", tmp_path, extra_env={"FROM_IMAGE": "yes"})

    assert (run.exit_codes, run.message) == ([0], ""), run.log.read_text()
    [pod_name] = run.pod_names
    volumes_dir = tmp_path / ns / "pods" / pod_name / "volumes"
    assert (volumes_dir / "scratch" / "tmp").exists()
    # The longer mount path wins: /data/cache is its own volume, not a folder of the claim.
    assert (volumes_dir / "cache" / "c").read_text() == "cached"
    assert not (tmp_path / ns / "pvc" / "notes" / "cache" / "c").exists()
