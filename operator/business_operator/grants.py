"""Which Secrets a Business may use: only those granted to it, never another tenant's.

Several Businesses may share a namespace, and a Business chooses where its keys are sent
(e.g. `model.endpoint.baseUrl`). Naming another Business's Secret would hand that key to
a server of the namer's choosing, so a Secret must say which Businesses may use it: the
label `katha.dev/business: <name>` (one Business), or the annotation
`katha.dev/businesses: "name-a,name-b"` (a Secret shared by one owner's Businesses).

Every reference is found by walking the spec for SecretRef / SecretKeyRef values, so a
secret reference added to the API later is checked without anyone remembering to.
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from business_operator.names import BUSINESS_LABEL, BUSINESSES_ANNOTATION
from business_operator.status import Check
from katha.api import BusinessSpec
from katha.api.refs import SecretKeyRef, SecretRef


@dataclass(frozen=True)
class SecretUse:
    """A Secret a Business names, and where in the spec it names it."""

    name: str
    field: str  # e.g. spec.model.endpoint.apiKeySecretRef


def secret_uses(spec: BusinessSpec) -> list[SecretUse]:
    return list(_walk(spec, "spec"))


def _walk(value: Any, path: str) -> Any:
    if isinstance(value, SecretRef | SecretKeyRef):
        yield SecretUse(str(value.name), path)
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from _walk(getattr(value, name), f"{path}.{info.alias or name}")
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            yield from _walk(item, f"{path}[{position}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")


def granted(metadata: dict[str, Any], business: str) -> bool:
    """Whether a Secret's metadata grants it to `business` (by label or annotation)."""
    if (metadata.get("labels") or {}).get(BUSINESS_LABEL) == business:
        return True
    listed = (metadata.get("annotations") or {}).get(BUSINESSES_ANNOTATION) or ""
    return business in {name.strip() for name in listed.split(",")}


def grants_check(namespace: str, business: str, refused: list[SecretUse]) -> Check:
    """SecretsGranted: which Secrets are not granted, and the label that grants them."""
    if not refused:
        return Check(True, "SecretsGranted", "Every Secret this Business names is granted to it")
    names = ", ".join(f"{namespace}/{use.name} ({use.field})" for use in refused)
    message = (
        f"Secret {names} is not granted to Business {business}: label it "
        f"{BUSINESS_LABEL}={business}, or list {business} in its {BUSINESSES_ANNOTATION} "
        f"annotation if Businesses share it; the agent is not deployed with it until then"
    )
    return Check(False, "SecretNotGranted", message)
