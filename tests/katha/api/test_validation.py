"""Bad resources are refused with the field path and a message that says what to do."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from katha.api import Business, InvalidResourceError, LanguageModel, load_resources
from katha.crd import custom_resource_definition

INVALID = sorted((Path(__file__).parent / "invalid").glob("*.yaml"))
KINDS = {"Business": Business, "LanguageModel": LanguageModel}


def _expectations(path: Path) -> tuple[list[tuple[str, str]], bool]:
    text = path.read_text()
    expected = [
        (field.strip(), message.strip())
        for field, message in re.findall(r"^# expect: ([^|]+)\|(.+)$", text, re.MULTILINE)
    ]
    verdict = re.search(r"^# schema: (rejects|accepts)", text, re.MULTILINE)
    assert expected, f"{path.name} must say which problems it expects"
    assert verdict, f"{path.name} must say whether the CRD schema rejects it"
    return expected, verdict.group(1) == "rejects"


@pytest.mark.parametrize("path", INVALID, ids=[path.name for path in INVALID])
def test_bad_example_is_refused_with_field_and_message(path: Path) -> None:
    expected, _ = _expectations(path)
    with pytest.raises(InvalidResourceError) as caught:
        load_resources(path)
    reported = [(problem.path, problem.message) for problem in caught.value.problems]
    for field, fragment in expected:
        assert any(p == field and fragment in m for p, m in reported), (
            f"expected {field}: …{fragment}…, got {reported}"
        )


@pytest.mark.parametrize("path", INVALID, ids=[path.name for path in INVALID])
def test_the_api_server_refuses_what_the_crd_can_express(
    path: Path, api_server_check: Callable[[dict[str, Any], dict[str, Any]], list[str]]
) -> None:
    _, schema_rejects = _expectations(path)
    manifest = yaml.safe_load(path.read_text())
    kind = KINDS.get(manifest["kind"])
    assert kind is not None
    crd = custom_resource_definition(kind)
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    problems = api_server_check(schema, manifest)
    assert bool(problems) is schema_rejects, problems


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        """
apiVersion: katha.dev/v1alpha1
kind: Business
metadata: {name: many}
spec:
  displayName: ""
  whatsapp: {phoneNumberId: "12", credentialsSecretRef: {name: s}}
  scaling: {minReplicas: -1, maxReplicas: 0}
"""
    )
    with pytest.raises(InvalidResourceError) as caught:
        load_resources(path)
    paths = {problem.path for problem in caught.value.problems}
    assert {
        "spec.displayName",
        "spec.whatsapp.phoneNumberId",
        "spec.scaling.minReplicas",
        "spec.scaling.maxReplicas",
    } <= paths


def test_a_multi_document_file_names_the_bad_document(tmp_path: Path) -> None:
    good = (Path(__file__).parents[3] / "crds/examples/01-minimal-business.yaml").read_text()
    path = tmp_path / "two.yaml"
    path.write_text(good + "\n---\n" + good.replace('"105954558954427"', '"call-me"'))
    with pytest.raises(InvalidResourceError) as caught:
        load_resources(path)
    assert str(caught.value).startswith(f"{path}#2 (Business/kandy-bakehouse)")


def test_not_yaml_and_not_a_mapping_are_explained(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec: [unclosed\n")
    with pytest.raises(InvalidResourceError, match="is not valid YAML"):
        load_resources(broken)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(InvalidResourceError, match="must be a YAML mapping"):
        load_resources(scalar)


def test_unknown_kind_is_named(tmp_path: Path) -> None:
    path = tmp_path / "kind.yaml"
    path.write_text("apiVersion: katha.dev/v1alpha1\nkind: Shop\nmetadata: {name: x}\n")
    with pytest.raises(InvalidResourceError, match="kind: must be one of Business, LanguageModel"):
        load_resources(path)
