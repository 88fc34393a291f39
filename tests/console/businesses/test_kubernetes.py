"""The console changes a Business in a cluster as its own field manager, and a platform
engineer's kubectl sees it, conflicts with it visibly, and is never silently undone."""

import asyncio
import json
import subprocess
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from businesses_cluster import (
    CONSOLE_TOKEN,
    TENANTS,
    Kubectl,
    business_yaml,
    get_business,
    managers,
)
from kube_emulator import KubeEmulator
from peers.loopback import QuietLog, send_json, serve_http

from console.businesses import (
    BusinessConflictError,
    BusinessesUnavailableError,
    BusinessInvalidError,
    BusinessNotFoundError,
)
from console.businesses.kubernetes import KubernetesBusinesses
from katha.api import REFRESH_ANNOTATION

REPO_ROOT = Path(__file__).resolve().parents[3]
GREETING = ("persona", "greeting")
OWNER_NUMBER = ("handoff", "ownerNumber")


def katha_validate(path: Path) -> subprocess.CompletedProcess[str]:
    command = [str(REPO_ROOT / ".venv" / "bin" / "katha"), "validate", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def name_of(tenant: str) -> str:
    return tenant.split("/")[1]


async def test_a_greeting_the_console_applies_shows_in_kubectl_under_its_own_manager(
    businesses: KubernetesBusinesses, tenant: str, kubectl: Kubectl
) -> None:
    returned = await businesses.apply(tenant, {GREETING: "ආයුබෝවන්! Welcome to the bakehouse"})
    assert returned["spec"]["persona"]["greeting"] == "ආයුබෝවන්! Welcome to the bakehouse"
    shown = kubectl("get", "biz", name_of(tenant), "-o", "yaml", "--show-managed-fields")
    assert shown.returncode == 0, shown.stderr
    assert "greeting: ආයුබෝවන්! Welcome to the bakehouse" in shown.stdout
    assert "manager: katha-console" in shown.stdout
    business = get_business(kubectl, tenant, "--show-managed-fields")
    owners = managers(business)
    assert owners["katha-console/Apply"] == {"f:persona": {"f:greeting": {}}}
    # The console took nothing else: the creator still holds what it wrote.
    assert "f:displayName" in owners["kubectl-create/Update"]
    assert business["spec"]["displayName"] == "Kandy Bakehouse"


async def test_a_platform_engineers_later_server_side_apply_conflicts_naming_the_console(
    businesses: KubernetesBusinesses, tenant: str, kubectl: Kubectl
) -> None:
    await businesses.apply(tenant, {GREETING: "Ayubowan from the owner"})
    manifest = business_yaml(name_of(tenant), greeting="Hello from the platform team")
    applied = kubectl("apply", "--server-side", "--validate=false", "-f", "-", stdin=manifest)
    assert applied.returncode != 0
    assert 'conflict with "katha-console"' in applied.stderr
    assert ".spec.persona.greeting" in applied.stderr
    business = get_business(kubectl, tenant)
    assert business["spec"]["persona"]["greeting"] == "Ayubowan from the owner"
    # The same YAML with the owner's greeting is no conflict: both now hold the field.
    agreed = business_yaml(name_of(tenant), greeting="Ayubowan from the owner")
    again = kubectl("apply", "--server-side", "--validate=false", "-f", "-", stdin=agreed)
    assert again.returncode == 0, again.stderr
    owners = managers(get_business(kubectl, tenant, "--show-managed-fields"))
    assert owners["kubectl/Apply"]["f:persona"] == {"f:greeting": {}}
    assert owners["katha-console/Apply"]["f:persona"] == {"f:greeting": {}}


async def test_the_console_changing_a_field_kubectl_applied_is_refused_naming_kubectl(
    businesses: KubernetesBusinesses, tenant: str, kubectl: Kubectl
) -> None:
    manifest = business_yaml(name_of(tenant), greeting="Set by the platform team")
    applied = kubectl("apply", "--server-side", "--validate=false", "-f", "-", stdin=manifest)
    assert applied.returncode == 0, applied.stderr
    before = get_business(kubectl, tenant)
    with pytest.raises(BusinessConflictError) as refused:
        await businesses.apply(tenant, {GREETING: "The owner's own greeting"})
    assert refused.value.fields == ["spec.persona.greeting"]
    assert refused.value.managers == ["kubectl"]
    after = get_business(kubectl, tenant)
    assert after["spec"] == before["spec"]
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_console_applies_to_different_areas_keep_each_other(
    businesses: KubernetesBusinesses, tenant: str, kubectl: Kubectl, kube: KubeEmulator
) -> None:
    await businesses.apply(tenant, {GREETING: "Welcome!"})
    await businesses.apply(tenant, {OWNER_NUMBER: "+94771234567", ("handoff", "enabled"): True})
    await businesses.apply(tenant, {("persona", "languages"): ["si", "en"]})
    other_replica = KubernetesBusinesses.connect(kube.http_url, CONSOLE_TOKEN)
    spec = get_business(kubectl, tenant)["spec"]
    assert spec["persona"] == {"greeting": "Welcome!", "languages": ["si", "en"]}
    assert spec["handoff"] == {"ownerNumber": "+94771234567", "enabled": True}
    # Two at once (two owners' pages, or two replicas) lose nothing either.
    await asyncio.gather(
        businesses.apply(tenant, {GREETING: "Welcome back!"}),
        other_replica.apply(tenant, {("persona", "tone"): "concise"}),
    )
    await other_replica.aclose()
    spec = get_business(kubectl, tenant)["spec"]
    assert spec["persona"] == {
        "greeting": "Welcome back!",
        "languages": ["si", "en"],
        "tone": "concise",
    }
    assert spec["handoff"]["ownerNumber"] == "+94771234567"


async def test_removing_a_field_gives_it_up_unless_someone_else_set_it(
    businesses: KubernetesBusinesses, tenant: str, kubectl: Kubectl
) -> None:
    await businesses.apply(tenant, {GREETING: "Welcome!", OWNER_NUMBER: "+94771234567"})
    await businesses.apply(tenant, {GREETING: None})
    spec = get_business(kubectl, tenant)["spec"]
    assert "greeting" not in spec.get("persona", {})
    assert spec["handoff"]["ownerNumber"] == "+94771234567"
    # A field a platform engineer set stays theirs: removing it is refused, naming them.
    patch = json.dumps({"spec": {"persona": {"name": "Kandy"}}})
    patched = kubectl("patch", "biz", name_of(tenant), "--type=merge", "-p", patch)
    assert patched.returncode == 0, patched.stderr
    with pytest.raises(BusinessConflictError) as refused:
        await businesses.apply(tenant, {("persona", "name"): None})
    assert (refused.value.fields, refused.value.managers) == (
        ["spec.persona.name"],
        ["kubectl-patch"],
    )
    assert get_business(kubectl, tenant)["spec"]["persona"]["name"] == "Kandy"


async def test_an_invalid_change_reads_as_katha_validate_and_writes_nothing(
    businesses: KubernetesBusinesses, tenant: str, kubectl: Kubectl, tmp_path: Path
) -> None:
    before = get_business(kubectl, tenant, "--show-managed-fields")
    too_long = "ආයුබෝවන් " * 60
    with pytest.raises(BusinessInvalidError) as refused:
        await businesses.apply(tenant, {GREETING: too_long})
    assert refused.value.problems == [
        "spec.persona.greeting: String should have at most 500 characters"
    ]
    after = get_business(kubectl, tenant, "--show-managed-fields")
    assert after == before
    # `katha validate` says the very same of the same Business in a file.
    manifest = json.loads(business_yaml(name_of(tenant), greeting=too_long))
    path = tmp_path / "business.yaml"
    write(path, json.dumps(manifest, ensure_ascii=False))
    validated = katha_validate(path)
    assert validated.returncode == 1
    assert f"  - {refused.value.problems[0]}" in validated.stderr


async def test_a_refresh_request_is_the_annotation_the_operator_acts_on(
    businesses: KubernetesBusinesses, tenant: str, kubectl: Kubectl
) -> None:
    await businesses.request_refresh(tenant)
    business = get_business(kubectl, tenant, "--show-managed-fields")
    requested = business["metadata"]["annotations"][REFRESH_ANNOTATION]
    assert datetime.strptime(requested, "%Y-%m-%dT%H:%M:%SZ")
    entries = business["metadata"]["managedFields"]
    console = [e for e in entries if e["manager"] == "katha-console"]
    assert [e["operation"] for e in console] == ["Update"]
    assert console[0]["fieldsV1"] == {
        "f:metadata": {"f:annotations": {f"f:{REFRESH_ANNOTATION}": {}}}
    }


async def test_a_business_that_is_not_there_is_not_found(
    businesses: KubernetesBusinesses,
) -> None:
    for call in (
        businesses.get(f"{TENANTS}/no-such-shop"),
        businesses.apply(f"{TENANTS}/no-such-shop", {GREETING: "Hi"}),
        businesses.request_refresh(f"{TENANTS}/no-such-shop"),
        businesses.get("not a tenant"),
    ):
        with pytest.raises(BusinessNotFoundError):
            await call


async def test_paths_the_console_does_not_manage_are_a_programming_error(
    businesses: KubernetesBusinesses, tenant: str
) -> None:
    with pytest.raises(ValueError, match=r"does not manage spec\.displayName"):
        await businesses.apply(tenant, {("displayName",): "Another name"})


async def test_an_api_server_that_does_not_answer_is_unavailable(kube: KubeEmulator) -> None:
    gone = KubernetesBusinesses.connect("http://127.0.0.1:9", "a-token")
    with pytest.raises(BusinessesUnavailableError):
        await gone.get(f"{TENANTS}/bakehouse-1")
    await gone.aclose()


async def test_a_platform_engineer_hands_a_declared_field_over_by_no_longer_applying_it(
    businesses: KubernetesBusinesses, kubectl: Kubectl
) -> None:
    """A greeting a platform engineer declares with `kubectl apply --server-side` stays
    theirs until their file stops holding it (docs/owner-console/businesses.md); then the
    owner sets it."""
    manifest = business_yaml("handed-over", greeting="From the platform team")
    declare = ("apply", "--server-side", "--validate=false", "-f", "-")
    assert kubectl(*declare, stdin=manifest).returncode == 0
    tenant = f"{TENANTS}/handed-over"
    with pytest.raises(BusinessConflictError) as refused:
        await businesses.apply(tenant, {GREETING: "The owner's greeting"})
    assert refused.value.managers == ["kubectl"]
    released = kubectl(*declare, stdin=business_yaml("handed-over"))
    assert released.returncode == 0, released.stderr
    changed = await businesses.apply(tenant, {GREETING: "The owner's greeting"})
    assert changed["spec"]["persona"]["greeting"] == "The owner's greeting"
    assert changed["spec"]["displayName"] == "Kandy Bakehouse"


async def test_a_field_in_a_plain_kubectl_apply_file_is_handed_over_by_leaving_it_out(
    businesses: KubernetesBusinesses, tenant: str, kubectl: Kubectl
) -> None:
    """The default, client-side `kubectl apply` resets every field its file holds, so the
    console never takes one: the owner is told who holds it. Once the platform engineer's
    file leaves the greeting out, the owner's greeting survives that file applied again."""
    apply = ("apply", "--validate=false", "-f", "-")
    assert kubectl(*apply, stdin=business_yaml(name_of(tenant), greeting="Welcome")).returncode == 0
    with pytest.raises(BusinessConflictError) as refused:
        await businesses.apply(tenant, {GREETING: "ආයුබෝවන්! The owner's own words"})
    assert refused.value.managers == ["kubectl-client-side-apply"]
    assert kubectl(*apply, stdin=business_yaml(name_of(tenant))).returncode == 0
    await businesses.apply(tenant, {GREETING: "ආයුබෝවන්! The owner's own words"})
    again = kubectl(*apply, stdin=business_yaml(name_of(tenant)))
    assert again.returncode == 0, again.stderr
    business = get_business(kubectl, tenant)
    assert business["spec"]["persona"]["greeting"] == "ආයුබෝවන්! The owner's own words"


async def test_a_business_created_by_a_server_side_apply_is_the_console_s_to_change(
    businesses: KubernetesBusinesses, kubectl: Kubectl
) -> None:
    """`kubectl apply --server-side` of a new Business creates it (the GitOps way); fields
    its file leaves out are the owner's."""
    created = kubectl(
        "apply", "--server-side", "--validate=false", "-f", "-",
        stdin=business_yaml("declared", tone="warm"),
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    tenant = f"{TENANTS}/declared"
    changed = await businesses.apply(tenant, {GREETING: "ආයුබෝවන්!"})
    assert changed["spec"]["persona"] == {"tone": "warm", "greeting": "ආයුබෝවන්!"}
    with pytest.raises(BusinessConflictError):
        await businesses.apply(tenant, {("persona", "tone"): "professional"})


async def test_updates_from_two_replicas_each_work_from_the_business_as_it_is_then(
    businesses: KubernetesBusinesses, tenant: str, kubectl: Kubectl, kube: KubeEmulator
) -> None:
    """An FAQ item added on each of two replicas at once: the later apply is refused as
    stale, reads again and works its change out again, so both items are kept."""
    faq = ("knowledge", "faq")
    other_replica = KubernetesBusinesses.connect(kube.http_url, CONSOLE_TOKEN)

    def adding(question: str) -> Callable[[dict[str, Any]], dict[tuple[str, ...], Any]]:
        def compute(spec: dict[str, Any]) -> dict[tuple[str, ...], Any]:
            items = list((spec.get("knowledge") or {}).get("faq") or [])
            return {faq: [*items, {"q": question, "a": "yes"}]}

        return compute

    await asyncio.gather(
        *(
            replica.update(tenant, adding(f"q{n}?"))
            for n, replica in enumerate([businesses, other_replica] * 3)
        )
    )
    await other_replica.aclose()
    items = get_business(kubectl, tenant)["spec"]["knowledge"]["faq"]
    assert sorted(item["q"] for item in items) == [f"q{n}?" for n in range(6)]


class _TooLarge(QuietLog, BaseHTTPRequestHandler):
    """The API server's answer to a Business past its request size limit."""

    def do_GET(self) -> None:
        manifest = yaml.safe_load(
            (REPO_ROOT / "crds/examples/01-minimal-business.yaml").read_text()
        )
        manifest["metadata"].update(namespace=TENANTS, resourceVersion="7")
        send_json(self, 200, manifest)

    def do_PATCH(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = {"kind": "Status", "status": "Failure", "reason": "RequestEntityTooLarge"}
        send_json(self, 413, {**status, "message": "Request entity too large", "code": 413})


async def test_a_business_too_large_for_the_api_server_is_invalid_not_try_again() -> None:
    with serve_http(_TooLarge) as url:
        businesses = KubernetesBusinesses.connect(url)
        with pytest.raises(BusinessInvalidError) as refused:
            await businesses.apply(f"{TENANTS}/kandy-bakehouse", {GREETING: "Welcome!"})
        await businesses.aclose()
    assert refused.value.problems == [
        "the Business is too large to store; shorten or remove some FAQ answers"
    ]
