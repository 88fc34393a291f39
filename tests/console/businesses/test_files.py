"""On one machine the console writes the Business's own YAML file: in place, whole or not
at all, checked as `katha validate` checks it, leaving everything else in the file as it
was written."""

import asyncio
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from console.businesses import (
    BusinessesUnavailableError,
    BusinessInvalidError,
    BusinessNotFoundError,
)
from console.businesses.files import FileBusinesses

GREETING = ("persona", "greeting")
OWNER_NUMBER = ("handoff", "ownerNumber")
BUSINESS = """\
# Kandy Bakehouse, as its developer wrote it.
apiVersion: katha.dev/v1alpha1
kind: Business
metadata:
  name: kandy-bakehouse
  namespace: tenants
spec:
  displayName: "Kandy Bakehouse"   # shown to customers
  whatsapp:
    phoneNumberId: "105954558954427"
    credentialsSecretRef:
      name: kandy-bakehouse-whatsapp
  persona:
    name: Nimali
    languages:
      - si
      - en
  knowledge:
    sources:
      - type: faq
        items:
          - q: What time do you open?
            a: Seven in the morning.   # Poya days too
status:
  phase: Ready
"""
SECRET = """\
---
# Its WhatsApp credentials, in the same file.
apiVersion: v1
kind: Secret
metadata: {name: kandy-bakehouse-whatsapp, namespace: tenants}
stringData:
  accessToken: "EAAG-local"
"""
MODEL = """\
--- # another Business, with no namespace: "default"
apiVersion: katha.dev/v1alpha1
kind: Business
metadata:
  name: galle-cafe
spec:
  displayName: Galle Cafe
  whatsapp: {phoneNumberId: "205954558954427", credentialsSecretRef: {name: galle}}
"""
NOW = datetime(2026, 12, 5, 10, 30, tzinfo=UTC)


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


