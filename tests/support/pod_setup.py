"""What the test kubelet (kubelet.py) sets up before a container starts: its volumes as
local folders, its variables, and the ways a pod is held Pending when the scheduler or
kubelet cannot set it up.

ConfigMap and Secret volumes (whole, or the listed `items`), projected volumes of those,
`emptyDir` (a new folder per pod) and `persistentVolumeClaim` (one folder per claim,
`<volume_root>/<namespace>/pvc/<claimName>`, kept across pods so a later pod or the test
sees what an earlier one wrote).
"""

import base64
import datetime
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kube_api import Api

DEFAULT_MODE = 0o644  # the API server's default for defaultMode


class PodBlockedError(Exception):
    """The pod cannot start: it stays Pending with this status, and an Event says why."""

    def __init__(self, message: str, waiting: str | None, event: str, source: str) -> None:
        super().__init__(message)
        self.message = message
        self.waiting = waiting  # the container's waiting reason; None: never scheduled
        self.event = event
        self.source = source

    @classmethod
    def config_error(cls, message: str) -> "PodBlockedError":
        """A variable names a ConfigMap, Secret or key that is not there."""
        return cls(message, "CreateContainerConfigError", "Failed", "kubelet")

    @classmethod
    def failed_mount(cls, volume: str, why: str) -> "PodBlockedError":
        """A volume names a ConfigMap, Secret or key that is not there: the kubelet keeps
        retrying the mount and the container waits in ContainerCreating."""
        message = f'MountVolume.SetUp failed for volume "{volume}" : {why}'
        return cls(message, "ContainerCreating", "FailedMount", "kubelet")

    @classmethod
    def unschedulable(cls, why: str) -> "PodBlockedError":
        return cls(
            f"0/1 nodes are available: {why}.", None, "FailedScheduling", "default-scheduler"
        )

    def pod_status(self, container: dict[str, Any], start_time: str) -> dict[str, Any]:
        if self.waiting is None:
            scheduled = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}
            return {"phase": "Pending", "conditions": [scheduled | {"message": self.message}]}
        waiting = {"reason": self.waiting}
        if self.waiting == "CreateContainerConfigError":
            waiting["message"] = self.message
        status = {
            "name": container["name"],
            "image": container.get("image", ""),
            "imageID": "",
            "ready": False,
            "started": False,
            "restartCount": 0,
            "state": {"waiting": waiting},
        }
        return {"phase": "Pending", "startTime": start_time, "containerStatuses": [status]}

    def event_for(self, pod: dict[str, Any]) -> dict[str, Any]:
        meta = pod["metadata"]
        now = timestamp()
        message = f"Error: {self.message}" if self.event == "Failed" else self.message
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{secrets.token_hex(8)}",
                "namespace": meta["namespace"],
            },
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
            },
            "reason": self.event,
            "message": message,
            "type": "Warning",
            "source": {"component": self.source},
            "reportingComponent": self.source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }


class _SourceMissingError(Exception):
    """A volume's ConfigMap, Secret or key is not there."""


def materialise(api: Api, pod: dict[str, Any], pod_dir: Path, volume_root: Path) -> dict[str, Path]:
    """Each volume's local folder, by volume name (claims are checked first, as the
    scheduler does before the kubelet mounts anything)."""
    namespace = pod["metadata"]["namespace"]
    volumes = pod["spec"].get("volumes", [])
    folders: dict[str, Path] = {}
    for volume in volumes:
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            if api.get("PersistentVolumeClaim", namespace, claim) is None:
                raise PodBlockedError.unschedulable(f'persistentvolumeclaim "{claim}" not found')
            folders[volume["name"]] = volume_root / namespace / "pvc" / claim
            folders[volume["name"]].mkdir(parents=True, exist_ok=True)
    for volume in volumes:
        if volume["name"] in folders:
            continue
        folder = pod_dir / "volumes" / volume["name"]
        folder.mkdir(parents=True, exist_ok=True)
        try:
            files = _volume_files(api, namespace, volume)
        except _SourceMissingError as missing:
            raise PodBlockedError.failed_mount(volume["name"], str(missing)) from None
        for relative, content, mode in files:
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            path.chmod(mode)
        folders[volume["name"]] = folder
    return folders


def mount_paths(container: dict[str, Any], volumes: dict[str, Path]) -> dict[str, Path]:
    """Each mount path of the container, with the local path it stands for (`subPath`
    picks a file or folder inside the volume; a missing folder is created, as the kubelet
    does)."""
    paths: dict[str, Path] = {}
    for mount in container.get("volumeMounts", []):
        if mount["name"] not in volumes:
            raise ValueError(f"volumeMount {mount['name']!r} names no volume of the pod")
        local = volumes[mount["name"]]
        if mount.get("subPath"):
            local = local / mount["subPath"]
            if not local.exists():
                local.mkdir(parents=True)
        paths[mount["mountPath"]] = local
    return paths


