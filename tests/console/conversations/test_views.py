"""The conversation pages' pure parts say what they mean (their texts' translations are
checked with every page's, in tests/console/test_catalogues.py)."""

from datetime import UTC, datetime
from typing import Any, get_args

from console.conversations import views
from console.conversations.views import ListFilters, event_views
from katha.store import StoredEvent
from router.console_actions import ReplyOutcome


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
