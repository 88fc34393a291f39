"""Where the console reads and changes a Business: the Kubernetes API in a cluster
(`console.businesses.kubernetes`), the Business's YAML file on one machine
(`console.businesses.files`). Pages and the API use only `Businesses` and its errors.

The console changes only the fields it manages (`CONSOLE_FIELDS`), always with its own
field manager (`FIELD_MANAGER`, server-side apply without force): `kubectl get biz -o
yaml` shows the owner's change, a platform engineer's later `kubectl apply
--server-side` of another value for the same field is refused with a conflict naming
the console instead of silently undoing it, and the console's own change to a field a
platform engineer manages is refused the same way (BusinessConflictError).
"""

from collections.abc import Callable
from typing import Any, Protocol

FIELD_MANAGER = "katha-console"

# The spec paths (camelCase, as the API server has them) an owner may change in the
# console. Any other path given to `apply` is a programming error (ValueError).
CONSOLE_FIELDS: tuple[tuple[str, ...], ...] = (
    ("persona", "name"),
    ("persona", "tone"),
    ("persona", "greeting"),
    ("persona", "languages"),
    ("persona", "singlishReplies"),
    ("hours",),
    ("handoff", "enabled"),
    ("handoff", "ownerNumber"),
    ("paused",),
    ("knowledge", "faq"),
)


class BusinessNotFoundError(LookupError):
    """No such Business (or it is being deleted)."""


class BusinessInvalidError(ValueError):
    """The change would make an invalid Business; `problems` read as `katha validate`
    prints them ("spec.persona.greeting: String should have at most 500 characters")."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class BusinessConflictError(RuntimeError):
    """Another field manager (a platform engineer's `kubectl apply --server-side`, a GitOps
    controller) owns a field with another value: `fields` (dotted spec paths) and
    `managers` say which and who, for the owner to take to their platform team.
    Fields read as `katha validate` names them ("spec.persona.greeting"); managers as
    `kubectl get --show-managed-fields` does ("kubectl", "kubectl-client-side-apply")."""

    def __init__(self, fields: list[str], managers: list[str]) -> None:
        super().__init__(f"{', '.join(fields)} managed by {', '.join(managers)}")
        self.fields = fields
        self.managers = managers


class BusinessesUnavailableError(RuntimeError):
    """The Kubernetes API (or the file) could not be reached or written: try again."""


class Businesses(Protocol):
    async def get(self, tenant: str) -> dict[str, Any]:
        """The Business `tenant` ("namespace/name") as the API server returns it: camelCase,
        with `metadata` and `status`; BusinessNotFoundError when there is none."""
        ...

    async def apply(self, tenant: str, changes: dict[tuple[str, ...], Any]) -> dict[str, Any]:
        """Set each path of `changes` (paths from CONSOLE_FIELDS; the value None removes
        the field) and keep every other field the console set before; the Business after
        the change. BusinessInvalidError, BusinessConflictError, BusinessNotFoundError."""
        ...

    async def update(
        self, tenant: str, compute: Callable[[dict[str, Any]], dict[tuple[str, ...], Any]]
    ) -> dict[str, Any]:
        """`apply` of the changes `compute` works out from the Business's spec as read
        inside the same guard as the write (the file's lock; in a cluster, each try of the
        resourceVersion loop, so `compute` may run more than once): a change made from an
        older read (another owner, another replica, a double submit) can never drop one
        made meanwhile. Whatever `compute` raises comes out unchanged, nothing written."""
        ...

    async def request_refresh(self, tenant: str) -> None:
        """Ask the one index writer for a run now (in a cluster, the
        `katha.dev/refresh-requested` annotation the operator acts on)."""
        ...

    async def aclose(self) -> None: ...
