"""A LanguageModel as a RayService running Ray Serve LLM (vLLM) on GPU workers."""

from dataclasses import dataclass
from typing import Any

import yaml

from business_operator.names import child_name, labels, owner_reference
from business_operator.render.context import Platform
from business_operator.render.network import render_model_network_policy
from business_operator.render.ray import RAY_TOKEN_AUTH, ray_pod_template
from katha.api import LanguageModelSpec
from katha.api.language_model import DEFAULT_MAX_MODEL_LEN, ModelTask
from katha.contracts.serving import AGENT_PORT

LLM_IMPORT_PATH = "ray.serve.llm:build_openai_app"
WEIGHTS_PATH = "/models"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


@dataclass(frozen=True)
class Model:
    name: str
    namespace: str
    uid: str
    spec: LanguageModelSpec
    platform: Platform

    @property
    def served_name(self) -> str:
        return self.spec.served_model_name or self.name

    @property
    def rayservice_name(self) -> str:
        return child_name(self.name, "llm")

    @property
    def endpoint(self) -> str:
        """KubeRay exposes a RayService's Serve port as `<name>-serve-svc`."""
        return f"http://{self.rayservice_name}-serve-svc.{self.namespace}.svc:{AGENT_PORT}/v1"

    def metadata(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "namespace": self.namespace,
            "labels": labels(self.name, "llm", kind="LanguageModel"),
            "ownerReferences": [owner_reference("LanguageModel", self.name, self.uid)],
        }


def llm_config(model: Model) -> dict[str, Any]:
    """One Ray Serve LLM model config. A transcription model is served the same way: vLLM
    knows a Whisper-family model by its architecture and Ray Serve LLM's OpenAI app routes
    /v1/audio/transcriptions to it, so only the context length differs (its own)."""
    spec = model.spec
    engine: dict[str, Any] = {"tensor_parallel_size": spec.gpu.count}
    max_model_len = spec.max_model_len
    if max_model_len is None and spec.task is ModelTask.GENERATE:
        max_model_len = DEFAULT_MAX_MODEL_LEN
    if max_model_len is not None:
        engine["max_model_len"] = max_model_len
    engine = {**engine, "download_dir": WEIGHTS_PATH, **spec.engine_args}
    if spec.revision:
        engine["revision"] = spec.revision
    config: dict[str, Any] = {
        "model_loading_config": {"model_id": model.served_name, "model_source": spec.model},
        "deployment_config": {
            "autoscaling_config": {
                "min_replicas": spec.replicas.min,
                "max_replicas": spec.replicas.max,
            }
        },
        "engine_kwargs": engine,
        "runtime_env": {"env_vars": {"HF_HOME": WEIGHTS_PATH}},
    }
    if spec.gpu.type:
        config["accelerator_type"] = spec.gpu.type
    return config


def render_weights_volume(model: Model) -> dict[str, Any] | None:
    """A shared (ReadWriteMany) weights volume when a storage class is named; else none."""
    storage = model.spec.storage
    if not storage.storage_class_name:
        return None
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": model.metadata(child_name(model.name, "weights")),
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": storage.storage_class_name,
            "resources": {"requests": {"storage": storage.size}},
        },
    }


def _weights(model: Model) -> dict[str, Any]:
    # Without a shared volume each GPU pod caches the weights itself, bounded in size.
    if model.spec.storage.storage_class_name:
        claim = {"claimName": child_name(model.name, "weights")}
        return {"name": "weights", "persistentVolumeClaim": claim}
    return {"name": "weights", "emptyDir": {"sizeLimit": model.spec.storage.size}}


@dataclass(frozen=True)
class _PodParts:
    """What the head and the GPU workers share (the same objects, as the manifests did)."""

    labels: dict[str, str]
    env: list[dict[str, Any]]
    mounts: list[dict[str, Any]]


def _model_env(spec: LanguageModelSpec) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": "HF_HOME", "value": WEIGHTS_PATH}]
    if spec.hf_token_secret_ref is not None:
        ref = spec.hf_token_secret_ref
        env.append(
            {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
        )
    return env


def _head_template(model: Model, pod: "_PodParts") -> dict[str, Any]:
    return ray_pod_template(
        pod.labels,
        model.platform.image,
        resources={"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "8Gi"}},
        mounts=pod.mounts,
        volumes=[_weights(model)],
        service_account=None,
        env=pod.env,
    )


def _gpu_worker_template(model: Model, pod: "_PodParts") -> dict[str, Any]:
    gpus = model.spec.gpu.count
    worker_resources = {
        "requests": {"cpu": str(4 * gpus), "memory": f"{16 * gpus}Gi", "nvidia.com/gpu": gpus},
        "limits": {"memory": f"{16 * gpus}Gi", "nvidia.com/gpu": gpus},
    }
    extra: dict[str, Any] = {"tolerations": [GPU_TOLERATION]}
    if model.platform.gpu_node_selector:
        extra["nodeSelector"] = dict(model.platform.gpu_node_selector)
    return ray_pod_template(
        pod.labels,
        model.platform.image,
        resources=worker_resources,
        mounts=pod.mounts,
        volumes=[_weights(model)],
        service_account=None,
        env=pod.env,
        **extra,
    )


def _serve_config(model: Model) -> str:
    serve = {
        "applications": [
            {
                "name": "llm",
                "route_prefix": "/",
                "import_path": LLM_IMPORT_PATH,
                "args": {"llm_configs": [llm_config(model)]},
            }
        ]
    }
    return yaml.safe_dump(serve, sort_keys=False)


def render_llm_rayservice(model: Model) -> dict[str, Any]:
    spec = model.spec

    pod = _PodParts(
        labels(model.name, "llm", kind="LanguageModel"),
        _model_env(spec),
        [{"name": "weights", "mountPath": WEIGHTS_PATH}],
    )
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": model.metadata(model.rayservice_name),
        "spec": {
            "serveConfigV2": _serve_config(model),
            "rayClusterConfig": {
                "rayVersion": model.platform.ray_version,
                "authOptions": dict(RAY_TOKEN_AUTH),
                "enableInTreeAutoscaling": True,
                "headGroupSpec": {
                    "rayStartParams": {"num-cpus": "0", "dashboard-host": "0.0.0.0"},  # noqa: S104
                    "template": _head_template(model, pod),
                },
                "workerGroupSpecs": [
                    {
                        "groupName": "gpu",
                        "replicas": spec.replicas.min,
                        "minReplicas": spec.replicas.min,
                        "maxReplicas": spec.replicas.max,
                        "rayStartParams": {},
                        "template": _gpu_worker_template(model, pod),
                    }
                ],
            },
        },
    }


def render_network_policy(model: Model) -> dict[str, Any]:
    metadata = model.metadata(model.rayservice_name)
    return render_model_network_policy(model.platform, model.name, metadata)


def render_language_model_children(model: Model) -> list[dict[str, Any]]:
    volume = render_weights_volume(model)
    # The policy first, so the Ray dashboard is never up without it.
    return [
        *([volume] if volume else []),
        render_network_policy(model),
        render_llm_rayservice(model),
    ]
