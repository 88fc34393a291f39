"""What the router accepts of each kind of customer media: the MIME types (WhatsApp's own
lists, as Meta documents them), the size limits, and the SHA-256 check. Pure rules."""

import base64
import binascii
import hashlib

from katha.contracts.messages import MessageType
from router.settings import RouterSettings

# The kinds whose bytes the router fetches; a location or a contact card has none.
MEDIA_KINDS = frozenset(
    {
        MessageType.AUDIO,
        MessageType.IMAGE,
        MessageType.VIDEO,
        MessageType.DOCUMENT,
        MessageType.STICKER,
    }
)
# What a GPU model reads (speech recognition, vision): these count against the daily cap.
COSTLY_KINDS = frozenset({MessageType.AUDIO, MessageType.IMAGE})

_OFFICE = "application/vnd.openxmlformats-officedocument"
ALLOWED: dict[MessageType, frozenset[str]] = {
    MessageType.AUDIO: frozenset(
        {"audio/ogg", "audio/opus", "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4"}
    ),
    MessageType.IMAGE: frozenset({"image/jpeg", "image/png"}),
    MessageType.VIDEO: frozenset({"video/mp4", "video/3gpp"}),
    MessageType.STICKER: frozenset({"image/webp"}),
    MessageType.DOCUMENT: frozenset(
        {
            "application/pdf",
            "text/plain",
            "text/csv",
            "application/msword",
            f"{_OFFICE}.wordprocessingml.document",
            "application/vnd.ms-excel",
            f"{_OFFICE}.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            f"{_OFFICE}.presentationml.presentation",
        }
    ),
}


def essence(mime_type: str | None) -> str:
    """ "audio/ogg; codecs=opus" -> "audio/ogg": the type without its parameters."""
    return (mime_type or "").split(";", 1)[0].strip().lower()


def allowed(kind: MessageType, mime_type: str | None) -> bool:
    return essence(mime_type) in ALLOWED.get(kind, frozenset())


def limit_bytes(settings: RouterSettings, kind: MessageType) -> int:
    limits = {
        MessageType.AUDIO: settings.media_audio_max_bytes,
        MessageType.IMAGE: settings.media_image_max_bytes,
        MessageType.VIDEO: settings.media_video_max_bytes,
        MessageType.DOCUMENT: settings.media_document_max_bytes,
        MessageType.STICKER: settings.media_sticker_max_bytes,
    }
    return limits.get(kind, 0)


def sha256_matches(declared: str | None, content: bytes) -> bool:
    """Whether `content` has the SHA-256 Meta declared. Meta has written it in hex and in
    base64 (padded or not) in different places; each spelling is compared whole. No
    declared hash: nothing to check."""
    if not declared:
        return True
    digest = hashlib.sha256(content).digest()
    if declared.lower() == digest.hex():
        return True
    padded = declared + "=" * (-len(declared) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            if decode(padded) == digest:
                return True
        except (binascii.Error, ValueError):
            continue
    return False
