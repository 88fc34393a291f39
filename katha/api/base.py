"""The base model for Katha's Kubernetes-facing API: camelCase in YAML, strict on input."""

from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue
from pydantic.alias_generators import to_camel

API_GROUP = "katha.dev"
API_VERSION = "v1alpha1"
GROUP_VERSION = f"{API_GROUP}/{API_VERSION}"


class ApiModel(BaseModel):
    """Fields are snake_case in Python and camelCase in YAML; unknown fields are errors.

    Refusing unknown fields catches the commonest mistake in a hand-written
    resource: a misspelt key that would otherwise be silently ignored.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        validate_default=True,
    )

    def to_yaml_dict(self) -> dict[str, Any]:
        """The model as a plain dict with camelCase keys, leaving out unset optional fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def cel_rules(*rules: tuple[str, str]) -> ConfigDict:
    """Model config that adds CEL validation rules (rule, message) to the model's CRD schema.

    Each rule mirrors a pydantic validator on the same model, so `kubectl apply` and
    `katha validate` refuse the same mistakes.
    """
    validations: list[JsonValue] = [{"rule": rule, "message": message} for rule, message in rules]
    return ConfigDict(json_schema_extra={"x-kubernetes-validations": validations})
