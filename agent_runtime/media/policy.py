"""What the agent does with a customer's media, decided without I/O.

A voice note is transcribed, a photo described and a document read when the agent has the
model (or the loader) for it and the router handed over the bytes; then the customer's
words are answered as text. Otherwise a caption is still answered as before, and media
without one goes to a person with a polite reply, so nobody waits on a machine that cannot
listen. Stickers and videos are not read: one with a caption has its caption answered, one
without is asked to type.
"""

from dataclasses import dataclass
from enum import StrEnum

from agent_runtime.media.document import document_suffix
from katha.contracts.messages import InboundMessage, Media, MessageType


class MediaKind(StrEnum):
    """The media the agent reads; each value is also the handoff reason when it cannot."""

    VOICE_NOTE = "voice_note"
    PHOTO = "photo"
    DOCUMENT = "document"


class Action(StrEnum):
    READ = "read"  # transcribe, describe or read it, then answer as text
    CAPTION = "caption"  # answer the caption alone
    HAND_OVER = "hand_over"  # a polite reply, and a person is asked to look
    ASK_TO_TYPE = "ask_to_type"  # media the agent never reads, without words


_KINDS = {
    MessageType.AUDIO: MediaKind.VOICE_NOTE,
    MessageType.IMAGE: MediaKind.PHOTO,
    MessageType.DOCUMENT: MediaKind.DOCUMENT,
}


@dataclass(frozen=True)
class Plan:
    action: Action
    kind: MediaKind | None = None
    # Why the media is not read: the router's `unavailable`, "no_model", "no_content",
    # "too_large", "not_readable" (a document type no loader reads) or "no_question" (a
    # document without a caption); None when it is read.
    reason: str | None = None


def media_kind(message: InboundMessage) -> MediaKind | None:
    return _KINDS.get(message.type) if message.media is not None else None


def plan_for(
    message: InboundMessage,
    caption: str | None,
    *,
    voice: bool,
    vision: bool,
    max_bytes: int,
) -> Plan:
    """What to do with `message`'s media, given the models this agent has."""
    kind = media_kind(message)
    if kind is None or message.media is None:
        return Plan(Action.CAPTION if caption else Action.ASK_TO_TYPE)
    reason = _unread_reason(message.media, kind, caption, voice=voice, vision=vision)
    if reason is None and len(message.media.content or b"") > max_bytes:
        reason = "too_large"
    return plan_after(kind, reason, caption)


def plan_after(kind: MediaKind, reason: str | None, caption: str | None) -> Plan:
    """Read when nothing stands in the way; else the caption, else a person."""
    if reason is None:
        return Plan(Action.READ, kind)
    return Plan(Action.CAPTION if caption else Action.HAND_OVER, kind, reason)


def _unread_reason(
    media: Media, kind: MediaKind, caption: str | None, *, voice: bool, vision: bool
) -> str | None:
    if media.unavailable is not None:  # the router tried and says why not
        return media.unavailable
    if kind is MediaKind.VOICE_NOTE and not voice:
        return "no_model"
    if kind is MediaKind.PHOTO and not vision:
        return "no_model"
    if kind is MediaKind.DOCUMENT and document_suffix(media) is None:
        return "not_readable"
    if kind is MediaKind.DOCUMENT and not caption:
        return "no_question"  # a person reads it: a document alone asks nothing
    if media.content is None:
        return "no_content"
    return None
