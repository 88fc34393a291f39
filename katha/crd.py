"""CustomResourceDefinitions generated from the API models, so the models stay the one truth.

pydantic's JSON schema is turned into a Kubernetes *structural* schema: references
inlined, optional unions flattened, discriminated unions merged into one object whose
per-type rules become CEL, and nested objects defaulted to {} so that their own
defaults apply on the API server.
"""

from typing import Any

import yaml
from pydantic import BaseModel

from katha.api import API_GROUP, API_VERSION, Business, LanguageModel

_KEEP = (
    "type",
    "format",
    "description",
    "default",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "x-kubernetes-validations",
)


class _Converter:
    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Inline a $ref, keeping the referring node's own description and default."""
        if "$ref" not in node:
            return node
        target = dict(self.definitions[node["$ref"].rsplit("/", 1)[-1]])
        target.update({key: value for key, value in node.items() if key != "$ref"})
        return target

    def convert(self, node: dict[str, Any]) -> dict[str, Any]:
        node = self.resolve(node)
        if "anyOf" in node:
            return self._any_of(node)
        if "oneOf" in node and "discriminator" in node:
            return self._tagged_union(node)
        out: dict[str, Any] = {key: node[key] for key in _KEEP if key in node}
        if "const" in node:
            out["enum"] = [node["const"]]
            out.setdefault("type", _json_type(node["const"]))
        if "exclusiveMinimum" in node:
            out["minimum"], out["exclusiveMinimum"] = node["exclusiveMinimum"], True
        if node.get("type") == "object" or "properties" in node:
            out["type"] = "object"
            self._object(node, out)
        elif node.get("type") == "array":
            out["items"] = self.convert(node["items"])
        return out

    def _object(self, node: dict[str, Any], out: dict[str, Any]) -> None:
        properties = node.get("properties")
        if properties:
            required = set(node.get("required", []))
            out["properties"] = {
                name: self._property(schema, name in required)
                for name, schema in properties.items()
            }
            if required:
                out["required"] = sorted(required)
            return
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra and "anyOf" not in extra:
            out["additionalProperties"] = self.convert(extra)
        else:  # free-form values (e.g. engine arguments of mixed types)
            out["x-kubernetes-preserve-unknown-fields"] = True

    def _property(self, schema: dict[str, Any], required: bool) -> dict[str, Any]:
        nullable = any(option.get("type") == "null" for option in schema.get("anyOf", []))
        converted = self.convert(schema)
        if required or nullable or "default" in converted:
            return converted
        # An absent nested object still gets its own defaults from the API server, and an
        # absent list reads back as empty, as it does from the model.
        if converted.get("type") == "object" and "properties" in converted:
            converted["default"] = {}
        elif converted.get("type") == "array":
            converted["default"] = []
        return converted

    def _any_of(self, node: dict[str, Any]) -> dict[str, Any]:
        options = [option for option in node["anyOf"] if option.get("type") != "null"]
        if len(options) != 1:
            raise ValueError(f"cannot express a union of {len(options)} types in a CRD: {node}")
        merged = dict(self.resolve(options[0]))
        merged.update({k: v for k, v in node.items() if k != "anyOf" and v is not None})
        return self.convert(merged)

    def _tagged_union(self, node: dict[str, Any]) -> dict[str, Any]:
        tag = node["discriminator"]["propertyName"]
        variants = [self.convert(option) for option in node["oneOf"]]
        tags = [variant["properties"][tag]["enum"][0] for variant in variants]
        all_fields = {name for variant in variants for name in variant["properties"]}
        properties: dict[str, Any] = {}
        rules: list[dict[str, str]] = []
        for value, variant in zip(tags, variants, strict=True):
            for name, field in variant["properties"].items():
                shared = all(name in other["properties"] for other in variants)
                merged = dict(field)
                if not shared:
                    merged.pop("default", None)  # a default would leak into the other types
                properties.setdefault(name, merged)
            foreign = sorted(all_fields - set(variant["properties"]))
            guard = f"self.{tag} != '{value}'"
            if foreign:
                present = " || ".join(f"has(self.{name})" for name in foreign)
                rules.append(
                    {
                        "rule": f"{guard} || !({present})",
                        "message": f"a {value} source takes none of: {', '.join(foreign)}",
                    }
                )
            for required in variant.get("required", []):
                if required != tag:
                    rules.append(
                        {
                            "rule": f"{guard} || has(self.{required})",
                            "message": f"a {value} source needs {required}",
                        }
                    )
            for rule in variant.get("x-kubernetes-validations", []):
                rules.append({"rule": f"{guard} || ({rule['rule']})", "message": rule["message"]})
        properties[tag] = {"type": "string", "enum": tags}
        return {
            "type": "object",
            "required": [tag],
            "properties": properties,
            "x-kubernetes-validations": rules,
        }


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "string" if isinstance(value, str) else "object"


