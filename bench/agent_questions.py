"""The labelled bakery questions and a freshly indexed bakery, shared by the agent benchmarks."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "bench" / "data" / "agent" / "questions.yaml"
HELD_OUT = REPO / "bench" / "data" / "agent" / "heldout.yaml"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "agent_runtime"))

from bakery import bakery_spec, write_bakery  # noqa: E402

from agent_runtime.languages import customer_language  # noqa: E402
from ingestion.embedding import Embedder  # noqa: E402
from ingestion.refresh import Refresh, refresh_business  # noqa: E402
from ingestion.settings import IngestionSettings  # noqa: E402
from ingestion.sources import Places  # noqa: E402
from katha.api import Business  # noqa: E402
from katha.lang import normalize  # noqa: E402

TENANT = "bench/mihiri"


@dataclass(frozen=True)
class Labelled:
    lang: str
    q: str
    sources: list[str] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)
    handoff: bool = False


def language_of_question(text: str) -> str:
    """The language the agent's analyze_query step detects (retrieval is judged for it)."""
    language, _ = customer_language(normalize(text), None)
    return str(language)


def questions(path: Path = QUESTIONS) -> list[Labelled]:
    raw = yaml.safe_load(path.read_text())["questions"]
    return [Labelled(**item) for item in raw]


def index_bakery(root: Path, embedder: Embedder) -> Path:
    """Mihiri Bakery's knowledge under root/knowledge, indexed under root/index."""
    knowledge = root / "knowledge"
    write_bakery(knowledge)
    namespace, name = TENANT.split("/")
    business = Business.model_validate(
        {"metadata": {"name": name, "namespace": namespace}, "spec": bakery_spec()}
    )
    refresh = Refresh(
        root / "index", Places(knowledge), IngestionSettings(), embedder=embedder, progress=False
    )
    report = refresh_business(business, refresh)
    if report.error or report.failed:
        raise SystemExit(f"the bakery did not index: {report.render()}")
    return root / "index" / namespace / name
