"""The chart installs exactly the generated CRDs from `crds/`, kept on uninstall by default."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from katha_chart import CHART, REPO_ROOT, Manifest

GENERATED = REPO_ROOT / "crds"
CHART_COPY = CHART / "files" / "crds"
KEEP = {"helm.sh/resource-policy": "keep"}


def generated_crds() -> dict[str, Path]:
    return {path.name: path for path in sorted(GENERATED.glob("*.yaml"))}


def crds_of(manifests: list[Manifest]) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == "CustomResourceDefinition"}


def without_annotations(crd: dict[str, Any]) -> dict[str, Any]:
    crd["metadata"].pop("annotations", None)
    return crd


def test_chart_copy_of_the_crds_is_byte_for_byte_the_generated_one() -> None:
    generated = generated_crds()
    assert generated, "crds/ holds no CRDs"
    copied = {path.name: path for path in sorted(CHART_COPY.glob("*.yaml"))}
    stale = sorted(
        name
        for name in generated.keys() | copied.keys()
        if name not in copied
        or name not in generated
        or copied[name].read_bytes() != generated[name].read_bytes()
    )
    assert not stale, (
        f"charts/katha/files/crds/ differs from crds/ ({', '.join(stale)}): "
        "run `rm charts/katha/files/crds/*.yaml && cp crds/*.yaml charts/katha/files/crds/`"
    )


def test_rendered_crds_equal_the_generated_ones_apart_from_the_keep_annotation(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    crds = crds_of(rendered("default"))
    expected = {
        crd["metadata"]["name"]: crd
        for crd in (yaml.safe_load(path.read_text()) for path in generated_crds().values())
    }
    assert set(crds) == set(expected) == {"businesses.katha.dev", "languagemodels.katha.dev"}
    for name, crd in crds.items():
        assert crd["metadata"]["annotations"] == KEEP, name
        assert without_annotations(crd) == expected[name], f"{name} differs from crds/"


@pytest.mark.parametrize("scenario", ["namespaced", "ha-redis", "monitoring"])
def test_every_install_carries_the_crds(
    scenario: str, rendered: Callable[[str], list[Manifest]]
) -> None:
    assert set(crds_of(rendered(scenario))) == {"businesses.katha.dev", "languagemodels.katha.dev"}


def test_crds_can_be_left_to_another_tool(
    render_with: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    assert crds_of(render_with({"crds": {"install": False}})) == {}


def test_crds_are_deleted_on_uninstall_only_when_asked(
    render_with: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    for crd in crds_of(render_with({"crds": {"keep": False}})).values():
        assert "annotations" not in crd["metadata"]
