"""The Answers tests run on the Knowledge tests' stack (tests/console/knowledge/
knowledge_stack.py): the console, the real router's admin API, the shop's real agent on
its LanceDB index and FileBusinesses writing the Business's YAML; imported, not copied."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "knowledge"))

from knowledge_stack import embedder, stack  # noqa: F401
