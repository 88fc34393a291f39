"""LanguageModels become vLLM RayServices; Businesses say when their model is missing."""

from collections.abc import Callable
from typing import Any

import yaml
from kube_api import PLATFORM_NAMESPACE, Api, credentials_secret, eventually


def test_language_model_becomes_a_gpu_rayservice_with_an_endpoint(api: Api) -> None:
    api.create(
        {
            "apiVersion": "katha.dev/v1alpha1",
            "kind": "LanguageModel",
            "metadata": {"name": "gemma-3-4b", "namespace": PLATFORM_NAMESPACE},
            "spec": {"model": "google/gemma-3-4b-it", "gpu": {"count": 1, "type": "L4"}},
        }
    )
    service = eventually(lambda: api.get("RayService", PLATFORM_NAMESPACE, "gemma-3-4b-llm"))
    config = yaml.safe_load(service["spec"]["serveConfigV2"])
    app = config["applications"][0]
    assert app["import_path"] == "ray.serve.llm:build_openai_app"
    llm = app["args"]["llm_configs"][0]
    assert llm["model_loading_config"] == {
        "model_id": "gemma-3-4b",
        "model_source": "google/gemma-3-4b-it",
    }
    assert llm["accelerator_type"] == "L4"
    worker = service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["template"]["spec"]
    assert worker["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    status = eventually(
        lambda: (
            (api.get("LanguageModel", PLATFORM_NAMESPACE, "gemma-3-4b") or {}).get("status")
            if (api.get("LanguageModel", PLATFORM_NAMESPACE, "gemma-3-4b") or {})
            .get("status", {})
            .get("endpoint")
            else None
        )
    )
    assert status["endpoint"] == f"http://gemma-3-4b-llm-serve-svc.{PLATFORM_NAMESPACE}.svc:8000/v1"
    assert status["phase"] == "Loading"  # KubeRay never reports Ready in the emulator


def test_business_naming_a_missing_model_says_so(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    api.create(business_manifest(namespace, model={"languageModelRef": "no-such-model"}))

    def model_condition() -> dict[str, Any] | None:
        business = api.get("Business", namespace, "kandy-bakehouse") or {}
        for item in (business.get("status") or {}).get("conditions") or []:
            if item["type"] == "ModelAvailable":
                return dict(item)
        return None

    condition = eventually(model_condition)
    assert condition["status"] == "False"
    assert condition["reason"] == "ModelNotFound"
    assert "no-such-model" in condition["message"]
    assert api.get("Business", namespace, "kandy-bakehouse")["status"]["phase"] == "Degraded"
