"""Issue #18: every console page works in Sinhala and Tamil on a cheap phone, without
overflow or broken glyphs. `katha up` runs two Businesses of one owner (the kandy-bakery
example and a copy) on this machine; two customers write through signed webhooks, a long
Sinhala and a long Tamil sentence (real text from ../shared/data). Then, in each language,
every page the console serves opens in Debian's headless Chromium at 360 x 740, signed out
(sign-in pages) or as the owner, and must: not be wider than the screen, nor spill text
out of a box (the elements are named); be in that language (<html lang>, and <main>'s words
in its script); draw every element's Sinhala text in a Noto Sinhala font and Tamil in a
Noto Tamil font, no glyph falling to a font without it (DevTools' CSS.getPlatformFontsForNode,
the "Rendered Fonts" pane); and give a full-page screenshot (saved under tmp_path, its path
printed) that is not blank.
"""

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser import STEP_MS, browser_fixture  # noqa: F401 - fixture
from katha_up import RunningUp, running_katha_up, sign_in_with_printed_code
from PIL import Image, ImageStat
from playwright.sync_api import Browser, CDPSession, Error, Page, ViewportSize, expect

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kandy-bakery"
# A second shop of the same owner, so that the Businesses list is a page of its own (with
# one Business, "/" goes straight to it): the bakery under another name and number.
BRANCH = {
    "  name: kandy-bakery\n": "  name: kandy-bakery-peradeniya\n",
    '"100000000000001"': '"100000000000099"',
    "name: kandy-bakery-whatsapp": "name: kandy-bakery-peradeniya-whatsapp",
    "displayName: Senkadagala Bakery\n": "displayName: Senkadagala Bakery Peradeniya\n",
}
TENANT = "demo/kandy-bakery"
PHONE: ViewportSize = {"width": 360, "height": 740}
# Each language's script (Unicode block) and the Noto families that may draw it.
SCRIPTS = {
    "si": ("Sinhala", re.compile("[\u0d80-\u0dff]"), re.compile(r"^Noto (Sans|Serif) Sinhala")),
    "ta": ("Tamil", re.compile("[\u0b80-\u0bff]"), re.compile(r"^Noto (Sans|Serif) Tamil")),
}
# Chromium's font for a character that no font on the machine has.
LAST_RESORT = re.compile(r"last ?resort", re.IGNORECASE)
# The longest real sentence of each language up to this many characters: long enough to
# wrap many times on a phone, short enough for one WhatsApp message and a quick reply.
LONGEST = 400
PLAIN = re.compile("[\u0d80-\u0dff\u0b80-\u0bff\u200c\u200d -~]+")
# Elements whose text is not drawn as the page's text.
UNDRAWN = {"SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "TITLE"}
# A list item's marker, drawn with its text: "• ", or up to "99. ".
MARKER_GLYPHS = 4
# White space drawn as written, each space a glyph (CSS white-space-collapse).
KEPT_SPACE = {"preserve", "break-spaces", "pre", "pre-wrap"}
SIGNED_IN_PAGES = {
    "businesses": "/",
    "conversations": "/b/{tenant}",
    "thread-si": "/b/{tenant}/c/{si}",
    "thread-ta": "/b/{tenant}/c/{ta}",
    "insights": "/b/{tenant}/insights",
    "knowledge": "/b/{tenant}/knowledge",
    "knowledge-notice": "/b/{tenant}/knowledge?done=reindex",
    "answers": "/b/{tenant}/answers",
    "settings": "/b/{tenant}/settings",
    "settings-saved": "/b/{tenant}/settings?saved=persona",
    "customers": "/b/{tenant}/customers",
    "customers-deleted": "/b/{tenant}/customers?deleted=true",
    "customer-si": "/b/{tenant}/customers/{si}",
    "customer-ta-confirm": "/b/{tenant}/customers/{ta}?confirm=true",
    "not-found": "/b/demo/not-ours",
    "thread-not-found": "/b/{tenant}/c/no-such-conversation",
}
SIGNED_OUT_PAGES = ["signin", "signin-wrong-number", "signin-verify", "signin-oidc"]


class Up(RunningUp):
    def tell(self, number: str, name: str, text: str) -> None:
        """A new customer writes `text` and gets a reply (an answer, or the handover)."""
        self.ask(text, number, TENANT, name=name)


@dataclass
class World:
    """The running system, what the owner's signed-in browser keeps, and the two threads."""

    up: Up
    browser: Browser
    owner: dict[str, Any]  # Playwright's storage state: the owner's session cookie
    conversations: dict[str, str]  # "si" / "ta": the conversation id of that message


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    root = tmp_path_factory.mktemp("every-page-up")
    folder = root / "shops"
    shutil.copytree(EXAMPLE, folder / "kandy-bakery")
    shutil.copytree(EXAMPLE, folder / "peradeniya")
    branch = folder / "peradeniya" / "business.yaml"
    text = branch.read_text(encoding="utf-8")
    for old, new in BRANCH.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    branch.write_text(text, encoding="utf-8")
    with running_katha_up(root, folder) as running:
        yield Up(running.process, running.folder, running.state, running.log)


def longest_sentence(path: Path) -> str:
    """The longest line that is a plain sentence: Sinhala or Tamil letters, joiners and
    ASCII, singly spaced. (The data's longest lines include one padded with a hundred
    spaces and an emoji, which no font on a plain Linux machine draws: another matter.)"""
    lines = path.read_text(encoding="utf-8").splitlines()
    plain = [line for line in lines if PLAIN.fullmatch(line) and line == " ".join(line.split())]
    return max((line for line in plain if len(line) <= LONGEST), key=len)


@pytest.fixture(scope="module")
def world(up: Up, browser: Browser, shared_data: Path) -> World:
    """Two customers write (Sinhala, Tamil); the owner signs in once, and that browser's
    session is kept for every page, each opened in a fresh context at the phone's size."""
    messages = {
        "si": longest_sentence(shared_data / "dakshina" / "si.romanized.rejoined.test.native.txt"),
        "ta": longest_sentence(shared_data / "dakshina" / "ta.romanized.rejoined.test.native.txt"),
    }
    # Profile names in the script too (the message's first word): lists show them.
    names = {language: text.split()[0] for language, text in messages.items()}
    up.tell("94770001801", names["si"], messages["si"])
    up.tell("94770001802", names["ta"], messages["ta"])
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    sign_in_with_printed_code(up, page, TENANT)
    page.goto(f"{up.console}/b/{TENANT}/customers")
    conversations = {}
    for language, name in names.items():
        link = page.locator(f'a[href*="/b/{TENANT}/customers/"]', has_text=name).first
        conversations[language] = (link.get_attribute("href") or "").rsplit("/", 1)[-1]
    owner = context.storage_state()
    context.close()
    return World(up, browser, dict(owner), conversations)


def open_signed_out(page: Page, console: str, name: str) -> None:
    """The sign-in pages as someone not signed in reaches them. The code is asked for a
    number that owns nothing: the page is the same, and no owner's code limit is spent."""
    if name == "signin-oidc":  # not configured for `katha up`: the page that says so
        page.goto(f"{console}/signin/oidc")
        return
    page.goto(f"{console}/signin")
    if name == "signin":
        return
    number = page.locator('form[action="/signin/code"] input:not([type=hidden])').first
    number.fill("12" if name == "signin-wrong-number" else "94770001899")
    number.press("Enter")
    target = "#signin-error" if name == "signin-wrong-number" else 'form[action^="/signin/verify"]'
    expect(page.locator(target).first).to_be_visible()


@pytest.mark.parametrize("name", [*SIGNED_OUT_PAGES, *SIGNED_IN_PAGES])
@pytest.mark.parametrize("language", ["si", "ta"])
def test_the_page_fits_a_phone_in_its_script(
    world: World, language: str, name: str, tmp_path: Path
) -> None:
    """The page on a phone reading `language` (the console's `lang` cookie, and the
    browser's own language), as the owner or signed out."""
    signed_in = name in SIGNED_IN_PAGES
    context = world.browser.new_context(
        viewport=PHONE, locale=f"{language}-LK", storage_state=world.owner if signed_in else None
    )
    context.set_default_timeout(STEP_MS)
    context.add_cookies([{"name": "lang", "value": language, "url": world.up.console}])
    try:
        page = context.new_page()
        if signed_in:
            path = SIGNED_IN_PAGES[name].format(tenant=TENANT, **world.conversations)
            page.goto(world.up.console + path)
            expect(page).not_to_have_url(re.compile(r"/signin"))
        else:
            open_signed_out(page, world.up.console, name)
        page.wait_for_load_state("load")
        shot = tmp_path / f"{name}-{language}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of {name} in {language}: {shot}")
        problems = [
            *overflow_problems(page),
            *language_problems(page, language),
            *glyph_problems(page),
            *blank_problems(shot),
        ]
    finally:
        context.close()
    assert problems == [], f"{name} in {language} ({page.url}):\n" + "\n".join(problems)


