"""Answers written by any OpenAI-compatible chat endpoint (vLLM, OpenAI, llama.cpp's server).

The model sees only the retrieved facts (and what the owner told this customer) and is asked
to answer in the customer's language and script in one call. Its answer is checked before it
is sent: a link, phone number, e-mail address, price or other number that no fact, owner's
note or the question holds means the model made it up, and one stating none of the facts the
grounded answer states talks around the question; an answer in the wrong script (Sinhala
letters to a Tamil reader, or in a Singlish reply) is not sent either. Either way, and when
the model is down or takes longer than the Business's budget for the message (answer and
translation together), the grounded responder answers instead: a plain answer in time beats
a fluent one after the customer has gone.
"""

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from pydantic import SecretStr

from agent_runtime.generation.base import Draft, Question
from agent_runtime.generation.grounded import GroundedResponder
from agent_runtime.generation.grounding import (
    UNGROUNDED_KINDS,
    derived,
    drew_on,
    evidence,
    hands_over,
    shares_a_fact,
    uncited,
    ungrounded,
    written_in,
)
from agent_runtime.prompts import system_prompt, translate_prompt
from agent_runtime.state import Turn
from katha.api.business import Model, Persona
from katha.contracts.serving import LlmEndpoint
from katha.lang import romanize
from katha.observability import get_logger

log = get_logger("agent")
DEFAULT_BUDGET_SECONDS: float = Model.model_fields["answer_budget_seconds"].default
# Why an answer came from the grounded responder instead of the model.
FALLBACK_REASONS = ("budget", "ungrounded", "language", "error")
# The deadline of the message being answered, when its parts share one: a context variable,
# so that messages answered at once on other threads keep their own.
_MESSAGE_DEADLINE: ContextVar[float | None] = ContextVar("llm_message_deadline", default=None)


class BudgetSpentError(Exception):
    """The message's deadline passed before the model answered."""


@dataclass(eq=False)  # registered in a registry, which hashes it
class Fallbacks(Collector):
    """How often the grounded responder answered for the model, by reason, and which kinds
    of invented facts were caught: kept here so that a bench can read them and the agent's
    metrics registry can expose them (register this collector)."""

    reasons: Counter[str] = field(default_factory=Counter)
    ungrounded: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, reason: str, kinds: set[str] | None = None) -> None:
        with self._lock:
            self.reasons[reason] += 1
            self.ungrounded.update(kinds or ())

    def collect(self) -> Iterator[CounterMetricFamily]:
        with self._lock:
            reasons, kinds = dict(self.reasons), dict(self.ungrounded)
        for name, about, label, keys, counts in (
            ("fallbacks", "Answers the grounded responder wrote for the model", "reason",
             FALLBACK_REASONS, reasons),
            ("ungrounded", "Model answers not sent for stating what no fact holds (or none "
             "of the facts that answer)", "kind", UNGROUNDED_KINDS, kinds),
        ):  # fmt: skip
            family = CounterMetricFamily(
                f"katha_agent_llm_{name}", f"{about}, by {label}.", labels=[label]
            )
            for key in keys:
                family.add_metric([key], counts.get(key, 0))
            yield family


