"""Embedding as Ray Data on a (here local, real) Ray cluster gives the same vectors in order."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray
from peers.openai_compatible import EmbeddingsApi

from ingestion.embedding import OpenAIEmbedder
from ingestion.job import EXIT_USAGE
from ingestion.ray_embedding import ray_embedder
from ingestion.settings import IngestionSettings

REPO = Path(__file__).resolve().parents[2]


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


# Ray Data is the `ray-data` extra: an install without it (the image's default) has no
# pandas, and ingestion asked to embed on a Ray cluster says so before it writes anything.
WITHOUT_PANDAS = """
import sys
class NoPandas:
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoPandas())
from ingestion.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_ray_data_installed_ray_embedding_is_refused_clearly(tmp_path: Path) -> None:
    business = REPO / "examples" / "kandy-bakery" / "business.yaml"
    environment = {**os.environ, "KATHA_INGEST_RAY_ADDRESS": "auto"}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_PANDAS, str(business), "--index-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=environment, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "install katha[ray-data]" in done.stderr
    assert "KATHA_INGEST_RAY_ADDRESS" in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing half-written
