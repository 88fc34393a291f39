"""The shop web site bench/knowledge_refresh.py crawls: a home page, menu sections and item
pages, in English, Sinhala and Singlish taken from real text (../shared/data).

Each item page is one chunk of about 400 characters (an English sentence from FLoRes with
its Sinhala translation, a native speaker's Singlish sentence from Dakshina, a price row), so the
refresh's work is one embedding per changed page. "Changed" gives every second item page
other sentences and a new price, as a shop rewriting half its menu would.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from peers.web_site import Site

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ITEMS_PER_SECTION = 50
SECTIONS = ["Cakes", "Short eats", "Breakfast", "Sweets", "Drinks", "Party packs", "Bread",
            "Rice and curry", "Desserts", "Gifts"]  # fmt: skip
ITEMS = [("Butter cake", "බටර් කේක්"), ("Fish bun", "මාළු පාන්"), ("Kiribath", "කිරිබත්"),
         ("Kokis", "කොකිස්"), ("Love cake", "ලව් කේක්"), ("Watalappan", "වටලප්පන්"),
         ("String hoppers", "ඉඳිආප්ප"), ("Egg hoppers", "බිත්තර ආප්ප"),
         ("Milk toffee", "මිල්ක් ටොෆි"), ("Chicken roll", "චිකන් රෝල්"),
         ("Pol roti", "පොල් රොටි"), ("Kimbula bun", "කිඹුලා බනිස්")]  # fmt: skip
# Changed pages take their sentences this far along the corpora, so none repeats.
SHIFT = 1000


def _lines(path: str) -> list[str]:
    return (DATA / path).read_text(encoding="utf-8").splitlines()


@dataclass
class ShopSite:
    items: int
    sections: int
    english: list[str]
    sinhala: list[str]
    singlish: list[str]

    @classmethod
    def generate(cls, pages: int) -> ShopSite:
        """`pages` in all: home, one section per 50 items, and the items."""
        sections = max(1, pages // ITEMS_PER_SECTION)
        return cls(
            pages - 1 - sections,
            sections,
            _lines("flores_v1/wikipedia.dev.si-en.en"),
            _lines("flores_v1/wikipedia.dev.si-en.si"),
            [line for line in _lines("dakshina/si.romanized.rejoined.test.roman.txt") if line],
        )

    def name(self, item: int) -> tuple[str, str]:
        english, sinhala = ITEMS[item % len(ITEMS)]
        return f"{english} No. {item + 1}", f"{sinhala} {item + 1}"

    def publish(self, site: Site, *, changed: bool) -> int:
        """Put every page on `site`; returns how many item pages differ from the first
        version."""
        site.html("/", self._home())
        for section in range(self.sections):
            site.html(f"/menu/{section}.html", self._section(section))
        rewritten = 0
        for item in range(self.items):
            again = changed and item % 2 == 0
            site.html(f"/item/{item}.html", self._item(item, again))
            rewritten += again
        return rewritten

    def questions(self) -> list[str]:
        """What customers ask about this site: prices in three languages, and the first
        eight words of a page's sentences (as long as a WhatsApp question)."""
        asked = []
        for item in range(0, self.items, max(1, self.items // 20)):
            english, sinhala = self.name(item)
            asked += [f"How much is {english}?", f"{sinhala} කීයද?",
                      f"{english.lower()} eka kiyada?",
                      " ".join(self.english[item].split()[:8]),
                      " ".join(self.sinhala[item].split()[:8]),
                      " ".join(self.singlish[item].split()[:8])]  # fmt: skip
        return asked

    def _home(self) -> str:
        links = "".join(
            f'<li><a href="/menu/{n}.html">{SECTIONS[n % len(SECTIONS)]} ({n + 1})</a></li>'
            for n in range(self.sections)
        )
        about = (
            "Refresh Bakehouse bakes in Kandy every morning from 6.30am. "
            "අපි සෑම උදෑසනකම පාන් සහ කේක් පුළුස්සන්නෙමු. Order on WhatsApp."
        )
        return _page(
            "Refresh Bakehouse", f"<h1>Refresh Bakehouse</h1><p>{about}</p><ul>{links}</ul>"
        )

    def _section(self, section: int) -> str:
        title = f"{SECTIONS[section % len(SECTIONS)]} ({section + 1})"
        links = "".join(
            f'<li><a href="/item/{item}.html">{html.escape(self.name(item)[0])}</a></li>'
            for item in range(section, self.items, self.sections)
        )
        return _page(title, f"<h1>{title}</h1><ul>{links}</ul>")

    def _item(self, item: int, changed: bool) -> str:
        english, sinhala = self.name(item)
        line = (item + (SHIFT if changed else 0)) % len(self.english)
        spoken = (item + (SHIFT if changed else 0)) % len(self.singlish)
        price = (item % 40 + 2) * 50 + (25 if changed else 0)
        paragraphs = [
            self.english[line],
            self.sinhala[line],
            self.singlish[spoken],
        ]
        body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
        row = f"<tr><td>{html.escape(english)}</td><td>{price:,}</td></tr>"
        table = f"<table><tr><th>Item</th><th>Price (Rs.)</th></tr>{row}</table>"
        section = item % self.sections
        nav = f'<a href="/">Home</a> <a href="/menu/{section}.html">Menu</a>'
        return _page(english, f"<h1>{english} / {sinhala}</h1>{body}{table}", nav)


def _page(title: str, main: str, nav: str = '<a href="/">Home</a>') -> str:
    return (
        f'<!doctype html><html lang="si"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title></head><body><nav>{nav}</nav><main>{main}</main>"
        "<footer>Refresh Bakehouse, Kandy</footer></body></html>"
    )
