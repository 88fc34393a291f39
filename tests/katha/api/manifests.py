"""A Business manifest built on crds/examples/01-minimal-business.yaml, what `katha validate`
says of it, and the CRD's schema, for the API's field tests."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from katha.api import Business, InvalidResourceError, validate_manifest
from katha.crd import custom_resource_definition

EXAMPLES = Path(__file__).parents[3] / "crds" / "examples"


def business(**spec: Any) -> dict[str, Any]:
    """The minimal Business with `spec` laid over its spec."""
    manifest: dict[str, Any] = yaml.safe_load((EXAMPLES / "01-minimal-business.yaml").read_text())
    manifest["spec"].update(spec)
    return manifest


def problems(**spec: Any) -> list[str]:
    """What validation refuses in the minimal Business with `spec` laid over it."""
    with pytest.raises(InvalidResourceError) as refused:
        validate_manifest(business(**spec))
    return [str(problem) for problem in refused.value.problems]


def business_schema() -> dict[str, Any]:
    crd = custom_resource_definition(Business)
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema
