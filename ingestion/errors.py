"""Why a source could not be indexed; the message goes into the per-source report."""

from enum import StrEnum


class FailureReason(StrEnum):
    """A failure's class: few enough values to label a metric, precise enough to act on."""

    UNREACHABLE = "unreachable"  # connection refused, DNS, TLS
    TIMEOUT = "timeout"
    HTTP_STATUS = "http_status"  # 4xx / 5xx
    ROBOTS = "robots"  # robots.txt disallows it
    CONTENT_TYPE = "content_type"
    TOO_LARGE = "too_large"
    MISSING = "missing"  # a file or ConfigMap key that is not there or cannot be read
    REFUSED = "refused"  # a path outside the allowed folder
    BLOCKED_ADDRESS = "blocked_address"  # a URL reaching cloud metadata, loopback or private
    CORRUPT = "corrupt"  # not a readable PDF, workbook, FAQ list or UTF-8 text
    NO_TEXT = "no_text"  # read fine, but nothing indexable in it
    EMBEDDING = "embedding"  # the embedding model failed
    INTERNAL = "internal"  # a bug in a loader
    OTHER = "other"


class SourceError(Exception):
    """A source failed (unreachable, refused, corrupt, too large); others carry on."""

    def __init__(self, message: str, reason: FailureReason = FailureReason.OTHER) -> None:
        super().__init__(message)
        self.reason = reason


class IndexMismatchError(Exception):
    """The index on disk was written in a way this version cannot extend; rebuild it."""