# What sticks out past the right edge of the screen, and boxes whose text spills out of
# them (a word longer than its card is wide: drawn over the border, or past the screen):
# the innermost such elements (one pushed out by its child is not named again), each as
# tag#id.class and its text. Boxes that clip or scroll their content on purpose, and form
# fields (their text scrolls inside them), do not spill.
OVERFLOW_JS = """() => {
  const width = window.innerWidth;
  const all = [...document.body.querySelectorAll('*')];
  const innermost = found => found.filter(e => !found.some(o => o !== e && e.contains(o)));
  const wide = innermost(all.filter(e => {
    const box = e.getBoundingClientRect();
    return box.width > 1 && (box.right > width + 0.5 || box.width > width + 0.5);
  }));
  const spilling = innermost(all.filter(e =>
    e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1
    && !['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName)
    && getComputedStyle(e).overflowX === 'visible'));
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + [...e.classList].map(c => '.' + c).join('');
  const said = e => {
    const box = e.getBoundingClientRect();
    return name(e) + ' (' + Math.round(box.left) + '..' + Math.round(box.right) + 'px, its '
      + 'content ' + e.scrollWidth + 'px in ' + e.clientWidth + 'px): '
      + JSON.stringify((e.innerText || e.value || '').trim().slice(0, 60));
  };
  return {
    scrollWidth: document.documentElement.scrollWidth, width,
    wide: wide.slice(0, 10).map(said), spilling: spilling.slice(0, 10).map(said),
  };
}"""


