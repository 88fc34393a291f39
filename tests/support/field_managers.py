"""Field ownership and server-side apply as the API server keeps them, for the emulator.

Every write names a field manager (`?fieldManager=`, else the client's User-Agent up to its
first "/", as the API server does): a create or an update (merge patch) makes that manager,
with operation Update, the owner of the fields it changed and takes them from everyone
else; a server-side apply (`application/apply-patch+yaml`) makes the applier, with
operation Apply, the owner of exactly the fields it sent. An apply that would change a
field another manager owns is refused with the API server's 409 Conflict Status unless
`force=true`, and the fields an applier owned before and now leaves out are removed
unless another manager owns them too. Ownership lives in `metadata.managedFields` in the
FieldsV1 format (`f:` keys), so `kubectl get --show-managed-fields` shows it.

Simplifications, none of which Katha's resources meet: every list is atomic (one field,
as lists without `x-kubernetes-list-type` are in a CRD), a map's own `.` entry is not
written, and apply requests to subresources are not served.
"""

import copy
import json
from dataclasses import dataclass, field
from typing import Any

FieldPath = tuple[str, ...]
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
# Identity and bookkeeping the API server never counts as anyone's field.
UNTRACKED: frozenset[FieldPath] = frozenset(
    [("apiVersion",), ("kind",)]
    + [
        ("metadata", key)
        for key in (
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
            "selfLink",
        )
    ]
)


@dataclass
class Manager:
    """One entry of `metadata.managedFields`: who, how, and the fields (leaf paths) it owns."""

    name: str
    operation: str  # "Apply" or "Update"
    api_version: str
    time: str
    subresource: str | None = None
    paths: set[FieldPath] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.name, self.operation, self.subresource)

    def owns(self, path: FieldPath) -> bool:
        return any(_overlap(path, owned) for owned in self.paths)

    def described(self) -> str:
        """The manager as the API server's conflict message names it."""
        text = json.dumps(self.name)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version} at {self.time}"
        return text


class ApplyConflictError(Exception):
    """An apply would change fields other managers own; `status()` is the 409 body."""

    def __init__(self, conflicts: list[tuple[Manager, FieldPath]]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts

    def status(self) -> dict[str, Any]:
        causes = [
            {
                "type": "FieldManagerConflict",
                "message": f"conflict with {manager.described()}",
                "field": _dotted(path),
            }
            for manager, path in self.conflicts
        ]
        if len(causes) == 1:
            message = f"Apply failed with 1 conflict: {causes[0]['message']}: {causes[0]['field']}"
        else:
            lines = [f"{cause['message']}: {cause['field']}" for cause in causes]
            message = f"Apply failed with {len(causes)} conflicts: " + "\n".join(lines)
        return {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "Conflict",
            "details": {"causes": causes},
            "code": 409,
        }


class StaleError(Exception):
    """A write that names a resourceVersion the object has moved on from."""

    def status(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "message": f'Operation cannot be fulfilled on "{self}": the object has been '
            "modified; please apply your changes to the latest version and try again",
            "reason": "Conflict",
            "details": {"name": str(self)},
            "code": 409,
        }


def invalid_status(message: str) -> dict[str, Any]:
    """The API server's 422 Status for a request it cannot serve as sent."""
    return {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Invalid",
        "code": 422,
    }


def manager_of(params: dict[str, str], headers: dict[str, str]) -> str:
    """The field manager of a write: the one it names, else its User-Agent's first part."""
    named = params.get("fieldManager")
    if named:
        return named
    agent = next((value for key, value in headers.items() if key.lower() == "user-agent"), "")
    return agent.split("/")[0][:128] or "unknown"


def apply(
    current: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str,
    api_version: str,
    now: str,
    force: bool = False,
) -> dict[str, Any]:
    """The object after `manager` applies `applied` to `current` (None: not there yet)."""
    result = copy.deepcopy(current) if current else _identity(applied)
    managers = managers_of(result)
    mine = next((m for m in managers if m.key == (manager, "Apply", None)), None)
    others = [m for m in managers if m is not mine]
    sent = leaves(applied)
    conflicts = [
        (other, path)
        for path, value in sent.items()
        if _changes(result, path, value)
        for other in others
        if other.owns(path)
    ]
    if conflicts and not force:
        raise ApplyConflictError(conflicts)
    for other, path in conflicts:  # forced: the applier takes them
        other.paths = {owned for owned in other.paths if not _overlap(owned, path)}
    for path, value in sent.items():
        if _changes(result, path, value):
            _set_at(result, path, copy.deepcopy(value))
    for dropped in (mine.paths if mine else set()) - set(sent):
        kept = any(_overlap(dropped, path) for path in sent)
        if not kept and not any(other.owns(dropped) for other in others):
            _delete_at(result, dropped)
    ours = Manager(manager, "Apply", api_version, now, None, set(sent))
    _write(result, [m for m in others if m.paths] + [ours])
    return result


def _identity(applied: dict[str, Any]) -> dict[str, Any]:
    """What an apply that creates an object starts from: its kind and name."""
    metadata = applied.get("metadata") or {}
    named = {key: metadata[key] for key in ("name", "namespace") if metadata.get(key)}
    return {"apiVersion": applied.get("apiVersion"), "kind": applied.get("kind"), "metadata": named}


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    api_version: str,
    now: str,
    subresource: str | None = None,
) -> list[dict[str, Any]]:
    """`metadata.managedFields` after `manager` changed `old` into `new` by a create or
    update: it owns what it changed, nobody else does, and removed fields are nobody's."""
    before, after = leaves(old or {}), leaves(new)
    changed = {
        path
        for path, value in after.items()
        if before.get(path, _ABSENT) != value
        # A map emptied by this write was there before: emptying it claims nothing.
        and not (value == {} and any(old_path[: len(path)] == path for old_path in before))
    }
    touched = changed | (set(before) - set(after))
    managers = managers_of(old or {})
    for other in managers:
        other.paths = {
            owned for owned in other.paths if not any(_overlap(owned, t) for t in touched)
        }
    mine = next((m for m in managers if m.key == (manager, "Update", subresource)), None)
    if mine is None and changed:
        mine = Manager(manager, "Update", api_version, now, subresource)
        managers.append(mine)
    if mine is not None and changed:
        mine.paths |= changed
        mine.time, mine.api_version = now, api_version
    return [_entry(m) for m in managers if m.paths]


