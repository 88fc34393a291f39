"""Every text the conversation pages show is in the Sinhala, Tamil and English catalogues,
translated (not the English left in place), and the pages' pure parts say what they mean."""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from babel.messages.pofile import read_po

from console.conversations import views
from console.conversations.views import ListFilters, event_views
from katha.store import StoredEvent
from router.console_actions import ReplyOutcome

CONSOLE = Path(views.__file__).resolve().parents[1]
TEMPLATES = ["account", "businesses", "conversations", "conversation_row", "thread", "not_found"]
# Texts the pages share with another area of the console, translated in its catalogue.
ELSEWHERE = {"Katha": "base", "Sign out": "auth", "Insights": "insights"}


def shown_texts() -> set[str]:
    """Every message id the conversation pages translate."""
    texts: set[str] = set()
    for name in TEMPLATES:
        source = (CONSOLE / "templates" / f"{name}.html").read_text()
        texts |= set(re.findall(r'_\("([^"]+)"\)', source))
        texts |= set(re.findall(r"_\('([^']+)'\)", source))
    for table in (views.FILTER_LANGUAGES, views.AUTHORS, views.EVENTS, views.REFUSALS):
        texts |= set(table.values())
    return texts - set(ELSEWHERE)


def catalogue(language: str, domain: str = "conversations") -> dict[str, str]:
    path = CONSOLE / "locales" / language / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as source:
        return {str(m.id): str(m.string) for m in read_po(source, locale=language) if m.id}


@pytest.mark.parametrize("language", ["si", "ta", "en"])
def test_every_text_is_in_the_catalogue(language: str) -> None:
    texts = catalogue(language)
    missing = sorted(text for text in shown_texts() if not texts.get(text))
    assert missing == []
    shared = {text for text, domain in ELSEWHERE.items() if catalogue(language, domain).get(text)}
    assert shared == set(ELSEWHERE)
    assert len(shown_texts()) > 40


@pytest.mark.parametrize(("language", "script"), [("si", "\u0d80-\u0dff"), ("ta", "\u0b80-\u0bff")])
def test_sinhala_and_tamil_are_written_in_their_scripts(language: str, script: str) -> None:
    texts = catalogue(language)
    untranslated = sorted(
        text for text in shown_texts() if not re.search(f"[{script}]", texts.get(text, ""))
    )
    assert untranslated == []


def test_filters_make_the_lists_query_string() -> None:
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert ListFilters().query() == ""
    assert ListFilters(True, True, "si").query(at, "c-7") == (
        "with_person=true&unanswered=true&language=si"
        "&before=2026-03-01T09%3A30%3A00%2B00%3A00&before_id=c-7"
    )


def test_only_web_addresses_become_links_and_only_agents_show_language() -> None:
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    common: dict[str, Any] = {"tenant": "shops/alpha", "conversation_id": "c-1", "at": at, "id": 1}
    agent = StoredEvent(
        event_id="a", author="agent", language="ta", intent="price", **common,
        sources=["https://shop.lk/prices", "javascript:alert(1)", "faq:delivery"],
    )  # fmt: skip
    customer = StoredEvent(event_id="b", author="customer", language="ta", **common)
    agent_view, customer_view = event_views([agent, customer])
    assert [(s.uri, s.linked) for s in agent_view.sources] == [
        ("https://shop.lk/prices", True),
        ("javascript:alert(1)", False),
        ("faq:delivery", False),
    ]
    assert (agent_view.language, agent_view.intent) == ("ta", "price")
    assert (customer_view.language, customer_view.author_label) == (None, "Customer")


def test_every_refusal_of_the_router_has_words_and_nothing_else_does() -> None:
    # router/console_actions.py's outcomes: the contract the console reads.
    assert set(views.REFUSALS) == set(get_args(ReplyOutcome)) - {"free_form"}
