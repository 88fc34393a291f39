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

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from pydantic import SecretStr

from agent_runtime.generation.base import Draft, Question
from agent_runtime.generation.grounded import GroundedResponder
from agent_runtime.hours import HOURS_SOURCE
from agent_runtime.languages import customer_language, language_family, readable_by
from agent_runtime.prompts import HANDOFF_MARKER, PRICE, sums, system_prompt, translate_prompt
from agent_runtime.retrieval import Passage
from agent_runtime.state import Turn, owner_turns
from katha.api.business import Model, Persona
from katha.contracts.serving import LlmEndpoint
from katha.lang import romanize
from katha.lang.script import count_letters
from katha.observability import get_logger

log = get_logger("agent")
DEFAULT_BUDGET_SECONDS: float = Model.model_fields["answer_budget_seconds"].default
# Why an answer came from the grounded responder instead of the model.
FALLBACK_REASONS = ("budget", "ungrounded", "language", "error")
# What an answer was caught stating that no fact holds, or leaving out ("missing_fact": none
# of the facts the grounded answer states).
UNGROUNDED_KINDS = ("url", "email", "phone", "price", "number", "missing_fact")

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>()\[\]\"']+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|lk|net|org|info|biz|io|co|me|app|store|shop|online|site|ly|gl"
    r"|to|be|tv|page|link)\b(?:/[^\s<>()\[\]\"']*)?",
    re.IGNORECASE,
)
# A Sri Lankan or international phone number: 9 to 14 digits, spaced or dashed as people do.
_PHONE = re.compile(r"(?<![\w+])\+?\d(?:[ -]?\d){8,13}(?!\w)")
_COUNTED = "one two three four five six seven eight nine ten".split()  # noqa: SIM905
_NUMBER_WORDS = {word: str(number) for number, word in enumerate(_COUNTED, start=1)}
# The markers the prompt asks the model to cite facts with: "[2]", "[hours]", "[W1]".
_CITATION = re.compile(r"\s*\[(\d+|W\d+|hours|owner|now|calc)\]", re.IGNORECASE)
_WORD = re.compile(r"\w{3,}")


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
        deadline = time.monotonic() + self._budget  # one deadline for the whole message
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
        if _hands_over(text):
            return None
        said = uncited(text)  # "[2]" is a citation, not a number the customer reads
        grounded = self._fallback.answer(question)  # quick: no model, copied lines
        kinds = ungrounded(said, evidence(question), derived(question))
        if grounded is not None and not _shares_a_fact(said, grounded.text):
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
            text = self._translate(draft.text, language, time.monotonic() + self._budget)
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


def _message(turn: Turn) -> BaseMessage:
    """A turn of the conversation as the model sees it: the customer is the user, the agent
    the assistant, and the owner (a person) the business's side under the name "owner"."""
    if turn.role == "customer":
        return HumanMessage(turn.text)
    if turn.role == "owner":
        return AIMessage(turn.text, name="owner")
    return AIMessage(turn.text)


def _shares_a_fact(answer: str, grounded: str) -> bool:
    """Whether the model's answer states one of the facts (a number, link, phone number,
    e-mail address) the grounded answer states, when that states any: an answer with none
    of them, where the facts hold some, talks around the question (a 135M-parameter model,
    asked about Poya days, wrote of a "special account" and no hours)."""
    facts = stated_facts(grounded)
    return not facts or bool(facts & stated_facts(answer))


def _hands_over(text: str) -> bool:
    """An empty answer, or the marker anywhere in it: small models add words around it, and
    the marker must never reach a customer."""
    return not text.strip() or re.search(rf"\b{HANDOFF_MARKER}\b", text) is not None


def written_in(text: str, language: str) -> bool:
    """Whether `text` is a reply in `language` as its reader expects it: Sinhala and Tamil
    mostly in their own script (a brand name in Latin letters is fine), Singlish and English
    in Latin letters only and told apart by the detector. The hard rule, never Sinhala
    script to a Tamil reader nor Tamil to a Sinhala one, holds for all."""
    if not readable_by(text, language):
        return False
    letters = count_letters(text)
    if language == "si":
        return letters.sinhala > 0 and 2 * letters.sinhala >= letters.latin
    if language == "ta":
        return letters.tamil > 0 and 2 * letters.tamil >= letters.latin
    if letters.sinhala or letters.tamil:
        return language == "en" and letters.latin > letters.sinhala + letters.tamil
    detected, _ = customer_language(text, None)
    return detected == "singlish" if language == "singlish" else detected != "singlish"


def evidence(question: Question) -> list[str]:
    """Everything the model was shown that a fact may be copied from."""
    texts = [question.text, question.now or "", question.business]
    texts.append(question.persona.instructions or "")
    texts += [p.text for p in question.passages]
    texts += [p.source_uri for p in question.passages]
    texts += [f"{r.url} {r.title} {r.snippet}" for r in question.web_results]
    texts += [turn.text for turn in owner_turns(question.history)]  # "ready at 5 pm"
    return texts


def derived(question: Question) -> set[str]:
    """The totals the prompt works out for the model (2 kg of a Rs. 2,600 cake)."""
    return {_canonical(str(total)) for _, _, total in sums(question)}


