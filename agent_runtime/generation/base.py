"""The interface both responders implement, and what they are given and give back."""

from dataclasses import dataclass, field
from typing import Protocol

from agent_runtime.retrieval import Passage
from agent_runtime.state import Turn
from agent_runtime.websearch import WebResult
from katha.api.business import Persona


@dataclass(frozen=True)
class Question:
    """Everything a responder may use: nothing else reaches the answer."""

    text: str
    reply_language: str
    passages: list[Passage]
    business: str
    persona: Persona
    web_results: list[WebResult] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)
    now: str | None = None  # the business's local time, when the customer asks about now
    # A follow-up's own words ("Samsung" of "and for Samsung?"): `text` is then the previous
    # question with them, and the lines holding them are the answer.
    focus: tuple[str, ...] = ()
    # What the customer wrote in, when the reply is in another language (English bridging
    # for a Tamil customer of a Sinhala-only shop): its script rules still hold.
    customer_language: str = ""


@dataclass(frozen=True)
class Draft:
    text: str
    language: str  # the language `text` is written in
    used: list[Passage]  # the passages it states facts from, for citation
    backend: str  # "llm" | "grounded"
    web: list[WebResult] = field(default_factory=list)


class Responder(Protocol):
    @property
    def backend(self) -> str: ...

    def answer(self, question: Question) -> Draft | None:
        """An answer from the question's passages only, or None when they do not hold one."""
        ...

    def translate(self, draft: Draft, language: str, persona: Persona) -> Draft:
        """The draft in `language`, or as close as honesty allows."""
        ...
