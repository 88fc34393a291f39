"""Check manifests the way the Kubernetes API server does: defaults, then schema, then CEL."""

from collections.abc import Callable, Iterator
from typing import Any

import celpy
import jsonschema
import pytest


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """Fill in `default`s for absent properties, recursively, as the API server does."""
    if isinstance(value, dict) and "properties" in schema:
        for name, child in schema["properties"].items():
            if name not in value and "default" in child:
                value[name] = _copy(child["default"])
            if name in value:
                value[name] = apply_defaults(child, value[name])
    elif isinstance(value, list) and "items" in schema:
        return [apply_defaults(schema["items"], item) for item in value]
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _nodes(
    schema: dict[str, Any], value: Any, path: str
) -> Iterator[tuple[dict[str, Any], Any, str]]:
    yield schema, value, path
    if isinstance(value, dict):
        for name, child in schema.get("properties", {}).items():
            if name in value:
                yield from _nodes(child, value[name], f"{path}.{name}" if path else name)
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from _nodes(schema["items"], item, f"{path}[{index}]")


def cel_problems(schema: dict[str, Any], value: Any, old: Any = None) -> list[str]:
    """The CEL rules' verdicts; a rule naming `oldSelf` is a transition rule, checked only
    on update (`old` given) where the old object has that node too, as the API server does."""
    environment = celpy.Environment()
    before = {path: item for _, item, path in _nodes(schema, old, "")} if old is not None else {}
    problems = []
    for node, item, path in _nodes(schema, value, ""):
        for rule in node.get("x-kubernetes-validations", []):
            variables = {"self": celpy.json_to_cel(item)}
            if "oldSelf" in rule["rule"]:
                if path not in before:
                    continue
                variables["oldSelf"] = celpy.json_to_cel(before[path])
            program = environment.program(environment.compile(rule["rule"]))
            if not bool(program.evaluate(variables)):
                problems.append(f"{path or '<root>'}: {rule['message']}")
    return problems


def draft7(schema: Any) -> Any:
    """OpenAPI v3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` (beside `minimum` and
    `maximum`) as JSON Schema draft 7's numeric ones; draft 7 would read `true` as 1."""
    if isinstance(schema, list):
        return [draft7(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: draft7(value) for key, value in schema.items()}
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = converted.get(exclusive)
        if isinstance(flag, bool):
            del converted[exclusive]
            if flag and bound in converted:
                converted[exclusive] = converted.pop(bound)
    return converted


def schema_problems(
    schema: dict[str, Any], manifest: dict[str, Any], old: dict[str, Any] | None = None
) -> list[str]:
    """Every problem the API server would report for this manifest, after defaulting; with
    `old`, as an update of that object (transition rules too)."""
    defaulted = apply_defaults(schema, _copy(manifest))
    previous = apply_defaults(schema, _copy(old)) if old is not None else None
    validator = jsonschema.Draft7Validator(draft7(schema))
    problems = [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(defaulted)
    ]
    return problems + (cel_problems(schema, defaulted, previous) if not problems else [])


@pytest.fixture(scope="session")
def api_server_check() -> Callable[[dict[str, Any], dict[str, Any]], list[str]]:
    return schema_problems


@pytest.fixture(scope="session")
def api_server_defaults() -> Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]:
    def defaulted(schema: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = apply_defaults(schema, _copy(manifest))
        return result

    return defaulted
