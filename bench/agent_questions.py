"""The labelled question sets, the shops they are asked of, and how an answer is judged;
shared by the agent benchmarks (bench/agent.py, bench/agent_calibrate.py) and by
tests/agent_runtime/test_labelled_sets.py, so the bench and the test judge alike.

Five sets: Mihiri Bakery's (questions.yaml, tuned on; heldout.yaml), the two examples/
tenants' (examples/questions.yaml), Nadee Tailors' (bench/data/shops/nadee-tailors/,
held out: written before the agent was asked any of it), and Tamil questions to the two
examples/ tenants (bench/data/agent/examples-tamil.yaml: the guesthouse writes no Tamil,
the bakery only its FAQ), where a question the knowledge does not reach in Tamil must go
to a person, never to a wrong answer.
"""

from __future__ import annotations

import re
import sys
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "bench" / "data" / "agent" / "questions.yaml"
HELD_OUT = REPO / "bench" / "data" / "agent" / "heldout.yaml"
EXAMPLES = REPO / "examples"
EXAMPLE_QUESTIONS = EXAMPLES / "questions.yaml"
EXAMPLES_TAMIL = REPO / "bench" / "data" / "agent" / "examples-tamil.yaml"
TAILOR = REPO / "bench" / "data" / "shops" / "nadee-tailors"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "agent_runtime"))
sys.path.append(str(REPO / "tests" / "support"))

from bakery import bakery_spec, write_bakery  # noqa: E402
from peers.loopback import serve_http  # noqa: E402

from agent_runtime.languages import customer_language  # noqa: E402
from ingestion.documents import BlockKind  # noqa: E402
from ingestion.embedding import Embedder  # noqa: E402
from ingestion.loaders.spreadsheet import load_spreadsheet  # noqa: E402
from ingestion.refresh import Refresh, refresh_business  # noqa: E402
from ingestion.settings import IngestionSettings  # noqa: E402
from ingestion.sources import Places  # noqa: E402
from katha.api import Business  # noqa: E402
from katha.contracts.messages import AgentReply, InboundMessage, MessageType  # noqa: E402
from katha.lang import normalize  # noqa: E402

TENANT = "bench/mihiri"
LANGUAGES = ("en", "si", "singlish", "ta")
_SINHALA = re.compile(r"[\u0d80-\u0dff]")
_TAMIL = re.compile(r"[\u0b80-\u0bff]")


@dataclass(frozen=True)
class Labelled:
    """One labelled question; the YAML files' comments say what each field means."""

    lang: str
    q: str
    sources: list[str] = field(default_factory=list)  # locators, any one answers it
    expect: list[str] = field(default_factory=list)  # any one must be in the reply
    handoff: bool = False
    never: list[str] = field(default_factory=list)
    expect_all: list[str] = field(default_factory=list)  # every one must be in the reply
    at: str | None = None  # when it is asked (ISO 8601 with offset); None: now
    tenant: str | None = None  # examples/: which tenant it is asked of
    uris: list[str] = field(default_factory=list)  # examples/: a cited URI contains one

    @property
    def asked_at(self) -> datetime | None:
        return datetime.fromisoformat(self.at) if self.at else None


@dataclass(frozen=True)
class Shop:
    """A Business to index and ask: its tenant key, spec and the folder its files are in."""

    tenant: str
    spec: dict[str, Any]
    knowledge: Path


def language_of_question(text: str) -> str:
    """The language the agent's analyze_query step detects (retrieval is judged for it)."""
    language, _ = customer_language(normalize(text), None)
    return str(language)


def questions(path: Path = QUESTIONS) -> list[Labelled]:
    """A labelled set; examples/questions.yaml's shape (tenant, text, source) read as well."""
    raw = yaml.safe_load(path.read_text())["questions"]
    if raw and "text" in raw[0]:
        return [_example_question(item, path.parent) for item in raw]
    return [Labelled(**item) for item in raw]