def values_of(kind: str, found: dict[str, Any]) -> dict[str, bytes]:
    """A ConfigMap's or Secret's keys and their bytes. The emulator stores a Secret's
    `stringData` as written (the API server would fold it into `data`), so it counts too."""
    if kind == "Secret":
        values = {k: base64.b64decode(v) for k, v in (found.get("data") or {}).items()}
        return values | {k: v.encode() for k, v in (found.get("stringData") or {}).items()}
    values = {k: v.encode() for k, v in (found.get("data") or {}).items()}
    return values | {k: base64.b64decode(v) for k, v in (found.get("binaryData") or {}).items()}


def _volume_files(api: Api, namespace: str, volume: dict[str, Any]) -> list[tuple[str, bytes, int]]:
    if "emptyDir" in volume:
        return []
    if "configMap" in volume:
        source = volume["configMap"]
        mode = source.get("defaultMode", DEFAULT_MODE)
        return _source_files(api, namespace, "ConfigMap", source, source["name"], mode)
    if "secret" in volume:
        source = volume["secret"]
        mode = source.get("defaultMode", DEFAULT_MODE)
        return _source_files(api, namespace, "Secret", source, source["secretName"], mode)
    if "projected" in volume:
        mode = volume["projected"].get("defaultMode", DEFAULT_MODE)
        files: list[tuple[str, bytes, int]] = []
        for projection in volume["projected"].get("sources", []):
            kind = "ConfigMap" if "configMap" in projection else "Secret"
            source = projection.get("configMap") or projection.get("secret")
            if source is None:
                raise ValueError(f"projected source {sorted(projection)} is not emulated")
            files += _source_files(api, namespace, kind, source, source["name"], mode)
        return files
    raise ValueError(f"volume {volume['name']!r}: {sorted(volume)} is not emulated")


def _source_files(
    api: Api, namespace: str, kind: str, source: dict[str, Any], name: str, mode: int
) -> list[tuple[str, bytes, int]]:
    found = api.get(kind, namespace, name)
    optional = bool(source.get("optional"))
    if found is None:
        if optional:
            return []
        raise _SourceMissingError(f'{kind.lower()} "{name}" not found')
    values = values_of(kind, found)
    if source.get("items") is None:
        return [(key, value, mode) for key, value in values.items()]
    files = []
    for item in source["items"]:
        if item["key"] in values:
            files.append((item["path"], values[item["key"]], item.get("mode", mode)))
        elif not optional:
            what = (
                "configmap references non-existent config key"
                if kind == "ConfigMap"
                else "references non-existent secret key"
            )
            raise _SourceMissingError(f"{what}: {item['key']}")
    return files


def environment(api: Api, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """The container's variables as the kubelet resolves them: envFrom, then env in order
    (each value may use $(NAME) of the ones before)."""
    namespace = pod["metadata"]["namespace"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if field in source:
                found = _config_object(api, namespace, kind, source[field])
                values = values_of(kind, found) if found is not None else {}
                prefix = source.get("prefix", "")
                env |= {prefix + key: value.decode() for key, value in values.items()}
    for variable in container.get("env", []):
        if "valueFrom" in variable:
            value = _value_from(api, pod, variable["valueFrom"])
        else:
            value = expand(variable.get("value", ""), env)
        if value is not None:
            env[variable["name"]] = value
    return env


def _value_from(api: Api, pod: dict[str, Any], source: dict[str, Any]) -> str | None:
    meta = pod["metadata"]
    if "fieldRef" in source:
        field = source["fieldRef"]["fieldPath"]
        fields = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"]}
        fields |= {"metadata.uid": meta["uid"]}
        fields |= {"spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default")}
        if field not in fields:
            raise ValueError(f"fieldRef {field} is not emulated")
        return str(fields[field])
    for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
        if key in source:
            ref = source[key]
            found = _config_object(api, meta["namespace"], kind, ref)
            values = values_of(kind, found) if found is not None else {}
            if ref["key"] in values:
                return values[ref["key"]].decode()
            if found is not None and not ref.get("optional"):
                where = f"{meta['namespace']}/{ref['name']}"
                raise PodBlockedError.config_error(
                    f"couldn't find key {ref['key']} in {kind} {where}"
                )
            return None
    raise ValueError(f"valueFrom {sorted(source)} is not emulated")


def _config_object(
    api: Api, namespace: str, kind: str, ref: dict[str, Any]
) -> dict[str, Any] | None:
    found = api.get(kind, namespace, ref["name"])
    if found is None and not ref.get("optional"):
        raise PodBlockedError.config_error(f'{kind.lower()} "{ref["name"]}" not found')
    return found


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(NAME) references: known names are replaced, `$$` is a literal `$`,
    anything else is left as written."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", replace, text)


def timestamp() -> str:
    """Now, as the API writes times (RFC 3339, seconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