def ungrounded(
    text: str, sources: list[str], also: set[str] | frozenset[str] = frozenset()
) -> set[str]:
    """The kinds of fact ("url", "email", "phone", "price", "number") that `text` states
    and none of `sources` does; `also` are numbers known besides them (worked-out totals)."""
    known = "\n".join(sources)  # phone numbers never run across two sources
    plain_known = _plain_url(known)
    numbers = _numbers(known) | set(also)
    phones = {_phone(p) for p in _PHONE.findall(known)}
    kinds: set[str] = set()
    rest = text
    for email in _EMAIL.findall(rest):
        if email.casefold() not in known.casefold():
            kinds.add("email")
    rest = _EMAIL.sub(" ", rest)
    for url in _URL.findall(rest):
        if _plain_url(url).strip("/.,;:!?") not in plain_known:
            kinds.add("url")
    rest = _URL.sub(" ", rest)
    for phone in _PHONE.findall(rest):
        if _phone(phone) not in phones:
            kinds.add("phone")
    rest = _PHONE.sub(" ", rest)
    for match in PRICE.finditer(rest):
        if _canonical(match.group(1) or match.group(2)) not in numbers:
            kinds.add("price")
    rest = PRICE.sub(" ", rest)
    if unsupported_numbers(rest, [known], also):
        kinds.add("number")
    return kinds


def unsupported_numbers(
    text: str, evidence: list[str], also: set[str] | frozenset[str] = frozenset()
) -> set[str]:
    """Numbers in `text` that appear in none of `evidence` ("4,800" and "4800" are one, so
    are "6.30" and "6:30", "09:00" and "9", "two" and "2")."""
    known = set(also).union(*(_numbers(source) for source in evidence))
    return {number for number in _NUMBER.findall(text) if _canonical(number) not in known}


def _numbers(text: str) -> set[str]:
    """The numbers `text` states, each also as its parts (the hour of "09:00", and the
    12-hour clock's hour of "15:00"), and the small numbers it writes as words."""
    known: set[str] = set()
    for number in _NUMBER.findall(text):
        known.add(_canonical(number))
        if re.fullmatch(r"\d{1,2}[.:]\d{2}", number):
            hour = int(re.split(r"[.:]", number)[0])
            known.update({str(hour), str(hour - 12 if hour > 12 else hour)})
    words = re.findall(r"[a-z]+", text.casefold())
    known.update(_NUMBER_WORDS[word] for word in words if word in _NUMBER_WORDS)
    return known


def _canonical(number: str) -> str:
    whole, _, fraction = number.replace(",", "").replace(":", ".").partition(".")
    whole = whole.lstrip("0") or "0"
    return f"{whole}.{fraction}" if fraction.strip("0") else whole


def _phone(number: str) -> str:
    """A phone number as its national digits: "+94 77 123 4567" is "0771234567"."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("94") and len(digits) == 11:
        return "0" + digits[2:]
    return "0" + digits if len(digits) == 9 else digits


def _plain_url(text: str) -> str:
    return re.sub(r"https?://|www\.", "", text.casefold())


def stated_facts(text: str) -> set[str]:
    """The checkable facts `text` states, each written one way: links, e-mail addresses,
    phone numbers and numbers (prices among them), to compare two answers by."""
    emails = {email.casefold() for email in _EMAIL.findall(text)}
    rest = _EMAIL.sub(" ", text)
    urls = {_plain_url(url).strip("/.,;:!?") for url in _URL.findall(rest)}
    rest = _URL.sub(" ", rest)
    phones = {_phone(phone) for phone in _PHONE.findall(rest)}
    numbers = {_canonical(number) for number in _NUMBER.findall(_PHONE.sub(" ", rest))}
    return emails | urls | phones | numbers


def drew_on(text: str, passages: list[Passage], language: str) -> list[Passage]:
    """The passages an answer states facts from: those it cites ([2], [hours]); without
    citations, those sharing a number, link or address with it, those in the reply's
    `language` first (the same FAQ in two languages); else the one sharing the most words;
    all of them when it shares nothing we can see."""
    cited: list[Passage] = []
    for marker in (m.group(1).casefold() for m in _CITATION.finditer(text)):
        if marker.isdigit() and 0 < int(marker) <= len(passages):
            cited.append(passages[int(marker) - 1])
        elif marker == "hours":
            cited += [p for p in passages if p.source == HOURS_SOURCE]
    if cited:
        return list({id(p): p for p in cited}.values())
    stated = _numbers(_EMAIL.sub(" ", _URL.sub(" ", text)))
    sharing = [p for p in passages if stated & _numbers(p.text) - {"0", "1"}]
    if sharing:
        family = language_family(language)
        return sorted(sharing, key=lambda p: language_family(p.language) != family)
    words = {w.casefold() for w in _WORD.findall(text)}
    overlap = [len(words & {w.casefold() for w in _WORD.findall(p.text)}) for p in passages]
    if overlap and max(overlap) > 0:
        return [passages[overlap.index(max(overlap))]]
    return passages


def uncited(text: str) -> str:
    """The answer as the customer reads it: the fact numbers are for us, not for them."""
    return re.sub(r"[ \t]+([.,!?])", r"\1", _CITATION.sub("", text)).strip()
