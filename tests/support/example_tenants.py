"""A Business from crds/examples as the operator renders it: a Tenant with fixed identity."""

from pathlib import Path
from typing import Any

import yaml

from business_operator.render import Platform, Tenant
from katha.api import Business

EXAMPLES = Path(__file__).resolve().parents[2] / "crds" / "examples"


def example_tenant(
    example: str, workload: str, platform: Platform | None = None, **changes: Any
) -> Tenant:
    """The example's Business (spec fields in `changes` replaced) for `workload`."""
    business = Business.model_validate(yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text()))
    spec = business.spec.model_copy(update=changes) if changes else business.spec
    return Tenant(
        name=business.metadata.name,
        namespace=str(business.metadata.namespace),
        uid="00000000-0000-0000-0000-000000000001",
        spec=spec,
        workload=workload,  # type: ignore[arg-type]
        platform=platform or Platform(),
    )
