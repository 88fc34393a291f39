"""A Job controller and kubelet for tests: runs a batch/v1 Job of the Kubernetes emulator
as local processes, and records the outcome in the emulator as a cluster would.

Each attempt is a Pod owned by the Job (labelled `job-name`), whose one container runs as
a subprocess of this interpreter with its volumes materialised as folders, its paths
rewritten to those folders, and its termination message and exit code written back to the
Pod's status; the Job's status then carries the counts and conditions the Job controller
of Kubernetes 1.33 writes. Everything goes through the emulator's REST API, so what an
operator reads is what it would read in a cluster. Retries follow at once (a cluster backs
off 10 s, 20 s, ...). A pod whose volumes or environment cannot be set up stays Pending
with the reason the kubelet gives, and its Job stays active, as in a cluster.
"""

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kube_api import Api
from pod_setup import PodBlockedError, environment, expand, materialise, mount_paths, timestamp

# The kubelet's limits on a termination message (pkg/kubelet/container).
MESSAGE_BYTES = 4096
LOG_TAIL_BYTES = 2048
LOG_TAIL_LINES = 80
DEFAULT_MESSAGE_PATH = "/dev/termination-log"
# What the API server's generateName appends (k8s.io/apimachinery/pkg/util/rand).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
PYTHONS = {"python", "python3"}
TERMINAL = {"Complete", "Failed"}


@dataclass(frozen=True)
class JobRun:
    """What happened: the exit code of each container run, the last pod's termination
    message (or why it never started), every pod created, and the last pod's log."""

    exit_codes: list[int]
    message: str
    pod_names: list[str]
    log: Path


