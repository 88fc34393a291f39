"""One WhatsApp number, one Business: the first to claim a phoneNumberId keeps it, a second
Business naming it gets no route and a condition naming the owner, and gets the number
once the owner lets go. The real Kopf operator against the Kubernetes emulator."""

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kube_api import PLATFORM_NAMESPACE, Api, credentials_secret, eventually
from pydantic import SecretStr

from business_operator.claims import claim
from katha.contracts.routing import Credentials, Route, resolve, table_from_secret_data

OWNER = "kandy-bakehouse"
COPYCAT = "copycat"


@pytest.fixture
def other_namespace(api: Api) -> Iterator[str]:
    """A second tenant namespace: numbers are claimed across namespaces."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield name
    for business in api.list("Business", name):
        api.delete("Business", name, business["metadata"]["name"])
    eventually(lambda: not api.list("Business", name), timeout=60)


def _condition(api: Api, namespace: str, name: str, kind: str) -> dict[str, Any]:
    business = api.get("Business", namespace, name) or {}
    for item in (business.get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return dict(item)
    return {}


def _claim_refused(
    api: Api, namespace: str, other_namespace: str, manifest: Callable[..., dict[str, Any]]
) -> str:
    """The owner in `namespace` holds its number; a copycat in `other_namespace` names it too
    and is refused. Returns the number."""
    api.create(credentials_secret(namespace, f"{OWNER}-whatsapp"))
    owner = api.create(manifest(namespace, agent={"workload": "deployment"}))
    number: str = owner["spec"]["whatsapp"]["phoneNumberId"]
    eventually(lambda: api.route(namespace, OWNER))
    api.create(credentials_secret(other_namespace, f"{COPYCAT}-whatsapp"))
    copycat = manifest(other_namespace, name=COPYCAT, agent={"workload": "deployment"})
    copycat["spec"]["whatsapp"]["phoneNumberId"] = number
    api.create(copycat)
    eventually(
        lambda: (
            _condition(api, other_namespace, COPYCAT, "WhatsAppConfigured").get("reason")
            == "PhoneNumberClaimed"
        )
    )
    return number


def test_a_second_business_with_a_claimed_number_gets_no_route_and_a_condition_naming_the_owner(
    api: Api,
    namespace: str,
    other_namespace: str,
    business_manifest: Callable[..., dict[str, Any]],
) -> None:
    number = _claim_refused(api, namespace, other_namespace, business_manifest)
    refused = _condition(api, other_namespace, COPYCAT, "WhatsAppConfigured")
    assert refused["status"] == "False"
    assert f"Business {namespace}/{OWNER}" in refused["message"]
    assert api.get("Business", other_namespace, COPYCAT)["status"]["phase"] == "Degraded"
    assert api.route(other_namespace, COPYCAT) is None
    events = api.list("Event", other_namespace)
    assert any(event.get("reason") == "PhoneNumberClaimed" for event in events)
    # The first owner keeps its number, in the operator's status and in the router's table.
    assert _condition(api, namespace, OWNER, "WhatsAppConfigured")["status"] == "True"
    secret = api.get("Secret", PLATFORM_NAMESPACE, "katha-routes")
    routed = table_from_secret_data(secret["data"]).route_for(number)
    assert routed is not None
    assert routed.tenant == f"{namespace}/{OWNER}"
    # Timers reconcile both again and again: the copycat never gets in.
    api.patch("Business", other_namespace, COPYCAT, {"spec": {"persona": {"name": "Nila"}}})
    eventually(
        lambda: (
            (api.get("Business", other_namespace, COPYCAT) or {})
            .get("status", {})
            .get("observedGeneration")
            == 2
        )
    )
    assert api.route(other_namespace, COPYCAT) is None
    assert (api.route(namespace, OWNER) or {}).get("phone_number_id") == number


def test_the_waiting_business_gets_the_number_once_the_owner_is_deleted(
    api: Api,
    namespace: str,
    other_namespace: str,
    business_manifest: Callable[..., dict[str, Any]],
) -> None:
    number = _claim_refused(api, namespace, other_namespace, business_manifest)
    api.delete("Business", namespace, OWNER)
    # No change to the copycat: its drift timer claims the number now free.
    route = eventually(lambda: api.route(other_namespace, COPYCAT))
    assert route["phone_number_id"] == number
    eventually(
        lambda: (
            _condition(api, other_namespace, COPYCAT, "WhatsAppConfigured").get("status") == "True"
        )
    )


def test_the_waiting_business_gets_the_number_once_the_owner_changes_its_number(
    api: Api,
    namespace: str,
    other_namespace: str,
    business_manifest: Callable[..., dict[str, Any]],
) -> None:
    number = _claim_refused(api, namespace, other_namespace, business_manifest)
    api.patch(
        "Business",
        namespace,
        OWNER,
        {"spec": {"whatsapp": {"phoneNumberId": "109999999999999"}}},
    )
    route = eventually(lambda: api.route(other_namespace, COPYCAT))
    assert route["phone_number_id"] == number
    assert (api.route(namespace, OWNER) or {}).get("phone_number_id") == "109999999999999"
    secret = api.get("Secret", PLATFORM_NAMESPACE, "katha-routes")
    routed = table_from_secret_data(secret["data"]).route_for(number)
    assert routed is not None
    assert routed.tenant == f"{other_namespace}/{COPYCAT}"


NUMBER = "105954558954427"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _route(tenant: str, number: str = NUMBER, claimed_at: datetime | None = None) -> Route:
    secret = SecretStr(f"{tenant.replace('/', '-')}-secret-0123456789")
    return Route(
        phone_number_id=number,
        tenant=tenant,
        endpoint="http://agent.tenants.svc:8000",
        credentials=Credentials(access_token=secret, app_secret=secret, verify_token=secret),
        claimed_at=claimed_at,
    )


def test_the_holder_keeps_its_number_and_its_claim_time() -> None:
    held = _route("shops/owner", claimed_at=T0)
    decided = claim(_route("shops/owner"), [held], T0 - timedelta(days=9), T0 + timedelta(days=5))
    assert decided.owner is None
    assert decided.route is not None
    assert decided.route.claimed_at == T0


def test_an_older_business_switching_to_a_held_number_does_not_take_it_over() -> None:
    # Age is not the rule: the table's record of who held the number first is.
    held = _route("shops/owner", claimed_at=T0)
    before_that = T0 - timedelta(days=365)
    decided = claim(_route("shops/veteran"), [held], before_that, T0 + timedelta(days=1))
    assert decided.route is None
    assert decided.owner == "shops/owner"


def test_two_first_claims_that_raced_agree_with_the_router_on_one_holder() -> None:
    # Both reconciles saw a free number and wrote their entry; each then reads back.
    first = _route("shops/first", claimed_at=T0)
    second = _route("shops/second", claimed_at=T0 + timedelta(milliseconds=3))
    now = T0 + timedelta(seconds=1)
    assert claim(_route("shops/first"), [first, second], T0, now).owner is None
    assert claim(_route("shops/second"), [first, second], T0, now).owner == "shops/first"
    kept = resolve([("a", second), ("b", first)]).table.route_for(NUMBER)
    assert kept is not None
    assert kept.tenant == "shops/first"


def test_an_entry_from_before_claim_times_counts_from_its_business_creation() -> None:
    legacy = _route("shops/owner")
    rival = _route("shops/rival", claimed_at=T0)
    created = T0 - timedelta(days=30)
    decided = claim(_route("shops/owner"), [legacy, rival], created, T0 + timedelta(days=1))
    assert decided.route is not None
    assert decided.route.claimed_at == created
