"""The CRDs in crds/ are generated from the models, structural, and agree with the models."""

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from katha.api import Business, LanguageModel
from katha.crd import all_crds, custom_resource_definition, render_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CRDS = REPO_ROOT / "crds"
EXAMPLES = sorted((CRDS / "examples").glob("*.yaml"))
KINDS = {"Business": Business, "LanguageModel": LanguageModel}
ApiCheck = Callable[[dict[str, Any], dict[str, Any]], list[str]]
ApiDefaults = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def _schema(kind: str) -> dict[str, Any]:
    crd = custom_resource_definition(KINDS[kind])
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def test_crds_folder_is_up_to_date() -> None:
    expected = {name: render_yaml(crd) for name, crd in all_crds().items()}
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in CRDS.glob("*.yaml")}
    assert on_disk == expected, "crds/ is stale: run `katha crd --write crds/`"


def test_katha_crd_check_reports_a_stale_folder(tmp_path: Path) -> None:
    katha = [sys.executable, "-m", "katha_cli"]
    subprocess.run([*katha, "crd", "--write", str(tmp_path)], check=True, capture_output=True)
    fresh = subprocess.run([*katha, "crd", "--check", str(tmp_path)], capture_output=True)
    assert fresh.returncode == 0
    stale_file = tmp_path / "businesses.katha.dev.yaml"
    stale_file.write_text(stale_file.read_text().replace("biz", "bz"))
    stale = subprocess.run(
        [*katha, "crd", "--check", str(tmp_path)], capture_output=True, text=True
    )
    assert stale.returncode == 1
    assert "businesses.katha.dev.yaml" in stale.stderr


@pytest.mark.parametrize("name", sorted(all_crds()))
def test_crd_is_a_valid_kubernetes_object(name: str) -> None:
    crd = all_crds()[name]
    # Raises kubernetes_validate.ValidationError with the offending path when invalid.
    assert kubernetes_validate.validate(crd, "1.33", strict=True) == "1.33"


def _walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_is_structural(kind: str) -> None:
    for path, node in _walk(_schema(kind)):
        assert "type" in node, f"{path} has no type"
        assert "$ref" not in node, f"{path} still refers to a definition"
        for junctor in ("anyOf", "oneOf", "allOf", "not"):
            assert junctor not in node, f"{path} uses {junctor}"
        assert not ("properties" in node and "additionalProperties" in node), path
        if node["type"] == "object" and "properties" not in node:
            free_form = node.get("x-kubernetes-preserve-unknown-fields") is True
            assert free_form or "additionalProperties" in node or path == ".metadata", path
        if "default" in node and node["type"] == "object":
            assert node["default"] == {}, f"{path}: object defaults are empty so nested ones apply"


def test_business_crd_has_short_name_status_and_printer_columns() -> None:
    crd = custom_resource_definition(Business)
    version = crd["spec"]["versions"][0]
    assert crd["spec"]["names"]["shortNames"] == ["biz"]
    assert version["subresources"] == {"status": {}}
    columns = [column["name"] for column in version["additionalPrinterColumns"]]
    assert {"Phase", "Ready", "Age"} <= set(columns)
    assert custom_resource_definition(LanguageModel)["spec"]["names"]["shortNames"] == ["lm"]


def test_enums_defaults_and_bounds_reach_the_schema() -> None:
    spec = _schema("Business")["properties"]["spec"]["properties"]
    assert spec["persona"]["properties"]["tone"]["enum"] == [
        "warm",
        "friendly",
        "professional",
        "concise",
    ]
    assert spec["knowledge"]["properties"]["refreshInterval"]["default"] == "24h"
    assert spec["timezone"]["default"] == "Asia/Colombo"
    assert spec["scaling"]["properties"]["maxReplicas"]["minimum"] == 1
    source = spec["knowledge"]["properties"]["sources"]["items"]
    assert source["properties"]["type"]["enum"] == ["web", "pdf", "spreadsheet", "text", "faq"]
    # maxPages only belongs to web sources, so it may not default onto a pdf.
    assert "default" not in source["properties"]["maxPages"]


