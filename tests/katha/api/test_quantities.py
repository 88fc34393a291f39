"""Durations and sizes are read the way Kubernetes users write them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katha.api.quantities import format_duration, parse_duration, parse_quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("15m", timedelta(minutes=15)),
        ("7d", timedelta(days=7)),
        ("1.5h", timedelta(minutes=90)),
        ("250ms", timedelta(milliseconds=250)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "1 day", "-5m", "1h 30m", "1w"])
def test_malformed_durations_explain_the_form(text: str) -> None:
    with pytest.raises(ValueError, match="write a number and a unit"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=90 * 86400))
def test_formatted_durations_parse_back(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1Gi", Decimal(2**30)),
        ("512Mi", Decimal(512 * 2**20)),
        ("1.5G", Decimal("1.5e9")),
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("1e3", Decimal(1000)),
    ],
)
def test_quantities_parse(text: str, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(("text", "reason"), [("-1Gi", "negative"), ("1GB", "not a Kubernetes")])
def test_bad_quantities_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_quantity(text)
