"""Logging and metrics set up the same way in every component."""

from katha.observability.logging import bind_ids, configure_logging, get_logger
from katha.observability.metrics import Metrics
from katha.observability.records import quiet_chatty_loggers
from katha.observability.redact import redact_event

__all__ = [
    "Metrics",
    "bind_ids",
    "configure_logging",
    "get_logger",
    "quiet_chatty_loggers",
    "redact_event",
]