def _example_question(item: dict[str, Any], folder: Path) -> Labelled:
    """examples/ name a source by its `name` in business.yaml; cited as that source's URI."""
    uris = []
    if not (folder / item["tenant"]).is_dir():
        folder = EXAMPLES  # a set kept apart, asking examples/' tenants
    if "source" in item:
        spec = yaml.safe_load((folder / item["tenant"] / "business.yaml").read_text())["spec"]
        named = next(s for s in spec["knowledge"]["sources"] if s["name"] == item["source"])
        uris = [_uri_fragment(named)]
    return Labelled(
        lang=item["lang"],
        q=item["text"],
        expect=item.get("expect", []),
        handoff=item.get("handoff", False),
        never=item.get("never", []),
        tenant=item["tenant"],
        uris=uris,
    )


def _uri_fragment(source: dict[str, Any]) -> str:
    """What the URI of a passage from this source contains (as the README test checks); a
    site's path only, as the bench serves it on a port of its own."""
    location = source.get("file") or source.get("url") or f"inline:{source['name']}"
    return re.sub(r"^https?://[^/]+", "", str(location)).rstrip("/")


def load_shop(folder: Path) -> Shop:
    """The Business in folder/business.yaml, its `file:` sources next to it."""
    business = yaml.safe_load((folder / "business.yaml").read_text())
    metadata = business["metadata"]
    return Shop(f"{metadata['namespace']}/{metadata['name']}", business["spec"], folder)


class _ExampleSites(SimpleHTTPRequestHandler):
    """examples/sites, quietly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(EXAMPLES / "sites"), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        """Not a line per page on the bench's output."""


@contextmanager
def example_sites() -> Iterator[str]:
    """examples/sites on a loopback port, as `katha up` serves it for the guesthouse."""
    with serve_http(_ExampleSites) as url:
        yield url


def example_shop(name: str, site: str) -> Shop:
    """An examples/ tenant; its web source pointed at `site` instead of katha up's port."""
    shop = load_shop(EXAMPLES / name)
    for source in shop.spec["knowledge"]["sources"]:
        if source["type"] == "web":
            source["url"] = re.sub(r"^http://127\.0\.0\.1:\d+", site, source["url"])
    return shop


def bakery_shop(root: Path) -> Shop:
    """Mihiri Bakery, its files written under root/knowledge."""
    write_bakery(root / "knowledge")
    return Shop(TENANT, bakery_spec(), root / "knowledge")


def index_shop(
    shop: Shop, index: Path, embedder: Embedder, settings: IngestionSettings | None = None
) -> Path:
    """Indexes the shop for real under `index`; returns its own folder there."""
    namespace, name = shop.tenant.split("/")
    business = Business.model_validate(
        {"metadata": {"name": name, "namespace": namespace}, "spec": shop.spec}
    )
    refresh = Refresh(
        index,
        Places(shop.knowledge),
        settings or IngestionSettings(),
        embedder=embedder,
        progress=False,
    )
    report = refresh_business(business, refresh)
    if report.error or report.failed:
        raise SystemExit(f"{shop.tenant} did not index: {report.render()}")
    return index / namespace / name


def index_bakery(root: Path, embedder: Embedder) -> Path:
    """Mihiri Bakery's knowledge under root/knowledge, indexed under root/index."""
    return index_shop(bakery_shop(root), root / "index", embedder)


def column_names(shop: Shop) -> dict[str, set[str]]:
    """Every column name of the shop's spreadsheets, as its row chunks spell them, with the
    values under it."""
    columns: dict[str, set[str]] = {}
    for source in shop.spec["knowledge"]["sources"]:
        if source["type"] != "spreadsheet" or "file" not in source:
            continue
        path = shop.knowledge / source["file"]
        loaded = load_spreadsheet(path.read_bytes(), path.name, "", source.get("sheets", []))
        for document in loaded.documents:
            for block in document.blocks:
                if block.kind is not BlockKind.TABLE_ROW:
                    continue
                for cell in block.text.split(" | "):
                    if ": " in cell:
                        name, value = cell.split(": ", 1)
                        columns.setdefault(name, set()).add(value)
    return columns


