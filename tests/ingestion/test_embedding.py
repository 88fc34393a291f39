"""Embedding through an OpenAI-compatible endpoint: batched, prefixed, failures reported."""

import pytest
from peers.openai_compatible import EmbeddingsApi

from ingestion.embedding import EmbeddingError, OpenAIEmbedder, embed_in_batches


def test_passages_are_sent_in_batches_with_the_configured_prefix(
    embeddings_api: EmbeddingsApi,
) -> None:
    embedder = OpenAIEmbedder(
        f"{embeddings_api.base}/v1", "intfloat/multilingual-e5-small",
        query_prefix="query: ", passage_prefix="passage: ",
    )  # fmt: skip
    texts = [f"chunk {n}" for n in range(10)]
    vectors = embed_in_batches(embedder, texts, batch_size=4, progress=False)
    assert vectors.shape == (10, embeddings_api.dimension)
    assert [len(call["input"]) for call in embeddings_api.calls] == [4, 4, 2]
    assert embeddings_api.calls[0]["input"][0] == "passage: chunk 0"
    assert embeddings_api.calls[0]["model"] == "intfloat/multilingual-e5-small"
    embedder.embed_query("kottu kiyada")
    assert embeddings_api.calls[-1]["input"] == ["query: kottu kiyada"]


def test_a_base_url_without_v1_is_completed(embeddings_api: EmbeddingsApi) -> None:
    embedder = OpenAIEmbedder(embeddings_api.base, "bge-m3")
    assert embedder.embed_passages(["a"]).shape == (1, embeddings_api.dimension)
    assert embedder.dimension == embeddings_api.dimension


def test_an_unavailable_endpoint_is_an_embedding_error(embeddings_api: EmbeddingsApi) -> None:
    embeddings_api.fail = True
    with pytest.raises(EmbeddingError, match="503"):
        OpenAIEmbedder(embeddings_api.base, "bge-m3").embed_passages(["a"])