def run_job(
    api: Api,
    namespace: str,
    job_name: str,
    volume_root: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> JobRun:
    """Run the Job to its end as its controller and a kubelet would (pods one after the
    other while failures stay within `spec.backoffLimit`). `extra_env` reaches the process
    as given (what a container image would carry); `timeout` bounds each process."""
    job = api.get("Job", namespace, job_name)
    if job is None:
        raise LookupError(f"no Job {namespace}/{job_name}")
    _check_supported(job)
    backoff_limit = int(job["spec"].get("backoffLimit", 6))
    status = job.get("status") or {}
    if "startTime" not in status:
        api.patch_status("Job", namespace, job_name, {"startTime": timestamp()})
    failures = int(status.get("failed", 0))
    exit_codes: list[int] = []
    pod_names: list[str] = []
    pod = _waiting_pod(api, job)
    while True:
        pod = pod or api.create(_pod_for(job))
        pod_names.append(pod["metadata"]["name"])
        api.patch_status("Job", namespace, job_name, {"active": 1, "ready": 0, "terminating": 0})
        outcome = _run_pod(api, pod, volume_root, dict(extra_env or {}), timeout)
        if outcome.exit_code is None:
            return JobRun(exit_codes, outcome.message, pod_names, outcome.log)
        exit_codes.append(outcome.exit_code)
        failures += outcome.exit_code != 0
        if outcome.exit_code == 0 or failures > backoff_limit:
            _finish(api, job, succeeded=outcome.exit_code == 0, failures=failures)
            return JobRun(exit_codes, outcome.message, pod_names, outcome.log)
        api.patch_status("Job", namespace, job_name, {"active": 0, "failed": failures})
        pod = None


def _waiting_pod(api: Api, job: dict[str, Any]) -> dict[str, Any] | None:
    """A pod of the Job that has not started (say, its ConfigMap was missing): a kubelet
    keeps retrying it, so it is what runs now rather than a new one."""
    meta = job["metadata"]
    pods = api.list_labelled("Pod", meta["namespace"], {"controller-uid": meta["uid"]})
    waiting = [pod for pod in pods if (pod.get("status") or {}).get("phase") == "Pending"]
    return waiting[0] if waiting else None


def pending_jobs(
    api: Api, namespace: str, selector: str | Mapping[str, str] | None = None
) -> list[str]:
    """The Jobs that have not ended (no Complete or Failed condition), oldest first."""
    jobs = (
        api.list("Job", namespace)
        if selector is None
        else api.list_labelled("Job", namespace, selector)
    )
    open_jobs = [job for job in jobs if not _ended(job)]
    open_jobs.sort(key=lambda job: job["metadata"].get("creationTimestamp", ""))
    return [job["metadata"]["name"] for job in open_jobs]


def _ended(job: dict[str, Any]) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or []
    return any(c["type"] in TERMINAL and c.get("status") == "True" for c in conditions)


def _check_supported(job: dict[str, Any]) -> None:
    """Refuse what this emulation does not do, rather than doing it differently."""
    spec = job["spec"]
    pod_spec = spec["template"]["spec"]
    if _ended(job):
        raise ValueError("the Job has ended: its controller starts no more pods")
    if spec.get("suspend"):
        raise ValueError("the Job is suspended: its controller would start no pod")
    if int(spec.get("parallelism", 1)) != 1 or int(spec.get("completions", 1)) != 1:
        raise ValueError("only Jobs of one pod at a time and one completion are emulated")
    if pod_spec.get("restartPolicy") != "Never":
        raise ValueError("only restartPolicy: Never is emulated (a new pod per attempt)")
    if len(pod_spec.get("containers", [])) != 1 or pod_spec.get("initContainers"):
        raise ValueError("only pods of exactly one container and no init containers are run")


def _pod_for(job: dict[str, Any]) -> dict[str, Any]:
    """The Pod the Job controller creates from the template: named after the Job, labelled
    with it and owned by it."""
    meta = job["metadata"]
    template = job["spec"]["template"]
    suffix = "".join(secrets.choice(NAME_ALPHABET) for _ in range(5))
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels |= {
        "job-name": meta["name"],
        "batch.kubernetes.io/job-name": meta["name"],
        "controller-uid": meta["uid"],
        "batch.kubernetes.io/controller-uid": meta["uid"],
    }
    owner = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    pod_meta = {
        "name": f"{meta['name']}-{suffix}",
        "generateName": f"{meta['name']}-",
        "namespace": meta["namespace"],
        "labels": labels,
        "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
        "ownerReferences": [owner],
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template["spec"]}


@dataclass(frozen=True)
class _Outcome:
    exit_code: int | None  # None: the container never started
    message: str
    log: Path


def _run_pod(
    api: Api, pod: dict[str, Any], volume_root: Path, extra_env: dict[str, str], timeout: float
) -> _Outcome:
    meta, spec = pod["metadata"], pod["spec"]
    namespace, name = meta["namespace"], meta["name"]
    container = spec["containers"][0]
    pod_dir = volume_root / namespace / "pods" / name
    log = pod_dir / "container.log"
    pod_dir.mkdir(parents=True, exist_ok=True)  # an existing one: a retry of a waiting pod
    log.touch()
    started_pod = (pod.get("status") or {}).get("startTime") or timestamp()
    try:
        volumes = materialise(api, pod, pod_dir, volume_root)
        env = environment(api, pod, container)
    except PodBlockedError as blocked:
        api.patch_status("Pod", namespace, name, blocked.pod_status(container, started_pod))
        api.create(blocked.event_for(pod))
        return _Outcome(None, blocked.message, log)
    message_file = pod_dir / "termination-log"
    message_file.touch()
    paths = mount_paths(container, volumes)
    paths[container.get("terminationMessagePath", DEFAULT_MESSAGE_PATH)] = message_file
    rewrite = _rewriter(paths)  # once per value: a local path must not be rewritten again
    argv = _argv(container, lambda part: rewrite(expand(part, env)))
    env = {key: rewrite(value) for key, value in env.items()}
    cwd = _working_dir(container, rewrite, pod_dir)
    process_env = _base_env(name, pod_dir) | env | extra_env
    started = timestamp()
    running = {"running": {"startedAt": started}}
    api.patch_status(
        "Pod", namespace, name, _pod_status("Running", container, running, started_pod)
    )
    code = _run_process(argv, process_env, cwd, log, timeout)
    message = _termination_message(container, message_file, log, failed=code != 0)
    terminated: dict[str, Any] = {
        "exitCode": code,
        "reason": "Completed" if code == 0 else "Error",
        "startedAt": started,
        "finishedAt": timestamp(),
    }
    if message:
        terminated["message"] = message
    phase = "Succeeded" if code == 0 else "Failed"
    state = {"terminated": terminated}
    api.patch_status("Pod", namespace, name, _pod_status(phase, container, state, started_pod))
    return _Outcome(code, message, log)


def _pod_status(
    phase: str, container: dict[str, Any], state: dict[str, Any], start_time: str
) -> dict[str, Any]:
    running = "running" in state
    status = {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "ready": running,
        "started": running,
        "restartCount": 0,
        "state": state,
    }
    return {"phase": phase, "startTime": start_time, "containerStatuses": [status]}


def _rewriter(paths: Mapping[str, Path]) -> Callable[[str], str]:
    """Replace each container path (where it starts a path, not inside another one) by the
    local one it is materialised at; the longest path wins."""
    ordered = sorted((path.rstrip("/") for path in paths if path.rstrip("/")), key=len)
    if not ordered:
        return lambda text: text
    local = {path.rstrip("/"): str(folder) for path, folder in paths.items()}
    choices = "|".join(re.escape(path) for path in reversed(ordered))
    pattern = re.compile(rf"(?<![\w./-])({choices})(?![\w.-])")
    return lambda text: pattern.sub(lambda match: local[match.group(1)], text)


def _argv(container: dict[str, Any], resolve: Callable[[str], str]) -> list[str]:
    """The command line, resolved, with this interpreter standing in for the image's."""
    if not container.get("command"):
        raise ValueError("the container names no command: the image's entrypoint is unknown here")
    argv = [resolve(part) for part in [*container["command"], *container.get("args", [])]]
    if argv[0].rsplit("/", 1)[-1] in PYTHONS:
        argv[0] = sys.executable
    return argv


def _working_dir(container: dict[str, Any], rewrite: Callable[[str], str], pod_dir: Path) -> Path:
    """The mounted folder when workingDir is a mount, otherwise a folder standing in for the
    image's own (which a pod would see, and which is not on this machine)."""
    working_dir = container.get("workingDir")
    if not working_dir:
        return pod_dir
    mapped = rewrite(working_dir)
    folder = Path(mapped) if mapped != working_dir else pod_dir / "rootfs" / working_dir.lstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _base_env(pod_name: str, pod_dir: Path) -> dict[str, str]:
    """What a container has besides its own variables; the host's other variables stay out
    of it, so a test passes what the image would carry through `extra_env`."""
    home = pod_dir / "home"
    home.mkdir(exist_ok=True)
    kept = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "TZ") if key in os.environ}
    return kept | {"HOSTNAME": pod_name, "HOME": str(home)}


