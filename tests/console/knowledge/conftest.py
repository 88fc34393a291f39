"""The Knowledge tests' fixtures live in knowledge_stack.py (the router tests use shop.py
from here too), imported, not copied."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from knowledge_stack import embedder, stack  # noqa: F401
