"""Hybrid search over a tenant's index: vector, full text and romanised text, fused by RRF.

Each list finds what the others miss: the vector finds meaning across languages (an
English question, a Sinhala answer), the full text finds exact Sinhala words and names,
and the romanised column lets Singlish find Sinhala. Reciprocal rank fusion needs no
score calibration between the lists; whether the best passage is good enough to answer
from is decided separately, on the cosine similarity the query embedding gives it.
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from ingestion.embedding import Embedder
from ingestion.index.reader import Hit, IndexReader

# Reciprocal rank fusion's constant (Cormack et al. 2009): 60 damps the head of each list.
RRF_K = 60
# How deep each list is read before fusion.
SEARCH_DEPTH = 10
# How deep the vector list is read for similarities: a passage that only full text found
# still needs one to be judged (the rank list itself stops at SEARCH_DEPTH).
SIMILARITY_DEPTH = 50
# Cosine similarity (multilingual-e5-small, query vs passage) at or above which the best
# passage answers the question. Tuned on bench/data/agent/questions.yaml by
# `python -m bench.agent_calibrate`: see that file for the sweep and its accuracy.
ANSWER_SIMILARITY = 0.845
# The rerank: fused candidates ordered by similarity, nudged by the full-text evidence.
# Tuned with the thresholds below: on the labelled set it lifts hit@1 from 54 to 61 of 69
# answerable questions over plain RRF order, and hit@3 from 64 to 67.
LEXICAL_BONUS = 0.01
FUSION_WEIGHT = 0.3
# A passage that the full-text or romanised search also ranks first is corroborated: the
# customer used its words, so a lower similarity still answers.
CORROBORATED_SIMILARITY = 0.775


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, with where it came from and how it was found."""

    id: str
    source: str
    source_uri: str
    locator: str
    title: str
    language: str
    text: str
    fused: float = 0.0  # reciprocal rank fusion score
    similarity: float = 0.0  # cosine similarity to the query (0 when the vector missed it)
    lexical_rank: int | None = None  # best rank in the full-text lists (0 is first)


@dataclass(frozen=True)
class Retrieval:
    passages: list[Passage]
    enough: bool
    confidence: float  # 0..1, the best passage's support, mapped from its similarity


@dataclass(frozen=True)
class Thresholds:
    answer: float = ANSWER_SIMILARITY
    corroborated: float = CORROBORATED_SIMILARITY


def hybrid_search(
    reader: IndexReader,
    embedder: Embedder,
    query: str,
    *,
    limit: int = 5,
    thresholds: Thresholds = Thresholds(),
) -> Retrieval:
    """The `limit` best passages for `query`, and whether they are enough to answer it."""
    # Full text runs while the query is embedded (both release the GIL).
    with ThreadPoolExecutor(max_workers=2) as pool:
        text = pool.submit(reader.search_text, query, SEARCH_DEPTH)
        romanized = pool.submit(reader.search_romanized, query, SEARCH_DEPTH)
        vector = reader.search_vector(query, embedder, limit=SIMILARITY_DEPTH)
        lexical = [text.result(), romanized.result()]
    candidates = fuse(vector, lexical)[:SEARCH_DEPTH]
    return judge(rerank(candidates)[:limit], thresholds)


def fuse(vector: Sequence[Hit], lexical: Sequence[Sequence[Hit]]) -> list[Passage]:
    """Reciprocal rank fusion of the vector list and the full-text lists, best first."""
    similarity = {hit.id: 1.0 - hit.score for hit in vector}
    found: dict[str, Passage] = {}
    for rank, hit in enumerate(vector[:SEARCH_DEPTH]):
        passage = found.get(hit.id) or _passage(hit, similarity)
        found[hit.id] = replace(passage, fused=passage.fused + 1 / (RRF_K + rank + 1))
    for hits in lexical:
        for rank, hit in enumerate(hits):
            passage = found.get(hit.id) or _passage(hit, similarity)
            best = rank if passage.lexical_rank is None else min(rank, passage.lexical_rank)
            found[hit.id] = replace(
                passage, fused=passage.fused + 1 / (RRF_K + rank + 1), lexical_rank=best
            )
    return sorted(found.values(), key=lambda passage: passage.fused, reverse=True)


def rerank(passages: list[Passage]) -> list[Passage]:
    """Closest in meaning first; full-text agreement breaks near-ties."""

    def support(passage: Passage) -> float:
        bonus = LEXICAL_BONUS if passage.lexical_rank == 0 else 0.0
        return passage.similarity + bonus + FUSION_WEIGHT * passage.fused

    return sorted(passages, key=support, reverse=True)


def judge(passages: list[Passage], thresholds: Thresholds) -> Retrieval:
    """Enough to answer when the top passage is close in meaning, or close and corroborated."""
    if not passages:
        return Retrieval([], enough=False, confidence=0.0)
    top = passages[0]
    best = max(passage.similarity for passage in passages)
    corroborated = top.lexical_rank == 0 and top.similarity >= thresholds.corroborated
    enough = top.similarity >= thresholds.answer or corroborated
    return Retrieval(passages, enough=enough, confidence=confidence(best, thresholds))


def confidence(similarity: float, thresholds: Thresholds) -> float:
    """Similarity mapped to 0..1 so that the answering threshold sits at 0.5."""
    low, mid = thresholds.answer - 0.15, thresholds.answer
    if similarity <= low:
        return 0.0
    if similarity <= mid:
        return round(0.5 * (similarity - low) / (mid - low), 3)
    return round(min(1.0, 0.5 + 0.5 * (similarity - mid) / (1.0 - mid)), 3)


def _passage(hit: Hit, similarity: dict[str, float]) -> Passage:
    return Passage(
        id=hit.id,
        source=hit.source,
        source_uri=hit.source_uri,
        locator=hit.locator,
        title=hit.title,
        language=hit.language,
        text=hit.text,
        similarity=similarity.get(hit.id, 0.0),
    )