def merge_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The JSON merge patch that turns `old` into `new` (None removes a key)."""
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key, _ABSENT)
        if isinstance(before, dict) and isinstance(value, dict):
            inner = merge_patch(before, value)
            if inner:
                patch[key] = inner
        elif before != value:
            patch[key] = value
    return patch


def leaves(obj: dict[str, Any], prefix: FieldPath = ()) -> dict[FieldPath, Any]:
    """Every field an object sets, as leaf path → value (lists and empty maps are leaves)."""
    found: dict[FieldPath, Any] = {}
    for key, value in obj.items():
        path = (*prefix, key)
        if path in UNTRACKED:
            continue
        if isinstance(value, dict) and value:
            found.update(leaves(value, path))
        else:
            found[path] = value
    return found


def managers_of(obj: dict[str, Any]) -> list[Manager]:
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    return [
        Manager(
            name=entry.get("manager", ""),
            operation=entry.get("operation", "Update"),
            api_version=entry.get("apiVersion", ""),
            time=entry.get("time", ""),
            subresource=entry.get("subresource") or None,
            paths=_paths(entry.get("fieldsV1") or {}),
        )
        for entry in entries
    ]


def _paths(fields: dict[str, Any], prefix: FieldPath = ()) -> set[FieldPath]:
    """FieldsV1 as leaf paths: `f:name` keys nest; a node with none is owned whole."""
    named = {key: value for key, value in fields.items() if key.startswith("f:")}
    if not named:
        return {prefix} if prefix else set()
    paths: set[FieldPath] = set()
    for key, value in named.items():
        paths |= _paths(value or {}, (*prefix, key[2:]))
    return paths


def _fields(paths: set[FieldPath]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return tree


def _entry(manager: Manager) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "manager": manager.name,
        "operation": manager.operation,
        "apiVersion": manager.api_version,
        "time": manager.time,
        "fieldsType": "FieldsV1",
        "fieldsV1": _fields(manager.paths),
    }
    if manager.subresource:
        entry["subresource"] = manager.subresource
    return entry


def _write(obj: dict[str, Any], managers: list[Manager]) -> None:
    obj.setdefault("metadata", {})["managedFields"] = [_entry(m) for m in managers]


_ABSENT = object()


def _overlap(one: FieldPath, other: FieldPath) -> bool:
    shorter = min(len(one), len(other))
    return one[:shorter] == other[:shorter]


def _dotted(path: FieldPath) -> str:
    return "".join(f".{part}" for part in path)


def _changes(obj: dict[str, Any], path: FieldPath, value: Any) -> bool:
    """Whether applying `value` at `path` changes `obj` (an empty map merges into the map
    there, as any map does; it does not empty it)."""
    found, current = _value_at(obj, path)
    if value == {} and isinstance(current, dict):
        return False
    return not found or current != value


def _value_at(obj: Any, path: FieldPath) -> tuple[bool, Any]:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def _set_at(obj: dict[str, Any], path: FieldPath, value: Any) -> None:
    for part in path[:-1]:
        if not isinstance(obj.get(part), dict):
            obj[part] = {}
        obj = obj[part]
    obj[path[-1]] = value


def _delete_at(obj: dict[str, Any], path: FieldPath) -> None:
    """Remove a field, then the maps it leaves empty (never a top-level key like `spec`)."""
    parents = []
    node: Any = obj
    for part in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            return
        parents.append((node, part))
        node = node[part]
    node.pop(path[-1], None)
    for parent, part in reversed(parents[1:]):
        if parent[part]:
            break
        del parent[part]
