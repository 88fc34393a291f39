"""Held-out slices of ../shared/data, split exactly as scripts/train_langid.py splits them."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / ".." / "shared" / "data"


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def training() -> ModuleType:
    if not DATA.is_dir():
        pytest.fail(f"reference data missing: {DATA} (see the project README)")
    return _load("train_langid", REPO / "scripts" / "train_langid.py")


@pytest.fixture(scope="session")
def bench(training: ModuleType) -> ModuleType:
    return _load("bench_langid", REPO / "bench" / "langid.py")


@pytest.fixture(scope="session")
def held_out(training: ModuleType) -> Any:
    """Sentences and lexicon words the model never saw in training or tuning."""
    return training.load_split(training.EVAL)
