"""Fixtures every test may use: where the repository and the shared reference data are,
and logging as each test found it."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared reference data is missing: expected it at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _logging_as_found() -> Iterator[None]:
    """configure_logging changes process-wide state (structlog, the root handler, the
    record factory): each test leaves it as it found it, whatever order tests run in."""
    structlog_config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    factory = logging.getLogRecordFactory()
    yield
    structlog.configure(**structlog_config)
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.setLogRecordFactory(factory)
