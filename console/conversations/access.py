"""What every conversations endpoint needs first: the services, and the Business named by
the path, checked against the principal (404 when they lack it: nobody learns that another
Business exists)."""

from typing import Annotated

from fastapi import Depends, Path, Request

from console.auth.deps import require, services_of
from console.auth.principal import Action, Principal
from console.conversations.actions import RecentReplies
from console.services import ConsoleServices

# A Kubernetes namespace and a Business (resource) name; a conversation id as the router
# makes it. Anything else is not a Business, so it is refused before any lookup.
NAMESPACE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
CONVERSATION = r"^[A-Za-z0-9._:=+-]+$"

Namespace = Annotated[str, Path(max_length=63, pattern=NAMESPACE)]
Name = Annotated[str, Path(max_length=253, pattern=NAME)]
ConversationId = Annotated[str, Path(max_length=128, pattern=CONVERSATION)]


ServicesDep = Annotated[ConsoleServices, Depends(services_of)]


def recent_replies(request: Request) -> RecentReplies:
    """The app's memory of replies sent with a reply_id (made on first use)."""
    state = request.app.state
    if not hasattr(state, "recent_replies"):
        state.recent_replies = RecentReplies()
    replies: RecentReplies = state.recent_replies
    return replies


RepliesDep = Annotated[RecentReplies, Depends(recent_replies)]


def tenant_for(principal: Principal, namespace: str, name: str, action: Action = "read") -> str:
    """`namespace/name`, once the principal may do `action` there (else 404)."""
    tenant = f"{namespace}/{name}"
    require(principal, tenant, action)
    return tenant
