"""The customer's language, for the few things the router says itself.

The agent detects the language of every message it answers; the router needs one for what it
sends without asking the agent (a type the route does not accept, a flood warning), and this
is its only detection: the conversation's language it keeps is also the agent's hint.
"""

import time

from katha.lang import detect_language
from katha.observability import get_logger

log = get_logger("router")


class LanguageGuess:
    """The message's language for the router's own words. A detector that fails must never
    cost a customer their answer: the conversation keeps its language, and after a failure
    detection rests for a minute instead of failing (expensively) on every message."""

    def __init__(self, rest_seconds: float = 60.0) -> None:
        self._rest = rest_seconds
        self._resting_until = 0.0

    def __call__(self, text: str, previous: str | None) -> str | None:
        if time.monotonic() < self._resting_until:
            return previous
        try:
            return detect_language(text, previous=previous).language.value
        except Exception:
            self._resting_until = time.monotonic() + self._rest
            log.exception("language.detect_failed", resting_seconds=self._rest)
            return previous
