"""The owner's FAQ (spec.knowledge.faq, edited in the console) is indexed by the one writer
as the source `faq:owner`, incrementally, in each item's stated language."""

from pathlib import Path
from typing import Any

import lancedb
from peers.openai_compatible import EmbeddingsApi

from ingestion.refresh import Refresh, refresh_business
from ingestion.report import SourceStatus
from katha.api import Business

from .conftest import manifest

SITE_FAQ = {"type": "faq", "name": "faq", "items": [{"q": "Do you deliver?", "a": "Yes."}]}
ITEMS: list[dict[str, Any]] = [
    # Short Singlish guesses as English without the owner's word for it.
    {"q": "kottu kiyada?", "a": "Chicken kottu Rs 1200.", "language": "singlish"},
    {"q": "ඔබ කීයටද විවෘත කරන්නේ?", "a": "උදේ 7 සිට රාත්‍රී 8 දක්වා.", "language": "si"},
    {"q": "Do you take cards?", "a": "Yes, Visa and Mastercard."},
]


def _business(faq: list[dict[str, Any]]) -> Business:
    document = manifest(SITE_FAQ)
    document["spec"]["knowledge"]["faq"] = faq
    return Business.model_validate(document)


def _rows(refresh: Refresh) -> list[dict[str, Any]]:
    path = Path(refresh.index_root) / "tenants" / "ceylon-spice"
    table = lancedb.connect(path).open_table("chunks")
    rows: list[dict[str, Any]] = (
        table.to_arrow().select(["source", "locator", "language", "text"]).to_pylist()
    )
    return sorted(rows, key=lambda row: (row["source"], row["locator"]))


def test_the_owners_faq_is_indexed_as_its_own_source_in_the_stated_languages(
    refresh_with_api: Refresh,
) -> None:
    report = refresh_business(_business(ITEMS), refresh_with_api)
    assert [(s.source, s.type, s.status, s.documents) for s in report.sources] == [
        ("faq", "faq", SourceStatus.INDEXED, 1),
        ("faq:owner", "faq", SourceStatus.INDEXED, 3),
    ]
    owner = [row for row in _rows(refresh_with_api) if row["source"] == "faq:owner"]
    assert [(row["locator"], row["language"]) for row in owner] == [
        ("faq 1", "singlish"),
        ("faq 2", "si"),
        ("faq 3", "en"),  # no language stated: detected, as for any source
    ]
    assert "Chicken kottu Rs 1200." in owner[0]["text"]


def test_editing_the_faq_changes_only_what_changed_and_removing_it_drops_its_chunks(
    refresh_with_api: Refresh, embeddings_api: EmbeddingsApi
) -> None:
    refresh_business(_business(ITEMS), refresh_with_api)
    embeddings_api.calls.clear()
    again = refresh_business(_business(ITEMS), refresh_with_api)
    assert embeddings_api.embedded in ([], ["dimension probe"])  # nothing new to embed
    assert again.chunks == 4

    # The owner corrects one item's language: that chunk alone is written again.
    edited = [ITEMS[0], ITEMS[1], {**ITEMS[2], "language": "en"}]
    changed = refresh_business(_business(edited), refresh_with_api)
    (owner,) = [s for s in changed.sources if s.source == "faq:owner"]
    assert (owner.added, owner.kept, owner.removed) == (1, 2, 1)

    removed = refresh_business(_business([]), refresh_with_api)
    assert [(s.source, s.status, s.removed) for s in removed.sources] == [
        ("faq", SourceStatus.UNCHANGED, 0),
        ("faq:owner", SourceStatus.REMOVED, 3),
    ]
    assert {row["source"] for row in _rows(refresh_with_api)} == {"faq"}
    assert removed.chunks == 1
