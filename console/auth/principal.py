"""Who is asking, and what they may see: the contract every console endpoint relies on.

A principal comes from a session cookie (a person signed in with a one-time code or OpenID
Connect) or from a per-Business API token (an integration). Either way it carries the
Businesses it may see and its role in each: `owner` (everything) or `staff` (read, take
over, reply, release; no API tokens, no settings). A Business the principal lacks is
answered 404, never 403: nobody learns that another Business exists.
"""

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["owner", "staff"]
Action = Literal["read", "act", "manage"]  # manage: API tokens and settings (owners only)


@dataclass(frozen=True)
class Principal:
    subject: (
        str  # a stable id: "code:<hmac of the owner's number>", "oidc:<iss>#<sub>", "token:<id>"
    )
    display: str  # what pages show: a name, never a phone number
    tenants: dict[str, Role] = field(default_factory=dict)  # namespace/name -> role
    via: Literal["session", "token"] = "session"

    def may(self, tenant: str, action: Action = "read") -> bool:
        role = self.tenants.get(tenant)
        if role is None:
            return False
        return action != "manage" or role == "owner"
