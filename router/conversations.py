"""Per-conversation rules that need no I/O: the reply window, handoff, and the owner's commands."""

import re
import time

from router.inbox.base import ConversationState

_RELEASE = re.compile(r"^\s*/?release\s+([0-9a-f]{6,12})\s*$", re.IGNORECASE)


def release_ref(text: str | None) -> str | None:
    """The conversation reference in an owner's "release <ref>" command, if it is one."""
    match = _RELEASE.match(text or "")
    return match.group(1).lower() if match else None


def handoff_ref(conversation_id: str) -> str:
    return conversation_id.removeprefix("c-")[:8]


def with_human(state: ConversationState, now: float | None = None) -> bool:
    moment = time.time() if now is None else now
    return state.handoff_until is not None and state.handoff_until > moment


def window_open(state: ConversationState, window_seconds: float, now: float | None = None) -> bool:
    moment = time.time() if now is None else now
    return state.last_inbound_at is not None and moment - state.last_inbound_at < window_seconds


def is_owner(owner_number: str | None, wa_id: str | None) -> bool:
    return bool(owner_number and wa_id and owner_number.lstrip("+") == wa_id.lstrip("+"))
