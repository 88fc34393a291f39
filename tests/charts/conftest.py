"""Fixtures for the chart tests: each scenario rendered once per session, or ad-hoc values."""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from katha_chart import SCENARIOS, Manifest, render


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[Manifest]]:
    """The objects of a named scenario, rendered once per session."""
    cache: dict[str, list[Manifest]] = {}

    def objects(scenario: str) -> list[Manifest]:
        if scenario not in cache:
            cache[scenario] = render(SCENARIOS[scenario], tmp_path_factory.mktemp(scenario))
        return json.loads(json.dumps(cache[scenario]))  # a copy each test may change

    return objects


@pytest.fixture
def render_with(tmp_path: Path) -> Callable[[dict[str, Any]], list[Manifest]]:
    """Render with ad-hoc values (for values that should fail or change one thing)."""
    return lambda values: render(values, tmp_path)
