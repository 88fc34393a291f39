"""The owner's FAQ (`spec.knowledge.faq`) read from and written to the Business through
`services.businesses` (console.businesses), and the platform's FAQ sources, read-only.

Every change is worked out from the Business as read inside the write's own guard
(`Businesses.update`), never from the page the owner saw: two owners, two console
replicas or a double submit cannot drop each other's items. An edit or a delete names
its item by its place and its fingerprint (a hash of its question, answer and language),
so it is refused (ItemChangedError) when the item changed or moved away meanwhile,
instead of landing on whichever item now has that place."""

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from katha.api.knowledge import FAQ_QUESTION_CHARS

FAQ_PATH = ("knowledge", "faq")
LANGUAGES = ("si", "en", "singlish", "ta")
Changes = dict[tuple[str, ...], Any]
Compute = Callable[[dict[str, Any]], Changes]  # what Businesses.update runs
_JOINERS = {"\u200c", "\u200d"}  # ZWNJ, ZWJ: Sinhala conjuncts and emoji sequences


@dataclass(frozen=True)
class FaqItem:
    q: str
    a: str
    language: str | None = None

    def as_spec(self) -> dict[str, str]:
        item = {"q": self.q, "a": self.a}
        if self.language:
            item["language"] = self.language
        return item

    @property
    def fingerprint(self) -> str:
        """What the edit and delete forms carry: the item as the owner saw it."""
        text = "\0".join((self.q, self.a, self.language or ""))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ItemChangedError(LookupError):
    """The item the form showed is no longer there as it was; `current` is what that
    place holds now (None: nothing)."""

    def __init__(self, current: FaqItem | None) -> None:
        super().__init__("the FAQ item changed meanwhile")
        self.current = current


def _items(faq: Any) -> list[FaqItem]:
    return [
        FaqItem(str(item.get("q", "")), str(item.get("a", "")), item.get("language"))
        for item in faq or []
        if isinstance(item, dict)
    ]


def spec_items(spec: dict[str, Any]) -> list[FaqItem]:
    return _items((spec.get("knowledge") or {}).get("faq"))


def owner_items(business: dict[str, Any]) -> list[FaqItem]:
    return spec_items(business.get("spec") or {})


def platform_items(business: dict[str, Any]) -> list[FaqItem]:
    """FAQ items a platform engineer wrote in spec.knowledge.sources: shown, not edited."""
    knowledge = (business.get("spec") or {}).get("knowledge") or {}
    return [
        item
        for source in knowledge.get("sources") or []
        if source.get("type") == "faq"
        for item in _items(source.get("items"))
    ]


def _written(items: list[FaqItem]) -> Changes:
    """The whole list, as the console's field manager owns it (None when empty)."""
    return {FAQ_PATH: [item.as_spec() for item in items] or None}


def _place(items: list[FaqItem], index: int, fingerprint: str) -> int:
    """Where the item the form showed is now: its old place, or where it moved to when an
    item before it was deleted; ItemChangedError when it is nowhere as it was."""
    if 0 <= index < len(items) and items[index].fingerprint == fingerprint:
        return index
    moved = [n for n, item in enumerate(items) if item.fingerprint == fingerprint]
    if moved:
        return min(moved, key=lambda n: abs(n - index))
    raise ItemChangedError(items[index] if 0 <= index < len(items) else None)


def adding(item: FaqItem) -> Compute:
    return lambda spec: _written([*spec_items(spec), item])


def editing(index: int, fingerprint: str, item: FaqItem) -> Compute:
    def compute(spec: dict[str, Any]) -> Changes:
        items = spec_items(spec)
        items[_place(items, index, fingerprint)] = item
        return _written(items)

    return compute


def deleting(index: int, fingerprint: str) -> Compute:
    def compute(spec: dict[str, Any]) -> Changes:
        items = spec_items(spec)
        del items[_place(items, index, fingerprint)]
        return _written(items)

    return compute


def question_from(text: str, limit: int = FAQ_QUESTION_CHARS) -> str:
    """A customer's question (up to 4096 characters) as an FAQ question (at most `limit`),
    cut where a letter ends: never between a Sinhala or Tamil consonant and its vowel
    sign or virama, nor inside a ZWJ sequence."""
    if len(text) <= limit:
        return text
    cut = limit
    while cut > 0 and (
        unicodedata.category(text[cut]).startswith("M")
        or text[cut] in _JOINERS
        or text[cut - 1] in _JOINERS
    ):
        cut -= 1
    return text[:cut].rstrip()
