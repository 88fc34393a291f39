"""What the graph carries through one customer message, and the conversation it remembers."""

from dataclasses import dataclass, field
from typing import Annotated

from agent_runtime.retrieval import Passage
from agent_runtime.websearch import WebResult

# Turns of the conversation kept in memory (a customer and an agent message each count).
HISTORY_TURNS = 12
# Owner notes whose message ids are remembered, so a redelivered echo is not kept twice.
NOTES_REMEMBERED = 64


@dataclass(frozen=True)
class Turn:
    # "customer" | "agent" | "owner": the owner, a person, writing from the WhatsApp
    # Business app on the business's number (katha.contracts.messages.OwnerNote)
    role: str
    text: str
    language: str


def keep_recent(history: list[Turn], new: list[Turn]) -> list[Turn]:
    """The history reducer: append, then forget all but the last HISTORY_TURNS turns."""
    return [*history, *new][-HISTORY_TURNS:]


def keep_recent_notes(noted: list[str], new: list[str]) -> list[str]:
    """The reducer of owner-note ids: append, then forget all but the last NOTES_REMEMBERED."""
    return [*noted, *new][-NOTES_REMEMBERED:]


def owner_turns(history: list[Turn]) -> list[Turn]:
    """What the owner said in this conversation, oldest first."""
    return [turn for turn in history if turn.role == "owner"]


@dataclass
class State:
    """One message's way through the graph; only `history` and `noted` outlive the message."""

    message: str = ""
    previous_language: str | None = None
    known_language: str | None = None  # decided before the graph (see fresh_turn)
    language: str = "unknown"  # what the customer wrote in
    reply_language: str = "en"  # what the customer should get
    intent: str = "question"
    passages: list[Passage] = field(default_factory=list)
    # A message asking two things ("what time do you open and do you deliver?"): each part,
    # its passages and whether they answer it; empty for a message asking one thing.
    parts: list[str] = field(default_factory=list)
    part_passages: list[list[Passage]] = field(default_factory=list)
    part_enough: list[bool] = field(default_factory=list)
    # What was searched for a short follow-up ("and for Samsung?"): the previous question
    # with the follow-up's own words, and those words ("Samsung"); empty otherwise.
    query: str = ""
    focus: list[str] = field(default_factory=list)
    web_results: list[WebResult] = field(default_factory=list)
    enough: bool = False
    confidence: float = 0.0
    answer: str | None = None
    answer_language: str = "en"
    used: list[Passage] = field(default_factory=list)  # the passages the answer rests on
    backend: str = "persona"
    handoff: bool = False
    handoff_reason: str | None = None
    unanswered: bool = False  # a question the knowledge (and the web) could not answer
    history: Annotated[list[Turn], keep_recent] = field(default_factory=list)
    # The message ids of the owner notes kept in `history`: a redelivery is recognised by them.
    noted: Annotated[list[str], keep_recent_notes] = field(default_factory=list)


def fresh_turn(
    message: str, previous_language: str | None, known_language: str | None = None
) -> dict[str, object]:
    """The input for a new message: every per-message field reset, the history kept.
    `known_language` is the customer's language when it was decided before the message
    reached the graph (a media message's, from its caption), and is then not detected."""
    return {
        "message": message,
        "previous_language": previous_language,
        "known_language": known_language,
        "language": "unknown",
        "reply_language": "en",
        "intent": "question",
        "passages": [],
        "parts": [],
        "part_passages": [],
        "part_enough": [],
        "query": "",
        "focus": [],
        "web_results": [],
        "enough": False,
        "confidence": 0.0,
        "answer": None,
        "answer_language": "en",
        "used": [],
        "backend": "persona",
        "handoff": False,
        "handoff_reason": None,
        "unanswered": False,
    }
