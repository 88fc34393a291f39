"""Meta's account signals reach a Business's conditions and Events: the router's own status
writer patches status.whatsapp (a merge patch of the status subresource, with the chart
router's token, which the emulator checks against the chart's RBAC), and the real Kopf
operator turns it into conditions while it keeps reconciling its own."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from chart_rbac import ROUTER_TOKEN
from kube_api import PLATFORM_NAMESPACE, Api, credentials_secret, eventually
from kube_emulator import KubeEmulator

from katha.api.business import Template, Templates
from katha.contracts.routing import table_from_secret_data
from router.business_status import KubernetesStatusWriter

NAME = "kandy-bakehouse"
WABA = "102290129340398"
TEMPLATES = {
    "handoffNotice": {"name": "owner_handoff", "languages": ["en"]},
    "reopen": {"name": "reopen_chat", "languages": ["si", "en"], "category": "MARKETING"},
}
RECONCILED = ("WhatsAppConfigured", "AgentAvailable", "KnowledgeIndexed", "SecretsGranted")


def _conditions(api: Api, namespace: str) -> dict[str, dict[str, Any]]:
    business = api.get("Business", namespace, NAME) or {}
    items = (business.get("status") or {}).get("conditions") or []
    return {item["type"]: item for item in items}


def _said(api: Api, namespace: str, kind: str) -> tuple[str, str] | None:
    found = _conditions(api, namespace).get(kind)
    return None if found is None else (found["status"], found["reason"])


def _events(api: Api, namespace: str) -> set[tuple[str, str]]:
    return {(e.get("type", ""), e.get("reason", "")) for e in api.list("Event", namespace)}


def _phase(api: Api, namespace: str) -> str:
    business = api.get("Business", namespace, NAME) or {}
    return str((business.get("status") or {}).get("phase"))


def _router_writes(router: Api, namespace: str, whatsapp: dict[str, Any]) -> None:
    """The router's own status writer, signed in as the chart's router, does the patch."""
    client = httpx.AsyncClient(
        base_url=str(router.http.base_url),
        headers={"Authorization": router.http.headers["Authorization"]},
    )
    written = asyncio.run(_write(KubernetesStatusWriter(client), f"{namespace}/{NAME}", whatsapp))
    assert written


async def _write(writer: KubernetesStatusWriter, tenant: str, whatsapp: dict[str, Any]) -> bool:
    try:
        return await writer.write(tenant, whatsapp)
    finally:
        await writer.aclose()


def _at() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _start(
    api: Api, namespace: str, business_manifest: Callable[..., dict[str, Any]], **whatsapp: Any
) -> dict[str, Any]:
    """A Business with a WhatsApp Business Account, reconciled once."""
    api.create(credentials_secret(namespace, f"{NAME}-whatsapp"))
    manifest = business_manifest(namespace, agent={"workload": "deployment"})
    manifest["spec"]["whatsapp"] |= {"businessAccountId": WABA, **whatsapp}
    business = api.create(manifest)
    eventually(lambda: _said(api, namespace, "TemplatesReady"))
    return business


def test_meta_signals_become_conditions_and_events_beside_the_reconcilers(
    api: Api,
    kube: KubeEmulator,
    namespace: str,
    business_manifest: Callable[..., dict[str, Any]],
) -> None:
    business = _start(api, namespace, business_manifest, templates=TEMPLATES)
    # The route carries what the router needs for account-wide webhooks and templates.
    secret = api.get("Secret", PLATFORM_NAMESPACE, "katha-routes")
    route = table_from_secret_data(secret["data"]).route_for(
        business["spec"]["whatsapp"]["phoneNumberId"]
    )
    assert route is not None
    assert route.business_account_id == WABA
    assert route.templates == Templates(
        handoff_notice=Template(name="owner_handoff", languages=["en"]),
        reopen=Template(name="reopen_chat", languages=["si", "en"], category="MARKETING"),
    )
    assert (route.display_name, route.assistant_name) == ("Kandy Bakehouse", "Katha")
    assert _said(api, namespace, "TemplatesReady") == ("True", "NoneStopped")
    assert _said(api, namespace, "MessagingRestricted") == ("False", "None")
    assert _phase(api, namespace) == "Pending"  # no pod runs in the emulator
    reconciled = {kind: _conditions(api, namespace)[kind] for kind in RECONCILED}

    router = Api(kube.http_url, ROUTER_TOKEN)
    paused = {
        "name": "reopen_chat",
        "language": "si",
        "event": "PAUSED",
        "reason": "NONE",
        "category": "MARKETING",
        "at": _at(),
    }
    _router_writes(router, namespace, {"templates": {"reopen_chat:si": paused}})
    eventually(lambda: _said(api, namespace, "TemplatesReady") == ("False", "Paused"))
    assert (
        "reopen_chat:si is PAUSED (NONE)"
        in _conditions(api, namespace)["TemplatesReady"]["message"]
    )
    eventually(lambda: ("Warning", "TemplatePaused") in _events(api, namespace))
    assert _phase(api, namespace) == "Pending", "a paused template does not stop answers"

    restriction = {
        "type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING",
        "expiresAt": "2099-01-01T00:00:00Z",
    }
    account = {"event": "ACCOUNT_RESTRICTION", "restrictions": [restriction], "at": _at()}
    _router_writes(router, namespace, {"account": account})
    reason = "RestrictedCustomerInitiatedMessaging"
    eventually(lambda: _said(api, namespace, "MessagingRestricted") == ("True", reason))
    eventually(lambda: _phase(api, namespace) == "Degraded")
    assert _said(api, namespace, "Ready") == ("False", reason)
    eventually(lambda: ("Warning", reason) in _events(api, namespace))

    quality = {"event": "FLAGGED", "messagingLimit": "TIER_250", "at": _at()}
    _router_writes(router, namespace, {"quality": quality})
    eventually(lambda: _said(api, namespace, "QualityRating") == ("False", "Flagged"))
    assert _said(api, namespace, "MessagingLimit") == ("True", "Tier250")
    eventually(lambda: {("Warning", "Flagged"), ("Normal", "Tier250")} <= _events(api, namespace))
    # Each write kept the others' conditions: the earlier signals, and the reconciler's own.
    conditions = _conditions(api, namespace)
    assert (
        conditions["TemplatesReady"]["status"],
        conditions["MessagingRestricted"]["status"],
    ) == (
        "False",
        "True",
    )
    for kind, condition in reconciled.items():
        assert conditions[kind] == condition, kind

    # A spec change is reconciled; the signal conditions survive the reconciler's write.
    api.patch("Business", namespace, NAME, {"spec": {"persona": {"name": "Nila"}}})
    eventually(
        lambda: (api.get("Business", namespace, NAME) or {})["status"]["observedGeneration"] == 2
    )
    after = _conditions(api, namespace)
    assert after["MessagingRestricted"]["status"] == "True"
    assert (after["QualityRating"]["reason"], after["MessagingLimit"]["reason"]) == (
        "Flagged",
        "Tier250",
    )
    assert after["TemplatesReady"]["reason"] == "Paused"
    assert after["MessagingRestricted"]["observedGeneration"] == 2
    assert _phase(api, namespace) == "Degraded"

    # Meta lifts it all: the conditions clear, and say so.
    _router_writes(
        router,
        namespace,
        {
            "account": {
                "event": "DISABLED_UPDATE",
                "restrictions": [],
                "banState": "REINSTATE",
                "at": _at(),
            },
            "quality": {"event": "UNFLAGGED", "at": _at()},
            "templates": {"reopen_chat:si": paused | {"event": "APPROVED"}},
        },
    )
    eventually(lambda: _said(api, namespace, "MessagingRestricted") == ("False", "None"))
    eventually(lambda: _phase(api, namespace) == "Pending")
    assert _said(api, namespace, "QualityRating") == ("True", "Unflagged")
    assert _said(api, namespace, "MessagingLimit") == ("True", "Tier250"), "the last limit told"
    assert _said(api, namespace, "TemplatesReady") == ("True", "NoneStopped")
    expected = {
        ("Normal", "RestrictionLifted"),
        ("Normal", "Unflagged"),
        ("Normal", "TemplatesRecovered"),
    }
    eventually(lambda: expected <= _events(api, namespace))


def test_a_restriction_clears_when_it_expires_without_another_signal(
    api: Api,
    kube: KubeEmulator,
    namespace: str,
    business_manifest: Callable[..., dict[str, Any]],
) -> None:
    _start(api, namespace, business_manifest)
    assert _said(api, namespace, "TemplatesReady") == ("True", "NoneConfigured")
    expires = (datetime.now(UTC) + timedelta(seconds=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    restriction = {"type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiresAt": expires}
    account = {"event": "ACCOUNT_RESTRICTION", "restrictions": [restriction], "at": _at()}
    _router_writes(Api(kube.http_url, ROUTER_TOKEN), namespace, {"account": account})
    reason = "RestrictedBizInitiatedMessaging"
    eventually(lambda: _said(api, namespace, "MessagingRestricted") == ("True", reason))
    # Templates are refused, but customers still get answers: not Degraded.
    assert _phase(api, namespace) == "Pending"
    eventually(
        lambda: _said(api, namespace, "MessagingRestricted") == ("False", "None"), timeout=60
    )
    assert "lifted or expired" in _conditions(api, namespace)["MessagingRestricted"]["message"]
    assert {("Warning", reason), ("Normal", "RestrictionLifted")} <= _events(api, namespace)
