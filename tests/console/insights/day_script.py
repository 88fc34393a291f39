"""The scripted day of the insights browser test (test_insights_browser.py): who writes
what at which Colombo time, what the agent does with it, and the figures the insights page
must show for it, computed from the script as the issue defines each figure (imported by
name: conftest.py puts this folder on the path)."""

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

COLOMBO = ZoneInfo("Asia/Colombo")

AgentDoes = Literal["answers", "hands over", "not asked"]
# What the agent does that the customer gets words from (a handover says a person will reply).
REPLIES: tuple[AgentDoes, ...] = ("answers", "hands over")


@dataclass(frozen=True)
class Says:
    """A customer's message at a Colombo time, and what the shop's real agent does with it
    after `thinks` seconds: answers (in `language`), hands the conversation to a person
    (telling the customer so, in `language`), or is not asked (the conversation is with a
    person). The messages are chosen from what the shop's knowledge answers and what it
    does not; the test checks the agent did as written before it counts anything."""

    at: time
    who: str
    text: str
    agent: AgentDoes
    language: str | None = None
    thinks: int = 0


@dataclass(frozen=True)
class OwnerReplies:
    """The owner writes to `to` from the WhatsApp Business app at a Colombo time."""

    at: time
    to: str
    text: str


KASUN, NIMALI, ANNE, KUMAR, SUNIL = (f"9477000000{n}" for n in range(1, 6))
SCRIPT: list[Says | OwnerReplies] = [
    Says(time(8, 0), KASUN, "fish bun ekak kiyada?", "answers", "singlish", 20),
    Says(time(8, 5), KASUN, "sthuthiyi", "answers", "singlish", 40),
    Says(time(9, 30), NIMALI, "ඔබ විවෘත වන්නේ කීයටද?", "answers", "si", 30),
    Says(time(11, 15), ANNE, "How much is a fish bun?", "answers", "en", 60),
    Says(time(11, 20), ANNE, "What are your opening hours?", "answers", "en", 15),
    Says(time(13, 0), KUMAR, "நீங்கள் எத்தனை மணிக்கு திறப்பீர்கள்?", "answers", "ta", 25),
    Says(time(13, 10), KUMAR, "திருமண கேக் ஆர்டர் செய்யலாமா?", "hands over", "ta", 5),
    Says(time(13, 12), KUMAR, "விலை என்ன?", "not asked"),
    OwnerReplies(time(13, 20), KUMAR, "Yes, from Rs 15,000. Which date?"),
    Says(time(13, 25), KUMAR, "சரி, நன்றி", "not asked"),  # nobody writes back: unanswered
    Says(time(18, 45), SUNIL, "what are your   opening hours?", "answers", "en", 45),
]


def scripted_day() -> date:
    """A Sunday at least a week after today (in Colombo)."""
    later = datetime.now(COLOMBO).date() + timedelta(days=7)
    return later + timedelta(days=6 - later.weekday())


# What the script implies, computed from the script as the issue defines each figure.


@dataclass(frozen=True)
class Expected:
    customers: int
    messages: int
    answered_by_agent: int
    handed_to_person: int
    median_reply_seconds: float
    unanswered: int
    languages: dict[str, int]
    questions: list[tuple[str, int]]


def expected(script: list[Says | OwnerReplies]) -> Expected:
    said = [step for step in script if isinstance(step, Says)]
    replies: dict[str, list[tuple[int, str]]] = {}  # customer: (second of the day, author)
    for step in script:
        if isinstance(step, OwnerReplies):
            replies.setdefault(step.to, []).append((seconds(step.at), "person"))
        elif step.agent in REPLIES:
            replies.setdefault(step.who, []).append((seconds(step.at) + step.thinks, "agent"))
    waits, by_agent = [], 0
    for step in said:  # each message against the first reply after it
        after = sorted(r for r in replies.get(step.who, []) if r[0] > seconds(step.at))
        if after:
            waits.append(after[0][0] - seconds(step.at))
            by_agent += after[0][1] == "agent"
    language = {s.who: s.language for s in said if s.agent in REPLIES}  # the agent's last
    counted = Counter(" ".join(s.text.lower().split()) for s in said)
    return Expected(
        customers=len({step.who for step in said}),
        messages=len(said),
        answered_by_agent=by_agent,
        handed_to_person=sum(step.agent == "hands over" for step in said),
        median_reply_seconds=statistics.median(waits),
        unanswered=len(said) - len(waits),
        languages={c: list(language.values()).count(c) for c in ("si", "en", "singlish", "ta")},
        questions=sorted(counted.items(), key=lambda item: (-item[1], item[0])),
    )


def seconds(at: time) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


def as_shown(seconds: float) -> str:
    """A time to reply as the page writes it (45 s, 3 min)."""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min"


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%"
