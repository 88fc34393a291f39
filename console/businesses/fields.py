"""What both kinds of `Businesses` share: which Business a tenant names, the console's
paths in a Business, and validation that reads as `katha validate` prints it."""

import copy
import re
from collections.abc import Callable
from typing import Any

from console.businesses import CONSOLE_FIELDS, BusinessInvalidError, BusinessNotFoundError
from katha.api import InvalidResourceError, validate_manifest

FieldPath = tuple[str, ...]
# What `Businesses.update` runs on the freshly read spec: the changes to make.
Compute = Callable[[dict[str, Any]], dict[FieldPath, Any]]
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def split_tenant(tenant: str) -> tuple[str, str]:
    """The two parts of "namespace/name"; anything else names no Business."""
    namespace, _, name = tenant.partition("/")
    if not _NAME.match(namespace) or not _NAME.match(name):
        raise BusinessNotFoundError(tenant)
    return namespace, name


def check_paths(changes: dict[FieldPath, Any]) -> None:
    """Only the console's own fields: anything else is a programming error, not the owner's."""
    unknown = [dotted(path) for path in changes if path not in CONSOLE_FIELDS]
    if unknown:
        raise ValueError(f"the console does not manage {', '.join(unknown)}")


def dotted(path: FieldPath) -> str:
    """A spec path as `katha validate` names it: spec.persona.greeting."""
    return ".".join(("spec", *path))


def value_at(obj: Any, path: FieldPath) -> tuple[bool, Any]:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def set_at(obj: dict[str, Any], path: FieldPath, value: Any) -> None:
    """Set the field at `path`, making the maps on the way as needed; None removes it and
    the maps that leaves empty (an empty `persona: {}` would still claim `persona`)."""
    parents: list[tuple[dict[str, Any], str]] = []
    for part in path[:-1]:
        if not isinstance(obj.get(part), dict):
            if value is None:
                return  # nothing there to remove
            obj[part] = {}
        parents.append((obj, part))
        obj = obj[part]
    if value is not None:
        obj[path[-1]] = copy.deepcopy(value)
        return
    obj.pop(path[-1], None)
    for parent, part in reversed(parents):
        if parent[part]:
            break
        del parent[part]


def with_changes(spec: dict[str, Any], changes: dict[FieldPath, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(spec)
    for path, value in changes.items():
        set_at(changed, path, value)
    return changed


def check_valid(business: dict[str, Any]) -> None:
    """BusinessInvalidError with the problems `katha validate` would print for `business`
    (its status left out: the console never writes one)."""
    manifest = {
        key: business[key] for key in ("apiVersion", "kind", "metadata", "spec") if key in business
    }
    try:
        validate_manifest(manifest, "Business")
    except InvalidResourceError as error:
        raise BusinessInvalidError([str(problem) for problem in error.problems]) from error