def overflow_problems(page: Page) -> list[str]:
    found = page.evaluate(OVERFLOW_JS)
    problems = []
    if found["scrollWidth"] > found["width"]:
        problems.append(
            f"the page scrolls sideways: {found['scrollWidth']}px wide on a "
            f"{found['width']}px screen"
        )
    problems += [f"wider than the screen: {element}" for element in found["wide"]]
    problems += [f"text spills out of its box: {element}" for element in found["spilling"]]
    return problems


def language_problems(page: Page, language: str) -> list[str]:
    """<html lang>, and the page's own words (in <main>: the header's language links name
    every language) in the language's script."""
    script, letters, _ = SCRIPTS[language]
    problems = []
    lang = page.locator("html").get_attribute("lang")
    if lang != language:
        problems.append(f"<html lang={lang!r}>, not {language!r}")
    words = page.locator("main").inner_text() if page.locator("main").count() else ""
    if len(letters.findall(words)) < 10:
        problems.append(f"the page's own words are not in {script}: {words[:120]!r}")
    return problems


def blank_problems(shot: Path) -> list[str]:
    """A screenshot of a page with text has many shades and some dark pixels."""
    with Image.open(shot) as image:
        grey = image.convert("L")
        colours = len(grey.getcolors(maxcolors=256) or [])
        stat = ImageStat.Stat(grey)
        darkest, spread = stat.extrema[0][0], stat.stddev[0]
    if colours < 8 or darkest > 128 or spread < 5:
        return [f"the screenshot {shot} looks blank ({colours} shades, darkest {darkest})"]
    return []


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The node and everything under it, into shadow roots: the browser's own ones hold the
    text a <textarea>, an <input> or a closed <select> shows."""
    yield node
    for child in [*node.get("children", []), *node.get("shadowRoots", [])]:
        yield from walk(child)


def own_text(node: dict[str, Any]) -> str:
    """The element's own text: its text-node children (a child element is its own)."""
    return "".join(c.get("nodeValue", "") for c in node.get("children", []) if c["nodeType"] == 3)


