"""Embedding as Ray Data on a (here local, real) Ray cluster gives the same vectors in order."""

from collections.abc import Iterator

import numpy as np
import pytest
import ray
from peers.openai_compatible import EmbeddingsApi

from ingestion.embedding import OpenAIEmbedder
from ingestion.ray_embedding import ray_embedder
from ingestion.settings import IngestionSettings


@pytest.fixture
def local_ray() -> Iterator[None]:
    if ray.is_initialized():  # another suite's Ray instance serves as the cluster
        yield
        return
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Data's own, on start-up
def test_ray_data_embeds_every_text_in_its_place(embeddings_api: EmbeddingsApi) -> None:
    settings = IngestionSettings(
        embedder="openai",
        embeddings_url=f"{embeddings_api.base}/v1",
        batch_size=4,
        ray_address="auto",
    )
    texts = [f"chunk number {n} about kottu" for n in range(25)]
    vectors = ray_embedder(settings, actors=2)(texts)
    expected = OpenAIEmbedder(f"{embeddings_api.base}/v1", "x").embed_passages(texts)
    np.testing.assert_allclose(vectors, expected, rtol=1e-6)
    assert max(len(call["input"]) for call in embeddings_api.calls if call["model"] != "x") <= 4
