"""Embedding as Ray Data over a Ray cluster, for corpora too large for one process."""

from typing import Any

import numpy as np

from ingestion.embedding import Vectors, embedder_from_settings
from ingestion.index.writer import EmbedTexts
from ingestion.settings import IngestionSettings


class _PassageBatches:
    """One embedder per Ray actor, loaded once and reused for every batch it is sent."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._embedder = embedder_from_settings(IngestionSettings.model_validate(settings))

    def __call__(self, batch: dict[str, np.ndarray[Any, Any]]) -> dict[str, Any]:
        vectors = self._embedder.embed_passages([str(text) for text in batch["text"]])
        return {"position": batch["position"], "vector": list(vectors)}


class RayDataMissingError(RuntimeError):
    """KATHA_INGEST_RAY_ADDRESS is set, but Ray Data is not installed here."""


def ray_embedder(settings: IngestionSettings, actors: int = 2) -> EmbedTexts:
    """Embed with Ray Data on the cluster at `settings.ray_address` ("auto", "ray://...").

    Ray Data (and pandas under it) is the `ray-data` extra, not part of every install: the
    agents' Serve processes would otherwise import pandas (about 30 MiB each) for nothing.
    """
    try:
        import ray.data  # noqa: F401 - only whether it is there
    except ImportError as error:
        raise RayDataMissingError(
            "KATHA_INGEST_RAY_ADDRESS embeds with Ray Data, which is not installed here "
            f"({error}): install katha[ray-data] here and in the Ray cluster's image, or "
            "unset it to embed in this process"
        ) from error

    def embed(texts: list[str]) -> Vectors:
        import ray

        if not ray.is_initialized():
            ray.init(address=settings.ray_address, ignore_reinit_error=True, log_to_driver=False)
        items = [{"position": position, "text": text} for position, text in enumerate(texts)]
        dataset = ray.data.from_items(items).map_batches(
            _PassageBatches,
            fn_constructor_kwargs={"settings": _plain(settings)},
            batch_size=settings.batch_size,
            concurrency=actors,
            batch_format="numpy",
        )
        vectors = np.empty((len(texts), 0), dtype=np.float32)
        for row in dataset.iter_rows():
            vector = np.asarray(row["vector"], dtype=np.float32)
            if vectors.shape[1] == 0:
                vectors = np.zeros((len(texts), len(vector)), dtype=np.float32)
            vectors[int(row["position"])] = vector
        return vectors

    return embed


def _plain(settings: IngestionSettings) -> dict[str, Any]:
    values = settings.model_dump(exclude={"embeddings_api_key", "ray_address"})
    if settings.embeddings_api_key is not None:
        values["embeddings_api_key"] = settings.embeddings_api_key.get_secret_value()
    return values
