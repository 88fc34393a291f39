"""Pod pieces every Katha workload shares: a locked-down container and its volumes."""

from typing import Any

# Ray and Python write caches and sockets under /tmp; everything else is read-only.
TMP_VOLUME = {"name": "tmp", "emptyDir": {}}
TMP_MOUNT = {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108 - a pod-local emptyDir

POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "fsGroup": 10001,
    # Only when the volume's root is not the group's yet: a recursive chown of a large
    # index volume on every pod start would slow every writer run and agent start.
    "fsGroupChangePolicy": "OnRootMismatch",
    "seccompProfile": {"type": "RuntimeDefault"},
}

CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def container(
    name: str,
    image: str,
    command: list[str],
    *,
    resources: dict[str, Any],
    ports: list[dict[str, Any]],
    mounts: list[dict[str, Any]],
    env: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "ports": ports,
        "resources": resources,
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [TMP_MOUNT, *mounts],
    }
    if env:
        spec["env"] = env
    return spec


def pod_spec(
    containers: list[dict[str, Any]],
    volumes: list[dict[str, Any]],
    service_account: str | None,
    **extra: Any,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": POD_SECURITY,
        "containers": containers,
        "volumes": [TMP_VOLUME, *volumes],
        **extra,
    }
    if service_account is not None:
        spec["serviceAccountName"] = service_account
    return spec
