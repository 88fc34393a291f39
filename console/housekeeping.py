"""The console's cleanup: a task for the app's life that drops, every CLEANUP_SECONDS,
sessions that expired or went idle, sign-in codes past what the limits still count, audit
entries older than AUDIT_DAYS, and API tokens TOKENS_KEPT_DAYS after they ended (the token
list shows an ended token that long, so the owner learns why an integration stopped).
Run on a timer, not when someone asks for a code, so that a quiet console's tables shrink
too. Every replica runs it; the deletes are idempotent.
"""

import asyncio
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from console.auth.api_tokens import DEFAULT_DAYS
from console.services import ConsoleServices
from katha.observability import get_logger
from katha.store.console_tables import ConsoleTables

log = get_logger("console")

CLEANUP_SECONDS = 600.0
AUDIT_DAYS = 400  # a year of "who did what", and a little more to compare with last year
# Codes are kept as long as the longest limit counts them: the guess budget's 24 hours.
CODES_KEPT = timedelta(hours=24)
TOKENS_KEPT_DAYS = 30


async def forget_old(services: ConsoleServices) -> None:
    """One cleanup, as of the services' clock."""
    now = services.clock()
    idle = timedelta(minutes=services.settings.session_idle_minutes)
    kept = max(CODES_KEPT, timedelta(minutes=services.settings.code_minutes))
    await ConsoleTables.of(services.store).forget_expired(
        now,
        now - kept,
        idle_since=now - idle,
        audit_before=now - timedelta(days=AUDIT_DAYS),
        tokens_ended_before=(
            now - timedelta(days=TOKENS_KEPT_DAYS),
            now - timedelta(days=TOKENS_KEPT_DAYS + DEFAULT_DAYS),
        ),
    )


async def tidy(services: ConsoleServices) -> None:
    """One cleanup; a store that does not answer is tried again next time."""
    try:
        await forget_old(services)
    except (SQLAlchemyError, OSError) as error:
        log.warning("console.cleanup_failed", error=type(error).__name__)


async def keep_tidy(services: ConsoleServices) -> None:
    """Clean up every CLEANUP_SECONDS until cancelled (the app cleans up once as it
    starts, before this task begins)."""
    while True:
        await asyncio.sleep(CLEANUP_SECONDS)
        await tidy(services)