def test_memory_bounds_and_the_postgres_reference_reach_the_schema() -> None:
    memory = _schema("Business")["properties"]["spec"]["properties"]["memory"]
    retention = memory["properties"]["retentionDays"]
    assert retention["type"] == "number"
    assert (retention["default"], retention["maximum"]) == (30, 3650)
    # OpenAPI v3.0, as the API server reads it: more than 0, not 0 itself.
    assert (retention["minimum"], retention["exclusiveMinimum"]) == (0, True)
    postgres = memory["properties"]["postgres"]
    assert postgres["required"] == ["secretKeyRef"]
    assert postgres["properties"]["secretKeyRef"]["required"] == ["key", "name"]
    assert "default" not in postgres  # absent means SQLite, so the API server must not add it
    assert "KATHA_AGENT_POSTGRES_URL" in postgres["properties"]["secretKeyRef"]["description"]


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_examples_pass_the_schema_and_the_models(path: Path, api_server_check: ApiCheck) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert documents
    for manifest in documents:
        assert api_server_check(_schema(manifest["kind"]), manifest) == []
        KINDS[manifest["kind"]].model_validate(manifest)


def test_api_server_defaults_match_the_model_defaults(api_server_defaults: ApiDefaults) -> None:
    minimal = yaml.safe_load((CRDS / "examples" / "01-minimal-business.yaml").read_text())
    from_schema = api_server_defaults(_schema("Business"), minimal)["spec"]
    from_model = Business.model_validate(minimal).to_yaml_dict()["spec"]
    assert from_schema == from_model


def test_exclusive_bounds_are_checked_as_the_api_server_does(
    api_server_check: Callable[[dict[str, Any], dict[str, Any]], list[str]],
) -> None:
    schema = {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 10}
    wrapper = {"type": "object", "properties": {"value": schema}}
    assert api_server_check(wrapper, {"value": 0.25}) == []
    assert api_server_check(wrapper, {"value": 10}) == []
    assert api_server_check(wrapper, {"value": 0}) != []


def _with_storage(manifest: dict[str, Any], storage: dict[str, Any]) -> dict[str, Any]:
    changed = yaml.safe_load(yaml.safe_dump(manifest))
    changed["spec"].setdefault("knowledge", {})["storage"] = storage
    return changed


@pytest.mark.parametrize(
    ("before", "after", "refused"),
    [
        ({}, {"accessMode": "ReadWriteMany"}, "accessMode is fixed"),
        (
            {"storageClassName": "standard"},
            {"storageClassName": "fast"},
            "storageClassName is fixed",
        ),
        ({}, {"storageClassName": "fast"}, "storageClassName is fixed"),
        (
            {},
            {"objectStore": {"url": "s3://katha-indexes/p", "credentialsSecretRef": {"name": "s"}}},
            "cannot move between a volume and object storage",
        ),
        ({"size": "1Gi"}, {"size": "5Gi", "retainOnDelete": True}, None),
    ],
)
def test_what_a_volume_is_made_with_cannot_change_after(
    before: dict[str, Any],
    after: dict[str, Any],
    refused: str | None,
    api_server_check: Callable[..., list[str]],
) -> None:
    """The API server refuses the update (a transition rule) instead of the operator being
    refused re-applying an immutable claim field on every reconcile."""
    example = yaml.safe_load((CRDS / "examples" / "01-minimal-business.yaml").read_text())
    old, new = _with_storage(example, before), _with_storage(example, after)
    problems = api_server_check(_schema("Business"), new, old)  # as an update of `old`
    assert api_server_check(_schema("Business"), new) == []  # fine for a new Business
    if refused is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert refused in problems[0]


@pytest.mark.parametrize("name", ["kandy.bakehouse", "Kandy", "-kandy", "kandy-"])
def test_a_business_name_must_be_a_dns_label(
    name: str, api_server_check: Callable[..., list[str]]
) -> None:
    example = yaml.safe_load((CRDS / "examples" / "01-minimal-business.yaml").read_text())
    example["metadata"]["name"] = name
    problems = api_server_check(_schema("Business"), example)
    assert [problem for problem in problems if "must be a DNS label" in problem]
