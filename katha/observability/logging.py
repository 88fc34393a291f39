"""structlog for every component: JSON in clusters, pretty on a terminal, ids bound per request."""

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

from katha.observability.records import quiet_chatty_loggers, scrub_all_records
from katha.observability.redact import redact_event, set_pseudonym_key

# The ids a log line may carry; anything that identifies a person is pseudonymised instead.
BOUND_IDS = ("tenant", "conversation_id", "message_id", "request_id")


def configure_logging(
    level: str = "INFO",
    fmt: str = "auto",
    stream: TextIO | None = None,
    pseudonym_key: bytes | None = None,
) -> None:
    """Configure structlog (and the standard library's logging) once per process.

    fmt: "json", "console", or "auto" (console when the stream is a terminal).
    pseudonym_key: shared by replicas so a customer's pseudonym is the same in each.
    """
    if pseudonym_key is not None:
        set_pseudonym_key(pseudonym_key)
    out = stream if stream is not None else sys.stderr
    pretty = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: Any = structlog.processors.JSONRenderer(sort_keys=False)
    if pretty:
        renderer = _console(colors=out.isatty())
    shared = _shared_processors()
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Libraries that use the standard library's logging go through the same redaction:
    # every record is scrubbed when it is made (whichever handler it reaches), and the one
    # root handler renders it like our own events, exception text included.
    scrub_all_records()
    quiet_chatty_loggers()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_event,
    ]


def _console(colors: bool) -> Any:
    # A plain traceback: structlog's default (rich's, where rich is installed) prints every
    # frame's local variables, and Katha's frames hold access tokens and message bodies.
    return structlog.dev.ConsoleRenderer(
        colors=colors, exception_formatter=structlog.dev.plain_traceback
    )


def _safe_defaults() -> None:
    """Before (or without) `configure_logging`, e.g. in a Ray task's worker or a test,
    Katha's events are still redacted and printed without local variables: structlog's own
    defaults would do neither."""
    if not structlog.is_configured():
        structlog.configure(
            processors=[*_shared_processors(), _console(colors=False)],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        )


_safe_defaults()


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; `name` becomes the `component` field."""
    return structlog.get_logger() if name is None else structlog.get_logger(component=name)


@contextmanager
def bind_ids(**ids: str | None) -> Iterator[None]:
    """Bind tenant / conversation / message ids to every log line inside the block."""
    unknown = set(ids) - set(BOUND_IDS)
    if unknown:
        raise ValueError(f"only {', '.join(BOUND_IDS)} may be bound, not {sorted(unknown)}")
    present = {key: value for key, value in ids.items() if value is not None}
    with structlog.contextvars.bound_contextvars(**present):
        yield