def _run_process(argv: list[str], env: dict[str, str], cwd: Path, log: Path, timeout: float) -> int:
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise TimeoutError(f"the container ran past {timeout}s; its log is {log}") from None
    return code if code >= 0 else 128 - code  # killed by a signal: 128 + its number


def _termination_message(
    container: dict[str, Any], message_file: Path, log: Path, *, failed: bool
) -> str:
    message = message_file.read_bytes()[:MESSAGE_BYTES]
    fallback = container.get("terminationMessagePolicy") == "FallbackToLogsOnError"
    if not message and failed and fallback:
        lines = log.read_bytes().splitlines(keepends=True)[-LOG_TAIL_LINES:]
        message = b"".join(lines)[-LOG_TAIL_BYTES:]
    return message.decode(errors="replace")


def _finish(api: Api, job: dict[str, Any], *, succeeded: bool, failures: int) -> None:
    """The Job's final status, with the interim condition 1.33 sets before the terminal one."""
    now = timestamp()
    if succeeded:
        kinds, reason = ("SuccessCriteriaMet", "Complete"), "CompletionsReached"
        message = "Reached expected number of succeeded pods"
        status: dict[str, Any] = {"succeeded": 1, "completionTime": now}
    else:
        kinds, reason = ("FailureTarget", "Failed"), "BackoffLimitExceeded"
        message = "Job has reached the specified backoff limit"
        status = {}
    conditions = [
        {
            "type": kind,
            "status": "True",
            "reason": reason,
            "message": message,
            "lastProbeTime": now,
            "lastTransitionTime": now,
        }
        for kind in kinds
    ]
    status |= {"active": 0, "ready": 0, "terminating": 0, "conditions": conditions}
    if failures:
        status["failed"] = failures
    meta = job["metadata"]
    api.patch_status("Job", meta["namespace"], meta["name"], status)
