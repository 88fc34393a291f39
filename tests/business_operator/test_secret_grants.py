"""A Business uses only Secrets granted to it: never another tenant's key in a shared namespace.

The rule: a referenced Secret carries `katha.dev/business: <name>`, or lists the Business
in its `katha.dev/businesses` annotation. The real operator runs against the emulator.
"""

import base64
import json
from collections.abc import Callable
from typing import Any

from kube_api import Api, credentials_secret, eventually

from business_operator.grants import granted, secret_uses
from katha.api import Business

KEY = "sk-the-tea-house-openai-key-0123456789"


def _key_secret(namespace: str, name: str, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, **metadata},
        "data": {"api-key": base64.b64encode(KEY.encode()).decode()},
    }


def _with_endpoint(
    manifest: dict[str, Any], secret: str, base_url: str = "https://api.openai.com/v1"
) -> dict[str, Any]:
    manifest["spec"]["model"] = {
        "endpoint": {
            "baseUrl": base_url,
            "model": "gpt-4o-mini",
            "apiKeySecretRef": {"name": secret, "key": "api-key"},
        }
    }
    return manifest


def _condition(api: Api, namespace: str, name: str, kind: str) -> dict[str, Any]:
    business = api.get("Business", namespace, name) or {}
    for item in (business.get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return dict(item)
    return {}


def _key_secret_of(api: Api, namespace: str, name: str) -> str | None:
    deployment = api.get("Deployment", namespace, f"{name}-agent")
    if deployment is None:
        return None
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        for item in container.get("env", []):
            if item["name"] == "KATHA_AGENT_LLM_API_KEY":
                return str(item["valueFrom"]["secretKeyRef"]["name"])
    return ""


def test_another_businesss_secret_is_refused_and_the_last_good_agent_is_kept(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(_key_secret(namespace, "tea-house-openai", labels={"katha.dev/business": "tea"}))
    api.create(_key_secret(namespace, "spice-openai", labels={"katha.dev/business": "spice"}))
    api.create(credentials_secret(namespace, "spice-whatsapp"))
    manifest = business_manifest(namespace, name="spice", agent={"workload": "deployment"})
    api.create(_with_endpoint(manifest, "spice-openai"))
    assert eventually(lambda: _key_secret_of(api, namespace, "spice")) == "spice-openai"
    eventually(
        lambda: _condition(api, namespace, "spice", "SecretsGranted").get("status") == "True"
    )

    # The same Business now names the tea house's key, with its own baseUrl.
    attacker = "https://llm.attacker.example/v1"
    model = _with_endpoint(business_manifest(namespace), "tea-house-openai", attacker)
    model = model["spec"]["model"]
    api.patch("Business", namespace, "spice", {"spec": {"model": model}})
    refused = eventually(
        lambda: (
            (c := _condition(api, namespace, "spice", "SecretsGranted"))
            and c["status"] == "False"
            and c
        )
    )
    assert refused["reason"] == "SecretNotGranted"
    assert f"{namespace}/tea-house-openai" in refused["message"]
    assert "spec.model.endpoint.apiKeySecretRef" in refused["message"]
    assert "katha.dev/business=spice" in refused["message"]
    assert KEY not in json.dumps(api.get("Business", namespace, "spice"))
    assert api.get("Business", namespace, "spice")["status"]["phase"] == "Degraded"
    events = api.list("Event", namespace)
    assert any(event.get("reason") == "SecretNotGranted" for event in events)
    # The workload that used the Business's own key stays; none references the other key.
    assert _key_secret_of(api, namespace, "spice") == "spice-openai"
    config = api.get("ConfigMap", namespace, "spice-agent-config") or {}
    assert "attacker" not in json.dumps(config)

    # The tea house's owner shares the key with the spice shop: now it proceeds.
    grant = {"metadata": {"annotations": {"katha.dev/businesses": "tea, spice"}}}
    api.patch("Secret", namespace, "tea-house-openai", grant)
    eventually(lambda: _key_secret_of(api, namespace, "spice") == "tea-house-openai")
    granted_now = eventually(
        lambda: (
            (c := _condition(api, namespace, "spice", "SecretsGranted"))
            and c["status"] == "True"
            and c
        )
    )
    assert granted_now["reason"] == "SecretsGranted"


def test_another_businesss_whatsapp_credentials_give_no_route_and_no_agent(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]]
) -> None:
    api.create(credentials_secret(namespace, "tea-whatsapp"))  # granted to "tea"
    manifest = business_manifest(namespace, name="copycat", agent={"workload": "deployment"})
    manifest["spec"]["whatsapp"]["credentialsSecretRef"] = {"name": "tea-whatsapp"}
    api.create(manifest)
    refused = eventually(lambda: _condition(api, namespace, "copycat", "SecretsGranted"))
    assert (refused["status"], refused["reason"]) == ("False", "SecretNotGranted")
    whatsapp = _condition(api, namespace, "copycat", "WhatsAppConfigured")
    assert (whatsapp["status"], whatsapp["reason"]) == ("False", "SecretNotGranted")
    assert api.route(namespace, "copycat") is None
    assert api.get("Deployment", namespace, "copycat-agent") is None


def test_every_secret_reference_in_the_spec_is_found() -> None:
    spec = {
        "displayName": "Colombo Tea House",
        "whatsapp": {"phoneNumberId": "105954558954427", "credentialsSecretRef": {"name": "wa"}},
        "knowledge": {"sources": [{"type": "faq", "items": [{"q": "Open?", "a": "7am"}]}]},
        "model": {
            "endpoint": {
                "baseUrl": "https://api.openai.com/v1",
                "model": "gpt-4o-mini",
                "apiKeySecretRef": {"name": "llm", "key": "k"},
            }
        },
        "webSearch": {
            "enabled": True,
            "provider": "tavily",
            "apiKeySecretRef": {"name": "tv", "key": "k"},
        },
        "memory": {"postgres": {"secretKeyRef": {"name": "pg", "key": "url"}}},
    }
    business = Business.model_validate(
        {"metadata": {"name": "tea", "namespace": "t"}, "spec": spec}
    )
    found = {(use.name, use.field) for use in secret_uses(business.spec)}
    assert found == {
        ("wa", "spec.whatsapp.credentialsSecretRef"),
        ("llm", "spec.model.endpoint.apiKeySecretRef"),
        ("tv", "spec.webSearch.apiKeySecretRef"),
        ("pg", "spec.memory.postgres.secretKeyRef"),
    }


def test_a_secret_is_granted_by_its_label_or_the_shared_annotation_only() -> None:
    assert granted({"labels": {"katha.dev/business": "tea"}}, "tea")
    assert not granted({"labels": {"katha.dev/business": "tea"}}, "spice")
    assert granted({"annotations": {"katha.dev/businesses": "tea,spice"}}, "spice")
    assert not granted({"annotations": {"katha.dev/businesses": "tea,spicy"}}, "spice")
    assert not granted({"labels": {"app": "spice"}}, "spice")
    assert not granted({}, "spice")
