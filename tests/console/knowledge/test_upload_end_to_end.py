"""Issue #18's Knowledge test in a real browser: the owner of a `katha up` Business signs in
to the console, uploads a real PDF menu holding a new item and its price, presses
"Re-index now", and the next customer asking is answered with the new price. A file that
is not what its name says is refused in plain words and changes nothing, and the page
fits a 360 px phone in Sinhala and Tamil.

Everything is `katha up` as a user runs it (console, router, the agent under Ray Serve,
the index written beside its document store); the console's re-index request is the file
`katha up` follows (STATE_DIR/refresh-requests/NAMESPACE.NAME). Headless Chromium is
Debian's, through Playwright (tests/support/browser.py).
"""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Person, browse_fixture, browser_fixture  # noqa: F401 - fixtures
from katha_up import RunningUp, running_katha_up, sign_in_with_printed_code, wait_for_output
from playwright.sync_api import Browser, expect
from reportlab.lib.pagesizes import A5
from reportlab.pdfgen import canvas

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "kandy-bakery"
TENANT = "demo/kandy-bakery"
RELOADED = "↻ demo/kandy-bakery: reloaded"
MENU = "avurudu-menu.pdf"


class Up(RunningUp):
    @property
    def documents(self) -> Path:
        return self.state / "index" / "demo" / "kandy-bakery.documents"


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    root = tmp_path_factory.mktemp("knowledge-up")
    folder = root / "kandy-bakery"
    shutil.copytree(EXAMPLE, folder)
    with running_katha_up(root, folder) as running:
        yield Up(running.process, running.folder, running.state, running.log)


def new_menu(path: Path) -> Path:
    """A real PDF (reportlab, a real text layer) with an item the Business never sold."""
    pdf = canvas.Canvas(str(path), pagesize=A5)
    pdf.setTitle("Avurudu menu")
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(40, 540, "Kandy Bakery Avurudu menu")
    pdf.setFont("Helvetica", 11)
    lines = [
        "Kavum, 10 pieces: Rs. 950",
        "Kokis, 20 pieces: Rs. 780",
        "Watalappan cup, 150 g: Rs. 385",
    ]
    for number, line in enumerate(lines):
        pdf.drawString(40, 510 - 22 * number, line)
    pdf.showPage()
    pdf.save()
    return path


@pytest.fixture(scope="module")
def owner_cookies(up: Up, browser: Browser) -> list[Any]:
    """The owner signs in once, in a browser of their own; each test then opens its own
    browser holding that session (a number gets only a few sign-in codes an hour)."""
    context = browser.new_context(locale="en-US")
    try:
        sign_in_with_printed_code(up, context.new_page(), TENANT)
        cookies: list[Any] = context.cookies()
    finally:
        context.close()
    return cookies


def signed_in(browse: Callable[[], Person], cookies: list[Any]) -> Person:
    person = browse()
    person.context.add_cookies(cookies)
    return person


def test_a_new_price_in_an_uploaded_pdf_menu_is_answered(
    up: Up, browse: Callable[[], Person], owner_cookies: list[Any], tmp_path: Path
) -> None:
    assert "385" not in up.ask("How much is a watalappan cup?", "94770003851")
    person = signed_in(browse, owner_cookies)
    page = person.page
    page.goto(f"{up.console}/b/{TENANT}/knowledge")
    expect(page.locator('li[data-source="menu"]')).to_have_attribute("data-state", "indexed")

    page.set_input_files("#upload input[type=file]", str(new_menu(tmp_path / MENU)))
    page.locator("#upload button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text(MENU)
    uploaded = page.locator(f'li[data-source="upload:{MENU}"]')
    expect(uploaded).to_have_attribute("data-state", "pending")
    assert (up.documents / MENU).read_bytes().startswith(b"%PDF")

    reloads = up.count(RELOADED)
    page.locator("#reindex button").click()
    expect(page.locator("#notice")).to_have_attribute("data-notice", "reindex")
    output = wait_for_output(up.process, up.log, RELOADED, times=reloads + 1)
    assert "knowledge re-indexed" in output.split(RELOADED)[-1].splitlines()[0]

    assert "385" in up.ask("How much is a watalappan cup?", "94770003852")
    page.reload()
    expect(uploaded).to_have_attribute("data-state", "indexed")
    assert int(uploaded.get_attribute("data-chunks") or 0) >= 1
    assert person.dialogs == []


def test_a_file_that_is_not_what_its_name_says_is_refused(
    up: Up, browse: Callable[[], Person], owner_cookies: list[Any], tmp_path: Path
) -> None:
    page = signed_in(browse, owner_cookies).page
    page.goto(f"{up.console}/b/{TENANT}/knowledge")
    fake = tmp_path / "price-list.pdf"
    fake.write_text("Kavum: Rs. 10\n")
    page.set_input_files("#upload input[type=file]", str(fake))
    page.locator("#upload button[type=submit]").click()
    expect(page.locator("#refusal")).to_have_attribute("data-refusal", "wrong_content")
    expect(page.locator("#refusal")).to_contain_text("is not what its name says")
    assert not (up.documents / "price-list.pdf").exists()

    # A type that cannot be uploaded is said before the phone sends anything.
    photo = tmp_path / "shop-front.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    page.set_input_files("#upload input[type=file]", str(photo))
    expect(page.locator("#upload-problem")).to_be_visible()
    expect(page.locator("#upload-problem")).to_contain_text("Upload PDF, Excel (.xlsx)")
    page.locator("#upload button[type=submit]").click()
    expect(page.locator("#upload-problem")).to_be_visible()
    assert not (up.documents / "shop-front.jpg").exists()


@pytest.mark.parametrize("language", ["si", "ta"])
def test_the_page_fits_a_phone_in_sinhala_and_tamil(
    up: Up, browse: Callable[[], Person], owner_cookies: list[Any], language: str, tmp_path: Path
) -> None:
    person = signed_in(browse, owner_cookies)
    page = person.page
    page.set_viewport_size({"width": 360, "height": 780})
    person.context.add_cookies([{"name": "lang", "value": language, "url": up.console}])
    page.goto(f"{up.console}/b/{TENANT}/knowledge")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#reindex button")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=str(tmp_path / f"knowledge-{language}.png"), full_page=True)
    assert overflow <= 0
