"""Reading a signed webhook body as JSON, and judging whether a decoded value may travel on.

Python's json module reads more than the inbox can keep: `1e400` and the `NaN`/`Infinity`
literals become non-finite floats (pydantic would store them as null), `\\ud800` becomes a
lone surrogate (no UTF-8 encoder takes it), and nesting up to the recursion limit is read
but breaks whatever recurses over it next. `read_body` and `json_problem` draw that line
once, without recursion, so the parser and intake never meet such values unannounced.
"""

import json
import math
import sys
from typing import Any

# Meta's message objects nest about five deep; anything far deeper is not a message.
MAX_DEPTH = 32
# Integers past Python's digit limit cannot be read at all; reading them as non-finite
# lets the message that holds one be refused instead of the whole batch.
_MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300


class UnreadableBodyError(ValueError):
    """A signed webhook body that is not JSON this router can read."""


def _int(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else math.inf


# Built once: json.loads with any option builds a new decoder per call (the hot path).
_DECODER = json.JSONDecoder(parse_int=_int)


def read_body(body: bytes) -> Any:
    """The decoded JSON of `body`; UnreadableBodyError when it is not JSON (or is nested so
    deep that the decoder itself gives up)."""
    try:
        # As json.loads reads bytes: UTF-8/16/32 by their first bytes, surrogates passed on.
        return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except RecursionError:
        raise UnreadableBodyError("the JSON is nested too deep to read") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise UnreadableBodyError(f"not JSON: {type(error).__name__}") from None


def encodable(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (a lone surrogate cannot)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_problem(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a decoded JSON value cannot be stored and read back as it is, or None.

    One of "too_deep", "non_finite_number", "unencodable_text". Walks with an explicit
    stack, so a value as deep as the decoder allows cannot exhaust Python's.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not encodable(item):
                return "unencodable_text"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "non_finite_number"
        elif isinstance(item, dict):
            if depth >= max_depth:
                return "too_deep"
            for key, inner in item.items():
                if not encodable(key):
                    return "unencodable_text"
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            if depth >= max_depth:
                return "too_deep"
            stack.extend((inner, depth + 1) for inner in item)
    return None


def loggable(value: Any, limit: int = 80) -> str | None:
    """A short, always-encodable stand-in for a value from the body, fit for a log line:
    strings cut to `limit` with lone surrogates escaped, other values only their type."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"<{type(value).__name__}>"
    cut = value[:limit] + ("…" if len(value) > limit else "")
    if encodable(cut):
        return cut
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")
