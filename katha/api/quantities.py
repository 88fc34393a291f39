"""Durations ("24h", "1h30m") and Kubernetes resource quantities ("1Gi", "500m")."""

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_DURATION_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
}

# A non-negative Kubernetes quantity: a number with an optional binary (Ki..Ei),
# decimal (m, k..E) or exponent suffix. A leading sign is refused on purpose.
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][0-9]+)?$"
_QUANTITY = re.compile(QUANTITY_PATTERN)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"m": Decimal("0.001"), "": Decimal(1), "k": Decimal(10**3), "M": Decimal(10**6)}
_DECIMAL |= {"G": Decimal(10**9), "T": Decimal(10**12), "P": Decimal(10**15)}
_DECIMAL |= {"E": Decimal(10**18)}


def parse_duration(text: str) -> timedelta:
    """Parse a Go-style duration such as "30m", "24h" or "1h30m" (plus "d" for days).

    Raises ValueError with a message that shows the accepted form.
    """
    value = text.strip()
    if not re.fullmatch(DURATION_PATTERN, value):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit, "
            'for example "30m", "6h", "1h30m" or "7d" (units: ms, s, m, h, d)'
        )
    total = timedelta()
    for amount, unit in _DURATION_PART.findall(value):
        total += _DURATION_UNITS[unit] * float(amount)
    return total


def format_duration(delta: timedelta) -> str:
    """The shortest Go-style spelling of a whole number of seconds, e.g. 5400s -> "1h30m"."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_quantity(text: str) -> Decimal:
    """Parse a non-negative Kubernetes quantity ("1Gi", "512Mi", "1.5G", "250m") into units.

    Raises ValueError for negative numbers and malformed text.
    """
    value = str(text).strip()
    if value.startswith("-"):
        raise ValueError(f"{text!r} is negative; sizes must be positive, for example 1Gi")
    match = _QUANTITY.fullmatch(value)
    if not match:
        raise ValueError(
            f"{text!r} is not a Kubernetes quantity; write for example 512Mi, 1Gi or 10G"
        )
    suffix = match.group(3) or ""
    number_text = value[: len(value) - len(suffix)] if suffix else value
    try:
        number = Decimal(number_text)
    except InvalidOperation as error:  # the regex should make this unreachable
        raise ValueError(f"{text!r} is not a number") from error
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix[:1] in ("e", "E"):
        return number * (Decimal(10) ** int(suffix[1:]))
    return number * _DECIMAL[suffix]
