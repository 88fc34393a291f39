"""spec.memory reconciled by the real Kopf operator: retention and a Postgres URL by reference."""

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

from kube_api import PLATFORM_NAMESPACE, Api, credentials_secret, eventually

POSTGRES_ENV = "KATHA_AGENT_POSTGRES_URL"
RETENTION_ENV = "KATHA_AGENT_CONVERSATION_RETENTION_DAYS"
OBJECT_KINDS = (
    "Business",
    "ConfigMap",
    "PersistentVolumeClaim",
    "ServiceAccount",
    "Service",
    "NetworkPolicy",
    "Deployment",
    "RayService",
    "Event",
)


def _condition(business: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for item in ((business or {}).get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return dict(item)
    return {}


def _secret(
    namespace: str, name: str, values: dict[str, str], businesses: list[str]
) -> dict[str, Any]:
    """A Secret granted to `businesses` (the label for one, the annotation for several)."""
    data = {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}
    grant: dict[str, Any] = (
        {"labels": {"katha.dev/business": businesses[0]}}
        if len(businesses) == 1
        else {"annotations": {"katha.dev/businesses": ",".join(businesses)}}
    )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, **grant},
        "data": data,
    }


def _with_memory(manifest: dict[str, Any], memory: dict[str, Any]) -> dict[str, Any]:
    manifest["spec"]["memory"] = memory
    return manifest


def _agent_containers(api: Api, namespace: str, business: str) -> list[dict[str, Any]]:
    name = f"{business}-agent"
    service = api.get("RayService", namespace, name)
    if service is not None:
        cluster = service["spec"]["rayClusterConfig"]
        groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
        return [c for group in groups for c in group["template"]["spec"]["containers"]]
    deployment = api.get("Deployment", namespace, name)
    return list(deployment["spec"]["template"]["spec"]["containers"]) if deployment else []


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def test_postgres_url_reaches_both_workloads_by_reference_and_is_never_copied(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    url = f"postgresql://katha:{password}@postgres.databases.svc:5432/katha"
    api.create(_secret(namespace, "tea-postgres", {"url": url}, ["tea-ray", "tea-pod"]))
    memory = {
        "retentionDays": 7,
        "postgres": {"secretKeyRef": {"name": "tea-postgres", "key": "url"}},
    }
    for name, workload in (("tea-ray", "rayService"), ("tea-pod", "deployment")):
        api.create(credentials_secret(namespace, f"{name}-whatsapp"))
        manifest = business_manifest(namespace, name=name, agent={"workload": workload})
        api.create(_with_memory(manifest, memory))

    for name, kind in (("tea-ray", "RayService"), ("tea-pod", "Deployment")):
        eventually(lambda name=name, kind=kind: api.get(kind, namespace, f"{name}-agent"))
        containers = _agent_containers(api, namespace, name)
        assert len(containers) == (2 if kind == "RayService" else 1)  # head and worker
        for container in containers:
            env = _env(container)
            assert env[POSTGRES_ENV]["valueFrom"] == {
                "secretKeyRef": {"name": "tea-postgres", "key": "url"}
            }
            assert "value" not in env[POSTGRES_ENV]
            assert env[RETENTION_ENV]["value"] == "7"
        configured = eventually(
            lambda name=name: _condition(api.get("Business", namespace, name), "MemoryConfigured")
        )
        assert (configured["status"], configured["reason"]) == ("True", "PostgresConfigured")

    # Nothing the operator wrote holds the URL: not the children, status, events or routes.
    written = [item for kind in OBJECT_KINDS for item in api.list(kind, namespace)]
    written.append(api.get("Secret", PLATFORM_NAMESPACE, "katha-routes"))
    text = json.dumps(written)
    routes = json.dumps(
        [base64.b64decode(v).decode() for v in (written[-1] or {}).get("data", {}).values()]
    )
    for leaked in (password, base64.b64encode(url.encode()).decode()):
        assert leaked not in text
        assert leaked not in routes


def test_without_memory_the_agent_keeps_thirty_days_on_its_volume(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    api.create(business_manifest(namespace, agent={"workload": "deployment"}))
    eventually(lambda: api.get("Deployment", namespace, "kandy-bakehouse-agent"))
    (container,) = _agent_containers(api, namespace, "kandy-bakehouse")
    env = _env(container)
    assert env[RETENTION_ENV]["value"] == "30"
    assert POSTGRES_ENV not in env
    eventually(lambda: _condition(api.get("Business", namespace, "kandy-bakehouse"), "Ready"))
    assert _condition(api.get("Business", namespace, "kandy-bakehouse"), "MemoryConfigured") == {}


def test_missing_postgres_secret_or_key_is_a_condition_then_heals(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    memory = {"postgres": {"secretKeyRef": {"name": "bakehouse-db", "key": "url"}}}
    api.create(_with_memory(business_manifest(namespace), memory))

    def memory_condition() -> dict[str, Any]:
        return _condition(api.get("Business", namespace, "kandy-bakehouse"), "MemoryConfigured")

    missing = eventually(lambda: (c := memory_condition()).get("status") == "False" and c)
    assert missing["reason"] == "PostgresSecretNotFound"
    assert f"Secret {namespace}/bakehouse-db not found" in missing["message"]
    assert "key url" in missing["message"]
    business = api.get("Business", namespace, "kandy-bakehouse")
    assert business["status"]["phase"] == "Degraded"
    assert _condition(business, "Ready")["reason"] == "PostgresSecretNotFound"
    # The rest of the reconcile went ahead, as it does for missing WhatsApp credentials:
    # the agent is rendered (its pods wait for the Secret) and the number is routed.
    eventually(lambda: api.get("RayService", namespace, "kandy-bakehouse-agent"))
    eventually(lambda: api.route(namespace, "kandy-bakehouse"))
    events = eventually(
        lambda: [
            e for e in api.list("Event", namespace) if e.get("reason") == "PostgresSecretNotFound"
        ]
    )
    assert events[0]["type"] == "Warning"

    api.create(
        _secret(
            namespace,
            "bakehouse-db",
            {"uri": "postgresql://wrong-key@pg/katha"},
            ["kandy-bakehouse"],
        )
    )
    lacking = eventually(
        lambda: (c := memory_condition()).get("reason") == "PostgresSecretKeyMissing" and c
    )
    assert lacking["status"] == "False"
    assert f"Secret {namespace}/bakehouse-db has no key url" in lacking["message"]

    url = base64.b64encode(b"postgresql://katha:pw-0123456789@pg:5432/katha").decode()
    api.patch("Secret", namespace, "bakehouse-db", {"data": {"url": url}})
    healed = eventually(lambda: (c := memory_condition()).get("status") == "True" and c)
    assert healed["reason"] == "PostgresConfigured"
    assert "30 days" in healed["message"]
