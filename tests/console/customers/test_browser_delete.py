"""Issue #18's "delete a customer and find nothing of them left in any store", in a real
browser (headless Chromium): the owner goes from a conversation to its Customer data,
downloads it, deletes it after the confirmation step, and the customer is off the list.
Then every store Katha keeps a customer in (the conversation store, the router's inbox,
the agent's memory and unanswered list) is searched for the customer's number, name,
conversation id and words: nothing, while another customer of the same Business and a
customer of another Business are all still there. The pages fit a 360-pixel phone in
Sinhala and Tamil."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from browser import Person, browse_fixture, browser_fixture  # noqa: F401 - fixtures
from playwright.sync_api import Page, expect
from shop_katha import ELSEWHERE, GONE, KEPT, SHOP, Customer, Katha, hits

from console.auth.sessions import SESSION_COOKIE

pytestmark = pytest.mark.slow


def signed_in(katha: Katha, browse: Callable[[], Person], language: str | None = None) -> Page:
    token, _ = katha.session()
    person = browse()
    cookies = [{"name": SESSION_COOKIE, "value": token, "url": katha.console}]
    if language:
        cookies.append({"name": "lang", "value": language, "url": katha.console})
    person.context.add_cookies(cookies)  # type: ignore[arg-type]
    return person.page


def needles(customer: Customer, conversation: str) -> list[str]:
    return [customer.number, customer.name, conversation, *customer.texts]


def test_an_owner_deletes_a_customer_and_nothing_of_them_is_left(
    katha: Katha, browse: Callable[[], Person], tmp_path: Path
) -> None:
    gone, kept, elsewhere = katha.write(GONE), katha.write(KEPT), katha.write(ELSEWHERE)
    page = signed_in(katha, browse)
    page.goto(f"{katha.console}/b/{SHOP}/c/{gone}")
    page.get_by_role("link", name="Customer data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(GONE.name)

    with page.expect_download() as download:
        page.locator("#export").click()
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    exported = json.loads(saved.read_text())
    assert exported["conversation_id"] == gone
    assert {event["text"] for event in exported["conversation_store"]["events"]} >= set(GONE.texts)

    page.locator("#delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete this customer's data?")
    page.locator("#confirm-delete").click()
    expect(page.locator("#deleted")).to_be_visible()
    page.goto(f"{katha.console}/b/{SHOP}")
    expect(page.get_by_text(KEPT.name)).to_be_visible()
    expect(page.get_by_text(GONE.name)).to_have_count(0)

    stores = katha.stores()
    for name, path in stores.items():
        for needle in needles(GONE, gone):
            # The audit row of the deletion names the conversation (never the number).
            skip = ("console_audit",) if needle == gone else ()
            assert hits(path, needle, skip=skip) == [], (name, needle)
    assert hits(stores["store"], gone) == ["console_audit"]
    for customer, conversation in ((KEPT, kept), (ELSEWHERE, elsewhere)):
        for needle in needles(customer, conversation):
            assert hits(stores["store"], needle), needle
        assert hits(stores["inbox"], conversation), customer.name
    assert hits(stores["memory"], kept)


@pytest.mark.parametrize("language", ["si", "ta"])
def test_the_pages_fit_a_phone_in_sinhala_and_tamil(
    katha: Katha, browse: Callable[[], Person], language: str
) -> None:
    gone = katha.write(KEPT)
    page = signed_in(katha, browse, language)
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("", f"/{gone}", f"/{gone}?confirm=true"):
        page.goto(f"{katha.console}/b/{SHOP}/customers{path}")
        expect(page.locator("main")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert page.locator("html").get_attribute("lang") == language