def glyph_problems(page: Page) -> list[str]:
    """Every drawn element with Sinhala or Tamil text of its own, by DevTools' rendered
    fonts: the script's Noto font draws it, and the other fonts drew no more glyphs than
    the element has other characters (a character missing from every font is drawn as the
    first font's .notdef box, counted against that font)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        body = next(node for node in walk(root) if node["nodeName"] == "BODY")
        problems = []
        for node in walk(body):
            scripts = [s for s in SCRIPTS.values() if s[1].search(own_text(node))]
            if node["nodeType"] == 1 and node["nodeName"] not in UNDRAWN and scripts:
                problems += element_problems(cdp, node, scripts)
        return problems
    finally:
        cdp.detach()


def element_problems(cdp: CDPSession, node: dict[str, Any], scripts: list[Any]) -> list[str]:
    """One element's fonts, by DevTools (the "Rendered Fonts" pane's glyph counts)."""
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    if not fonts and (node.get("shadowRoots") or not drawn(cdp, node["nodeId"])):
        return []  # drawn in its shadow root (checked there), or not at all
    used: dict[str, int] = {}
    for font in fonts:  # a family's bold and regular faces come as two entries
        used[font["familyName"]] = used.get(font["familyName"], 0) + font["glyphCount"]
    where = describe(node)
    problems = [f"{where}: drawn with {family}" for family in used if LAST_RESORT.search(family)]
    for script, _, noto in scripts:
        if not any(n for family, n in used.items() if noto.search(family)):
            problems.append(f"{where}: {script} not drawn with a Noto {script} font: {used}")
    if excess_glyphs(node, used, collapse=True) > 0 and (excess := restyled(cdp, node, used)):
        problems.append(f"{where}: {excess} glyph(s) drawn by fonts lacking them: {used}")
    return problems


def restyled(cdp: CDPSession, node: dict[str, Any], used: dict[str, int]) -> int:
    """The excess glyphs again, as the element's style draws its text: text cut off with
    "…" is counted once laid out and again cut (no bound then), and white space kept as
    written (pre-wrap) is drawn space by space."""
    style = cdp.send("CSS.getComputedStyleForNode", {"nodeId": node["nodeId"]})["computedStyle"]
    computed = {entry["name"]: entry["value"] for entry in style}
    if computed.get("text-overflow") == "ellipsis":
        return 0
    kept = computed.get("white-space-collapse", computed.get("white-space", "")) in KEPT_SPACE
    return max(0, excess_glyphs(node, used, collapse=not kept))


def drawn(cdp: CDPSession, node_id: int) -> bool:
    try:
        cdp.send("DOM.getBoxModel", {"nodeId": node_id})
    except Error:  # DevTools: "Could not compute box model" (the node is not laid out)
        return False
    return True


def describe(node: dict[str, Any]) -> str:
    text = own_text(node)
    attributes = node.get("attributes", [])
    pairs = dict(zip(attributes[::2], attributes[1::2], strict=True))
    ident = f"#{pairs['id']}" if pairs.get("id") else ""
    classes = "".join(f".{c}" for c in pairs.get("class", "").split())
    return f"<{node['nodeName'].lower()}{ident}{classes}> {' '.join(text.split())[:50]!r}"


def excess_glyphs(node: dict[str, Any], used: dict[str, int], *, collapse: bool) -> int:
    """How many more glyphs fonts other than the Noto Sinhala and Tamil ones drew than
    there are characters outside those scripts (spaces, digits, Latin: each at most one
    glyph; a line break none; a list item's marker, "• " or "12. ", at most four); above
    0, a Sinhala or Tamil character fell to a font without it, drawn as that font's box.
    Counted, as Chromium does (two layout levels down): the element's own text and its
    child elements' own, not a <progress>'s fallback text (not drawn)."""
    scripts = SCRIPTS.values()
    noto = sum(n for family, n in used.items() if any(s[2].search(family) for s in scripts))
    texts = [
        own_text(child) if child["nodeType"] == 1 else child.get("nodeValue", "")
        for child in node.get("children", [])
        if child["nodeType"] in (1, 3) and child["nodeName"] not in UNDRAWN | {"PROGRESS", "METER"}
    ]
    shown = "".join(re.sub(r"\s+", " ", t) if collapse else t.replace("\n", "") for t in texts)
    others = [c for c in shown if not any(s[1].match(c) for s in scripts)]
    marker = MARKER_GLYPHS if node["nodeName"] == "LI" else 0
    return sum(used.values()) - noto - len(others) - marker