def openapi_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural openAPIV3Schema of a resource: apiVersion, kind, metadata, spec, status."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    converter = _Converter(raw.get("$defs", {}))
    schema = converter.convert(raw)
    properties = schema["properties"]
    properties["apiVersion"] = {"type": "string"}
    properties["kind"] = {"type": "string"}
    properties["metadata"] = {"type": "object"}
    properties["status"].pop("default", None)
    schema["required"] = ["spec"]
    schema["x-kubernetes-validations"] = [
        {
            "rule": "size(self.metadata.name) <= 63",
            "message": "metadata.name must be at most 63 characters",
        },
        {
            # A DNS label (no dots): it names Services, and the index store relies on it
            # (NAME.documents beside NAME can never be another resource's index).
            "rule": "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
            "message": "metadata.name must be a DNS label: lower-case letters, digits and "
            "'-', starting and ending with a letter or digit (no dots)",
        },
    ]
    schema.pop("description", None)
    return schema


_PRINTER_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Business": [
        {"name": "Display name", "type": "string", "jsonPath": ".spec.displayName"},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {
            "name": "Ready",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        },
        {
            "name": "Chunks",
            "type": "integer",
            "jsonPath": ".status.knowledge.chunks",
            "priority": 1,
        },
        {"name": "Suspended", "type": "boolean", "jsonPath": ".spec.suspend", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
    "LanguageModel": [
        {"name": "Model", "type": "string", "jsonPath": ".spec.model"},
        {"name": "GPUs", "type": "integer", "jsonPath": ".spec.gpu.count"},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {
            "name": "Ready",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        },
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
}

_NAMES = {
    "Business": {"plural": "businesses", "singular": "business", "shortNames": ["biz"]},
    "LanguageModel": {
        "plural": "languagemodels",
        "singular": "languagemodel",
        "shortNames": ["lm"],
    },
}


def custom_resource_definition(model: type[Business] | type[LanguageModel]) -> dict[str, Any]:
    """The apiextensions.k8s.io/v1 CustomResourceDefinition for one of Katha's kinds."""
    kind = model.model_fields["kind"].default
    names = {"kind": kind, "listKind": f"{kind}List", **_NAMES[kind], "categories": ["katha"]}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{names['plural']}.{API_GROUP}",
            "labels": {"app.kubernetes.io/part-of": "katha"},
        },
        "spec": {
            "group": API_GROUP,
            "scope": "Namespaced",
            "names": names,
            "versions": [
                {
                    "name": API_VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": _PRINTER_COLUMNS[kind],
                    "schema": {"openAPIV3Schema": openapi_schema(model)},
                }
            ],
        },
    }


def all_crds() -> dict[str, dict[str, Any]]:
    """Every CRD Katha defines, keyed by the file name it is kept under in crds/."""
    return {
        f"{crd['metadata']['name']}.yaml": crd
        for crd in (custom_resource_definition(Business), custom_resource_definition(LanguageModel))
    }


def render_yaml(crd: dict[str, Any]) -> str:
    header = "# Generated by `katha crd --write crds/` from katha.api; do not edit by hand.\n"
    return header + yaml.safe_dump(crd, sort_keys=False, allow_unicode=True, width=100)
