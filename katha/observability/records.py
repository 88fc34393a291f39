"""Every standard-library log record in the process is scrubbed the moment it is made.

Libraries log through the standard library (httpx, uvicorn, Kopf, Ray Serve, LanceDB),
and some of them attach their own handlers (Ray Serve writes replica logs to files), so
redacting in our root handler alone would miss them. A record factory sees every record
before any handler does: its message is formatted and scrubbed, and its exception text is
rendered and scrubbed (a pydantic ValidationError quotes the message body it refused).
"""

import logging
import traceback
from typing import Any

from katha.observability.redact import scrub_text

# Libraries that log every request line with its URL (a search call's query, a Graph API
# URL) at INFO or DEBUG: warnings and errors only, whatever the process's level.
CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore", "hpack", "urllib3.connectionpool")


def scrub_record(record: logging.LogRecord) -> None:
    """Replace the record's message, arguments and exception text by scrubbed text."""
    if not isinstance(record.msg, dict):  # structlog's own event dicts are redacted by it
        _scrub_message(record)
    if record.exc_info and record.exc_info[1] is not None:
        # Handlers that format exceptions themselves (logging.Formatter, Ray's) use exc_text
        # when it is set; structlog's formatter renders exc_info and scrubs it again.
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = scrub_text(text)
    elif record.exc_text:
        record.exc_text = scrub_text(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub_text(record.stack_info)


def _scrub_message(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not hide the record
        # Logging's own error report would print the raw arguments: drop them here.
        record.msg, record.args = scrub_text(f"{record.msg} (arguments not formatted)"), ()
        return
    scrubbed = scrub_text(message)
    if scrubbed == message:
        return  # nothing to hide: the record stays as the library made it
    # Formatters that unpack the arguments (uvicorn's access log) keep working when
    # scrubbing each argument gives the same line; otherwise the line replaces them.
    if isinstance(record.msg, str) and isinstance(record.args, tuple) and record.args:
        args = tuple(scrub_text(arg) if isinstance(arg, str) else arg for arg in record.args)
        try:
            if scrub_text(record.msg) == record.msg and record.msg % args == scrubbed:
                record.args = args
                return
        except (TypeError, ValueError):
            pass
    record.msg, record.args = scrubbed, ()


class _ScrubbingFactory:
    """Wraps the record factory that was in place; installed once per process."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)
        scrub_record(record)
        return record


def scrub_all_records() -> None:
    """Scrub every record any logger makes from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _ScrubbingFactory):
        logging.setLogRecordFactory(_ScrubbingFactory(factory))


def quiet_chatty_loggers() -> None:
    """Request-line loggers keep to warnings; their lines carry URLs with queries."""
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