def listing(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def business_file(tmp_path: Path) -> Path:
    path = tmp_path / "businesses" / "kandy.yaml"
    path.parent.mkdir()
    path.write_text(BUSINESS + SECRET + MODEL, encoding="utf-8")
    path.chmod(0o640)
    return path


@pytest.fixture
def businesses(business_file: Path, tmp_path: Path) -> FileBusinesses:
    files = {"tenants/kandy-bakehouse": business_file, "default/galle-cafe": business_file}
    return FileBusinesses(files, tmp_path / "refresh", clock=lambda: NOW)


async def test_get_is_the_document_as_written_without_status(businesses: FileBusinesses) -> None:
    business = await businesses.get("tenants/kandy-bakehouse")
    assert business == {
        key: value for key, value in yaml.safe_load(BUSINESS).items() if key != "status"
    }
    other = await businesses.get("default/galle-cafe")
    assert other["spec"]["displayName"] == "Galle Cafe"
    for unknown in ("tenants/galle-cafe", "tenants/no-such-shop", "nonsense"):
        with pytest.raises(BusinessNotFoundError):
            await businesses.get(unknown)


async def test_a_change_rewrites_only_the_businesss_own_lines(
    businesses: FileBusinesses, business_file: Path
) -> None:
    changed = await businesses.apply(
        "tenants/kandy-bakehouse",
        {GREETING: "ආයුබෝවන්! Welcome", OWNER_NUMBER: "+94771234567", ("persona", "name"): None},
    )
    assert changed["spec"]["persona"] == {"languages": ["si", "en"], "greeting": "ආයුබෝවන්! Welcome"}
    text = read_text(business_file)
    assert text.endswith(SECRET + MODEL), "the other documents stay byte for byte"
    assert "# Kandy Bakehouse, as its developer wrote it." in text
    assert 'displayName: "Kandy Bakehouse"   # shown to customers' in text
    assert "a: Seven in the morning.   # Poya days too" in text
    assert "    languages:\n      - si\n      - en\n" in text, "lists indented as written"
    assert "greeting: ආයුබෝවන්! Welcome" in text, "Sinhala as text, not escapes"
    assert "Nimali" not in text
    documents = list(yaml.safe_load_all(text))
    assert documents[0]["spec"]["handoff"] == {"ownerNumber": "+94771234567"}
    assert documents[0]["status"] == {"phase": "Ready"}
    assert mode(business_file) == 0o640
    assert listing(business_file.parent) == ["kandy.yaml"]
    assert await businesses.get("tenants/kandy-bakehouse") == changed


async def test_an_invalid_change_reads_as_katha_validate_and_leaves_the_file_untouched(
    businesses: FileBusinesses, business_file: Path
) -> None:
    before = read_bytes(business_file)
    with pytest.raises(BusinessInvalidError) as refused:
        await businesses.apply(
            "tenants/kandy-bakehouse", {GREETING: "x" * 501, ("persona", "languages"): ["fr"]}
        )
    assert refused.value.problems == [
        "spec.persona.languages[0]: must be one of 'si', 'en', 'ta' or 'singlish', got 'fr'",
        "spec.persona.greeting: String should have at most 500 characters",
    ]
    assert read_bytes(business_file) == before
    assert listing(business_file.parent) == ["kandy.yaml"]


async def test_changes_made_at_once_all_land(
    businesses: FileBusinesses, business_file: Path
) -> None:
    await asyncio.gather(
        businesses.apply("tenants/kandy-bakehouse", {GREETING: "Welcome!"}),
        businesses.apply("tenants/kandy-bakehouse", {OWNER_NUMBER: "+94771234567"}),
        businesses.apply("tenants/kandy-bakehouse", {("persona", "tone"): "concise"}),
        businesses.apply("default/galle-cafe", {GREETING: "Hello from Galle"}),
    )
    kandy, _, galle = yaml.safe_load_all(read_text(business_file))
    assert kandy["spec"]["persona"]["greeting"] == "Welcome!"
    assert kandy["spec"]["persona"]["tone"] == "concise"
    assert kandy["spec"]["handoff"]["ownerNumber"] == "+94771234567"
    assert galle["spec"]["persona"] == {"greeting": "Hello from Galle"}


async def test_a_refresh_request_is_a_file_katha_up_watches(
    businesses: FileBusinesses, tmp_path: Path
) -> None:
    await businesses.request_refresh("tenants/kandy-bakehouse")
    await businesses.request_refresh("default/galle-cafe")
    refresh = tmp_path / "refresh"
    assert listing(refresh) == ["default.galle-cafe", "tenants.kandy-bakehouse"]
    assert read_text(refresh / "tenants.kandy-bakehouse") == "2026-12-05T10:30:00Z\n"
    with pytest.raises(BusinessNotFoundError):
        await businesses.request_refresh("tenants/no-such-shop")


async def test_paths_the_console_does_not_manage_are_a_programming_error(
    businesses: FileBusinesses, business_file: Path
) -> None:
    before = read_bytes(business_file)
    with pytest.raises(ValueError, match=r"does not manage spec\.whatsapp"):
        await businesses.apply("tenants/kandy-bakehouse", {("whatsapp",): {}})
    assert read_bytes(business_file) == before


async def test_text_that_yaml_1_1_would_misread_is_written_quoted(
    businesses: FileBusinesses, business_file: Path
) -> None:
    """ruamel writes YAML 1.2; `katha validate` and `katha up` read YAML 1.1, where 13:00 is
    a number and yes is true. Text stays text for them."""
    changes = {("persona", "name"): "13:00", GREETING: "yes", OWNER_NUMBER: "+94771234567"}
    await businesses.apply("tenants/kandy-bakehouse", changes)
    kandy = next(yaml.safe_load_all(read_text(business_file)))
    assert kandy["spec"]["persona"]["name"] == "13:00"
    assert kandy["spec"]["persona"]["greeting"] == "yes"
    assert kandy["spec"]["handoff"]["ownerNumber"] == "+94771234567"
    assert 'greeting: "yes"' in read_text(business_file)


async def test_a_file_ruamel_cannot_round_trip_is_refused_and_left_untouched(
    business_file: Path, tmp_path: Path
) -> None:
    """PyYAML (hence `katha up`) reads a key given twice, the later one winning; ruamel's
    round trip refuses it. The owner is told the file could not be rewritten; no 500."""
    path = business_file.parent / "twice.yaml"
    path.write_text(BUSINESS.replace("  persona:\n", "  displayName: Again\n  persona:\n"))
    businesses = FileBusinesses({"tenants/kandy-bakehouse": path}, tmp_path / "refresh")
    before = read_bytes(path)
    with pytest.raises(BusinessesUnavailableError, match="could not be rewritten safely"):
        await businesses.apply("tenants/kandy-bakehouse", {GREETING: "Welcome!"})
    assert read_bytes(path) == before


async def test_updates_at_once_each_work_from_the_file_as_it_is_then(
    businesses: FileBusinesses, business_file: Path
) -> None:
    """Each update's change is worked out inside the file's lock from the Business as it
    is then: five owners adding an FAQ item at once keep all five items."""
    faq = ("knowledge", "faq")

    def adding(question: str) -> Callable[[dict[str, Any]], dict[tuple[str, ...], Any]]:
        def compute(spec: dict[str, Any]) -> dict[tuple[str, ...], Any]:
            items = list((spec.get("knowledge") or {}).get("faq") or [])
            return {faq: [*items, {"q": question, "a": "yes"}]}

        return compute

    await asyncio.gather(
        *(businesses.update("tenants/kandy-bakehouse", adding(f"q{n}?")) for n in range(5))
    )
    kandy = next(yaml.safe_load_all(read_text(business_file)))
    assert sorted(item["q"] for item in kandy["spec"]["knowledge"]["faq"]) == [
        f"q{n}?" for n in range(5)
    ]

    def refusing(spec: dict[str, Any]) -> dict[tuple[str, ...], Any]:
        raise LookupError("changed meanwhile")

    before = read_bytes(business_file)
    with pytest.raises(LookupError, match="changed meanwhile"):
        await businesses.update("tenants/kandy-bakehouse", refusing)
    assert read_bytes(business_file) == before
