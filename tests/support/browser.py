"""A real browser for tests of what people see: Debian's headless Chromium (apt package
`chromium`, /usr/bin/chromium) driven by Playwright's Python API, which downloads no browser
of its own (scripts/test installs it with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).

`browser` is one Chromium per test module, each launch with a new, empty profile (its own
--user-data-dir, which Playwright makes and removes); `browse()` opens a new context in it:
one person's browser, with its own cookies and storage, that records every dialog a page
opens (a dialog from customer text means that text ran as code).

A test module takes the fixtures by importing them:
    from browser import browse_fixture, browser_fixture  # noqa: F401 - fixtures
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# As the machines' notes prescribe for Chromium as root on a closed network: no sandbox
# (root), no GPU, and nothing that reaches out by itself (QUIC, sync, component updates,
# background networking); without these it keeps trying Google's hosts at every start.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How long one step (a click, a page load, waiting for text) may take before the test
# fails: a bound for a stuck page on a busy two-core machine, not a speed requirement.
STEP_MS = 20_000
expect.set_options(timeout=STEP_MS)


@dataclass
class Person:
    """One person at one browser: a fresh context (cookies of their own) and its page."""

    context: BrowserContext
    page: Page
    dialogs: list[str] = field(default_factory=list)

    def record(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(name="browse")
def browse_fixture(browser: Browser) -> Iterator[Callable[[], Person]]:
    """`browse()`: a new person's browser (English pages); closed when the test ends."""
    opened: list[Person] = []

    def browse() -> Person:
        context = browser.new_context(locale="en-US", viewport={"width": 412, "height": 915})
        context.set_default_timeout(STEP_MS)
        person = Person(context, context.new_page())
        person.page.on("dialog", person.record)
        opened.append(person)
        return person

    yield browse
    for person in opened:
        person.context.close()