class LlmResponder:
    def __init__(
        self,
        endpoint: LlmEndpoint,
        *,
        api_key: str | None,
        temperature: float = 0.2,
        max_tokens: int = 512,
        timeout_seconds: float = 20.0,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    ) -> None:
        # Imported here, not with the module: langchain_openai brings openai, tiktoken and
        # aiohttp (tens of MiB), which a replica answering with the built-in responder
        # never needs.
        from langchain_openai import ChatOpenAI

        # No retries: within a budget of a few seconds a second try never fits, and the
        # grounded answer is ready at once.
        self._chat = ChatOpenAI(
            model_name=endpoint.model,
            openai_api_base=endpoint.base_url,
            openai_api_key=SecretStr(api_key or "unused"),
            temperature=temperature,
            max_tokens=max_tokens,
            request_timeout=timeout_seconds,
            max_retries=0,
        )
        self._budget = min(budget_seconds, timeout_seconds)
        self._fallback = GroundedResponder()
        self.fallbacks = Fallbacks()

    @property
    def backend(self) -> str:
        return "llm"

    def answer(self, question: Question) -> Draft | None:
        deadline = self._deadline()  # one deadline for the whole message, all parts of it
        messages: list[BaseMessage] = [SystemMessage(system_prompt(question))]
        messages += [_message(turn) for turn in question.history]
        messages.append(HumanMessage(question.text))
        try:
            text = self._complete(messages, deadline)
        except BudgetSpentError:
            return self._fall_back(question, "budget")
        except Exception as error:  # the endpoint is down or refused: answer without it
            log.warning("generation.failed", backend="llm", reason=type(error).__name__)
            return self._fall_back(question, "error")
        if hands_over(text):
            return None
        said = uncited(text)  # "[2]" is a citation, not a number the customer reads
        grounded = self._fallback.answer(question)  # quick: no model, copied lines
        kinds = ungrounded(said, evidence(question), derived(question))
        if grounded is not None and not shares_a_fact(said, grounded.text):
            kinds.add("missing_fact")
        if kinds:
            log.warning("generation.ungrounded", backend="llm", kinds=sorted(kinds))
            return self._fall_back(question, "ungrounded", kinds, grounded)
        used = drew_on(text, question.passages, question.reply_language)
        draft = Draft(said, "", used, self.backend, question.web_results)
        return self._in_language(draft, question, deadline)

    def translate(self, draft: Draft, language: str, persona: Persona) -> Draft:
        """The graph's translation step. The model's own answers arrive translated already
        (within the message's budget), so what reaches here is the grounded responder's,
        which it translates the way it does without a model."""
        if draft.backend != self.backend:
            return self._fallback.translate(draft, language, persona)
        try:
            text = self._translate(draft.text, language, self._deadline())
        except Exception as error:
            log.warning("translation.failed", backend="llm", reason=type(error).__name__)
            return self._fallback.translate(draft, language, persona)
        if text is None:
            return self._fallback.translate(draft, language, persona)
        return Draft(text, language, draft.used, draft.backend, draft.web)

    def _in_language(self, draft: Draft, question: Question, deadline: float) -> Draft | None:
        """The answer in the reply language: as the model wrote it when it already is (no
        second call), else translated by it in what is left of the message's budget."""
        language = question.reply_language
        if written_in(draft.text, language):
            return Draft(draft.text, language, draft.used, draft.backend, draft.web)
        try:
            text = self._translate(draft.text, language, deadline)
        except BudgetSpentError:
            return self._fall_back(question, "budget")
        except Exception as error:
            log.warning("translation.failed", backend="llm", reason=type(error).__name__)
            return self._fall_back(question, "error")
        if text is None:
            return self._fall_back(question, "language")
        return Draft(text, language, draft.used, draft.backend, draft.web)

    def _translate(self, text: str, language: str, deadline: float) -> str | None:
        """`text` in `language`, or None when the model's translation is not in it (or says
        a number the text does not): Sinhala becomes Singlish by romanising, no call."""
        if language == "singlish" and written_in(text, "si"):
            return romanize(text)
        messages = [SystemMessage(translate_prompt(language)), HumanMessage(text)]
        translated = uncited(self._complete(messages, deadline))
        if ungrounded(translated, [text]):
            log.warning("translation.ungrounded", backend="llm")
            return None
        if not written_in(translated, language):
            log.warning("translation.wrong_language", backend="llm", language=language)
            return None
        return translated

    def _fall_back(
        self,
        question: Question,
        reason: str,
        kinds: set[str] | None = None,
        grounded: Draft | None = None,
    ) -> Draft | None:
        self.fallbacks.count(reason, kinds)
        if reason == "budget":
            log.warning("generation.over_budget", backend="llm", budget_seconds=self._budget)
        return grounded if grounded is not None else self._fallback.answer(question)

    def _deadline(self) -> float:
        """The message's deadline while `message_deadline` runs, else a budget from now."""
        return _MESSAGE_DEADLINE.get() or time.monotonic() + self._budget

    def _complete(self, messages: list[BaseMessage], deadline: float) -> str:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BudgetSpentError
        try:
            reply = self._chat.invoke(messages, timeout=left)
        except Exception:
            if time.monotonic() >= deadline - 0.05:  # it timed out on the budget
                raise BudgetSpentError from None
            raise
        return reply.content if isinstance(reply.content, str) else str(reply.content)


@contextmanager
def message_deadline(responder: object) -> Iterator[None]:
    """One answer budget for all `responder` does inside (the parts of one message), not
    one per call; nothing for a responder without a model. Nested, the outer one holds."""
    if not isinstance(responder, LlmResponder) or _MESSAGE_DEADLINE.get() is not None:
        yield
        return
    token = _MESSAGE_DEADLINE.set(time.monotonic() + responder._budget)
    try:
        yield
    finally:
        _MESSAGE_DEADLINE.reset(token)


def _message(turn: Turn) -> BaseMessage:
    """A turn of the conversation as the model sees it: the customer is the user, the agent
    the assistant, and the owner (a person) the business's side under the name "owner"."""
    if turn.role == "customer":
        return HumanMessage(turn.text)
    if turn.role == "owner":
        return AIMessage(turn.text, name="owner")
    return AIMessage(turn.text)
