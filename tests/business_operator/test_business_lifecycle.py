"""A Business applied, changed, suspended and deleted, reconciled by the real Kopf operator."""

from collections.abc import Callable
from typing import Any

from kube_api import PLATFORM_NAMESPACE, Api, credentials_secret, eventually

from katha.contracts.routing import table_from_secret_data

CHILDREN = ("ConfigMap", "PersistentVolumeClaim", "ServiceAccount", "Service", "NetworkPolicy")


def _condition(business: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for item in ((business or {}).get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return dict(item)
    return {}


def test_business_gets_its_children_route_and_status(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    business = api.create(business_manifest(namespace))
    for kind in CHILDREN:
        name = "kandy-bakehouse-index" if kind == "PersistentVolumeClaim" else None
        name = name or (
            "kandy-bakehouse-agent-config" if kind == "ConfigMap" else "kandy-bakehouse-agent"
        )
        child = eventually(lambda kind=kind, name=name: api.get(kind, namespace, name))
        owners = child["metadata"].get("ownerReferences", [])
        assert owners == [
            {
                "apiVersion": "katha.dev/v1alpha1",
                "kind": "Business",
                "name": "kandy-bakehouse",
                "uid": business["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ], kind
        assert child["metadata"]["labels"]["app.kubernetes.io/part-of"] == "katha"
    # The emulator serves ray.io, so `workload: auto` picks a RayService.
    eventually(lambda: api.get("RayService", namespace, "kandy-bakehouse-agent"))
    route = eventually(lambda: api.route(namespace, "kandy-bakehouse"))
    assert route["endpoint"] == f"http://kandy-bakehouse-agent.{namespace}.svc:8000"
    assert route["suspended"] is False
    assert route["credentials"]["app_secret"] == "app-secret-0123456789abcdef"
    # The router reads the same Secret into its table (the operator -> router contract).
    secret = api.get("Secret", PLATFORM_NAMESPACE, "katha-routes")
    table = table_from_secret_data(secret["data"])
    routed = table.route_for(business["spec"]["whatsapp"]["phoneNumberId"])
    assert routed is not None
    assert routed.tenant == f"{namespace}/kandy-bakehouse"
    status = eventually(
        lambda: (
            (api.get("Business", namespace, "kandy-bakehouse") or {}).get("status", {}).get("phase")
        )
    )
    assert status == "Pending"  # no pods run in the emulator, so the agent never becomes ready
    current = api.get("Business", namespace, "kandy-bakehouse")
    assert _condition(current, "WhatsAppConfigured")["status"] == "True"
    assert _condition(current, "AgentAvailable")["reason"] == "AgentStarting"
    assert current["status"]["observedGeneration"] == 1


def test_missing_secret_is_a_condition_then_heals(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(business_manifest(namespace, name="no-secret"))
    degraded = eventually(
        lambda: _condition(api.get("Business", namespace, "no-secret"), "WhatsAppConfigured")
    )
    assert degraded["status"] == "False"
    assert degraded["reason"] == "SecretNotFound"
    assert "accessToken, appSecret, verifyToken" in degraded["message"]
    assert api.get("Business", namespace, "no-secret")["status"]["phase"] == "Degraded"
    assert api.route(namespace, "no-secret") is None
    events = api.list("Event", namespace)
    assert any(event.get("reason") == "SecretNotFound" for event in events)
    api.create(credentials_secret(namespace, "no-secret-whatsapp"))
    # The drift timer notices the new Secret; no change to the Business is needed.
    eventually(lambda: api.route(namespace, "no-secret"))
    # The route is written before the status: wait for the status too.
    eventually(
        lambda: (
            _condition(api.get("Business", namespace, "no-secret"), "WhatsAppConfigured").get(
                "status"
            )
            == "True"
        )
    )


def test_persona_change_updates_the_serve_config_in_place(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    api.create(business_manifest(namespace, agent={"workload": "deployment"}))
    deployment = eventually(lambda: api.get("Deployment", namespace, "kandy-bakehouse-agent"))
    digest = deployment["spec"]["template"]["metadata"]["annotations"]["katha.dev/config-digest"]
    api.patch("Business", namespace, "kandy-bakehouse", {"spec": {"persona": {"name": "Nila"}}})

    def config_has_nila() -> bool:
        config = api.get("ConfigMap", namespace, "kandy-bakehouse-agent-config") or {}
        return "name: Nila" in (config.get("data") or {}).get("serve-config.yaml", "")

    eventually(config_has_nila)
    rolled = eventually(
        lambda: (
            d
            if (d := api.get("Deployment", namespace, "kandy-bakehouse-agent"))
            and d["spec"]["template"]["metadata"]["annotations"]["katha.dev/config-digest"]
            != digest
            else None
        )
    )
    assert rolled["spec"]["strategy"] == {"type": "Recreate"}
    eventually(
        lambda: (
            (api.get("Business", namespace, "kandy-bakehouse") or {})
            .get("status", {})
            .get("observedGeneration")
            == 2
        )
    )


def test_a_child_deleted_by_hand_is_recreated(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    api.create(business_manifest(namespace))
    eventually(lambda: api.get("Service", namespace, "kandy-bakehouse-agent"))
    api.delete("Service", namespace, "kandy-bakehouse-agent")
    assert api.get("Service", namespace, "kandy-bakehouse-agent") is None
    eventually(lambda: api.get("Service", namespace, "kandy-bakehouse-agent"))


def test_suspend_scales_to_zero_and_stops_forwarding(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    api.create(business_manifest(namespace, agent={"workload": "deployment"}))
    eventually(lambda: api.route(namespace, "kandy-bakehouse"))
    api.patch("Business", namespace, "kandy-bakehouse", {"spec": {"suspend": True}})
    eventually(
        lambda: (
            (api.get("Deployment", namespace, "kandy-bakehouse-agent") or {})
            .get("spec", {})
            .get("replicas")
            == 0
        )
    )
    eventually(lambda: (api.route(namespace, "kandy-bakehouse") or {}).get("suspended") is True)
    phase = eventually(
        lambda: (
            (api.get("Business", namespace, "kandy-bakehouse") or {}).get("status", {}).get("phase")
            == "Suspended"
        )
    )
    assert phase


def test_delete_removes_the_route_and_releases_the_business(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    api.create(business_manifest(namespace))
    eventually(lambda: api.route(namespace, "kandy-bakehouse"))
    finalizers = api.get("Business", namespace, "kandy-bakehouse")["metadata"]["finalizers"]
    assert "katha.dev/finalizer" in finalizers
    api.delete("Business", namespace, "kandy-bakehouse")
    eventually(lambda: api.route(namespace, "kandy-bakehouse") is None)
    eventually(lambda: api.get("Business", namespace, "kandy-bakehouse") is None)


def test_retained_index_volume_has_no_owner(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    manifest = business_manifest(namespace)
    manifest["spec"]["knowledge"]["storage"] = {"size": "2Gi", "retainOnDelete": True}
    api.create(credentials_secret(namespace, "kandy-bakehouse-whatsapp"))
    api.create(manifest)
    volume = eventually(
        lambda: api.get("PersistentVolumeClaim", namespace, "kandy-bakehouse-index")
    )
    # Without an owner reference the garbage collector leaves the index behind.
    assert "ownerReferences" not in volume["metadata"]
    assert volume["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_invalid_spec_is_a_permanent_failure_with_reasons(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    # The emulator does not validate schemas, so the operator must refuse it itself.
    manifest = business_manifest(
        namespace, name="bad", scaling={"minReplicas": 5, "maxReplicas": 2}
    )
    api.create(manifest)
    ready = eventually(lambda: _condition(api.get("Business", namespace, "bad"), "Ready"))
    assert ready["reason"] == "InvalidSpec"
    assert "minReplicas (5) is above maxReplicas (2)" in ready["message"]
    assert api.get("Business", namespace, "bad")["status"]["phase"] == "Failed"
    assert api.get("ConfigMap", namespace, "bad-agent-config") is None
