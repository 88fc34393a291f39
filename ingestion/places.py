"""Where a Business's `file:` and `configMapRef` sources are found, in a module of its own:
an agent replica names these places for its refreshes without importing the parsers that
`ingestion.sources` loads them with."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Places:
    """Where `file:` and `configMapRef` sources live on this machine or in this pod."""

    base_dir: Path
    configmap_dir: Path | None = None