def raw_columns(text: str, columns: dict[str, set[str]]) -> list[str]:
    """The column names a reply shows as a database would: "price_lkr 1800", "Item: Fish
    bun", "සිංහල නම මාළු බනිස්"; a word like "Item" in a sentence is not one."""
    folded = text.casefold()
    found = []
    for name, values in sorted(columns.items()):
        key = name.casefold()
        labels = (f"{key} {value.casefold()}" in folded for value in values)
        if f"{key}:" in folded or (not _prose(name) and key in folded) or any(labels):
            found.append(name)
    return found


def _prose(name: str) -> bool:
    """A header written as people write prose (letters, vowel signs and spaces, any script)
    is only raw when it labels a value ("Item: ..."); "price_lkr" or "Price (Rs.)" is raw
    anywhere."""
    return all(c.isspace() or c == "\u200d" or unicodedata.category(c)[0] in "LM" for c in name)


def wrong_script(lang: str, text: str) -> bool:
    """Sinhala script to a Tamil or Singlish question, Tamil script to a si/Singlish one."""
    if lang == "ta":
        return bool(_SINHALA.search(text))
    if lang == "si":
        return bool(_TAMIL.search(text))
    if lang == "singlish":
        return bool(_SINHALA.search(text) or _TAMIL.search(text))
    return False


@dataclass(frozen=True)
class Outcome:
    """One question asked: whether the reply is right and which rules it broke."""

    item: Labelled
    reply: AgentReply
    right: bool
    why: str  # "" when right
    raw: list[str]  # raw column names in the reply
    wrong_script: bool
    hit3: bool | None = None  # a right source among the top three passages (answerable only)

    def render(self) -> str:
        cited = [s.locator or s.uri for s in self.reply.sources]
        problems = [self.why] if self.why else []
        problems += [f"raw column names {self.raw}"] if self.raw else []
        problems += ["wrong script"] if self.wrong_script else []
        return (
            f"[{self.item.lang}] {self.item.q!r}: {'; '.join(problems)}\n"
            f"    handoff={self.reply.handoff} cited={cited}\n    reply: {self.reply.text!r}"
        )


def cites(item: Labelled, locator: str | None, uri: str) -> bool:
    """A passage or citation from a right source: a listed locator ("file:about.md" also
    covers its sections, "file:about.md#Opening hours"), or a URI examples/ name."""
    if locator is not None and any(
        locator == label or locator.startswith(f"{label}#") for label in item.sources
    ):
        return True
    return any(fragment in uri for fragment in item.uris)


def judge(item: Labelled, reply: AgentReply, columns: dict[str, set[str]]) -> Outcome:
    text = reply.text or ""
    folded = text.casefold()
    why = ""
    if item.handoff:
        why = "" if reply.handoff else "answered, should hand over"
    elif reply.handoff:
        why = "handed over, the knowledge answers it"
    elif not any(cites(item, s.locator, s.uri) for s in reply.sources):
        why = f"no right source cited (want {item.sources or item.uris})"
    elif item.expect and not any(e.casefold() in folded for e in item.expect):
        why = f"none of {item.expect} in the reply"
    elif missing := [e for e in item.expect_all if e.casefold() not in folded]:
        why = f"{missing} missing from the reply"
    if said := [n for n in item.never if n.casefold() in folded]:
        why = f"{said} must not be in the reply"
    return Outcome(
        item, reply, not why, why, raw_columns(text, columns), wrong_script(item.lang, text)
    )


class SettableClock:
    """The agent's clock: the labelled `at` while a question asked then is answered."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)


def ask_all(
    reply: Callable[[InboundMessage], AgentReply],
    tenant: str,
    items: Sequence[Labelled],
    columns: dict[str, set[str]],
    clock: SettableClock,
) -> list[Outcome]:
    """Each question from a new customer (a conversation of its own, even across calls: an
    earlier question's handoff or memory must not colour the next), at its `at` time where it
    has one."""
    outcomes = []
    for item in items:
        clock.at = item.asked_at
        customer = uuid.uuid4().hex[:16]
        message = InboundMessage(
            message_id=f"q-{customer}",
            tenant=tenant,
            conversation_id=f"labelled-{customer}",
            type=MessageType.TEXT,
            timestamp=clock(),
            text=item.q,
        )
        outcomes.append(judge(item, reply(message), columns))
    clock.at = None
    return outcomes
