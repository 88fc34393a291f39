"""The owner's loop on what the agent could not answer: the unanswered (and handed-over)
questions grouped by meaning, and a trial question that no customer sees.

Grouping. Customers ask one question in Sinhala, in Singlish and in English; the owner
should answer it once. Each question is embedded twice with the agent's own embedder
(multilingual e5): its content words (grammar dropped), which bring Sinhala, Tamil and
English of one meaning together, and their romanised, folded spelling
(`fold_romanized(romanize(...))`), which brings Sinhala script and Singlish (e5 knows
little Singlish) together. Pairs are scored with CSLS (see below), questions are taken
oldest first and each joins the group it is closest to on average when either form is
close enough (greedy average linkage: unlike single linkage, a long chain of near
neighbours cannot melt every question into one group). The thresholds were tuned on
../shared/data (Dakshina Sinhala/Singlish and FLoRes Sinhala/English pairs, see
bench/unanswered_groups.py and docs/owner-console/answers.md).

Trial. `POST /v1/try` runs the agent's own graph on a question with no checkpointer (no
conversation memory), throwaway metrics (customer metrics untouched), no tracer and no
unanswered entry; only `katha_agent_trials_total` counts it.
"""

import dataclasses
import hashlib
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from prometheus_client import Counter

from agent_runtime.agent import Agent, _sources
from agent_runtime.context import Context
from agent_runtime.graph import build_graph
from agent_runtime.metrics import AgentMetrics
from agent_runtime.state import fresh_turn
from agent_runtime.unanswered import Unanswered
from ingestion.embedding import QueryEmbedder, uncached
from katha.lang import fold_romanized, normalize, romanize
from katha.lang.function_words import content_words
from katha.observability import bind_ids

Vector = npt.NDArray[np.float32]

# e5 finds every Sinhala text close to every other (cosine ~0.87) and Sinhala far from
# English, so raw cosine cannot tell a translation from another question. Scores are
# CSLS instead: 2·cos(a, b) − r(a) − r(b), where r(x) is x's mean cosine to its
# `BACKGROUND_NEAREST` nearest questions in `BACKGROUND`, a fixed set of everyday
# questions on other subjects in each language: a pair counts only as far as it is closer
# than each is to questions about something else.
# A question joins a group when the score of its content words reaches NATIVE_THRESHOLD,
# or that of their folded romanised spelling reaches ROMAN_THRESHOLD (tuned on
# ../shared/data: see docs/owner-console/answers.md).
NATIVE_THRESHOLD = 0.02
ROMAN_THRESHOLD = 0.04
BACKGROUND_NEAREST = 5
BACKGROUND: tuple[tuple[str, str], ...] = (
    ("en", "How much is the parking fee?"),
    ("en", "Is there a toilet for customers?"),
    ("en", "Who is the manager here?"),
    ("en", "Can I bring my dog inside?"),
    ("en", "Do you sell gift vouchers?"),
    ("en", "Is the road to your shop flooded?"),
    ("en", "What is your email address?"),
    ("en", "Do you have a branch in Galle?"),
    ("si", "වාහන නවත්වන්න ගාස්තුව කීයද?"),
    ("si", "පාරිභෝගිකයන්ට වැසිකිළියක් තියෙනවද?"),
    ("si", "මෙහි කළමනාකරු කවුද?"),
    ("si", "මගේ බල්ලා ඇතුළට ගේන්න පුළුවන්ද?"),
    ("si", "තෑගි වවුචර් විකුණනවද?"),
    ("si", "ඔබේ කඩයට යන පාර ගංවතුරෙන් යටවෙලාද?"),
    ("si", "ඔබේ ඊමේල් ලිපිනය මොකක්ද?"),
    ("si", "ගාල්ලේ ශාඛාවක් තියෙනවද?"),
    ("singlish", "wahana nawaththanna gasthuwa kiyada?"),
    ("singlish", "customerslata toilet ekak thiyenawada?"),
    ("singlish", "methana manager kawda?"),
    ("singlish", "mage balla athulata genna puluwanda?"),
    ("singlish", "gift voucher wikunanawada?"),
    ("singlish", "kadeta yana para gangathurata yata welada?"),
    ("singlish", "oyage email address eka mokakda?"),
    ("singlish", "galle branch ekak thiyenawada?"),
    ("ta", "வாகன நிறுத்த கட்டணம் எவ்வளவு?"),
    ("ta", "வாடிக்கையாளர்களுக்கு கழிப்பறை உள்ளதா?"),
    ("ta", "இங்கே மேலாளர் யார்?"),
    ("ta", "என் நாயை உள்ளே கொண்டு வரலாமா?"),
    ("ta", "பரிசு வவுச்சர்கள் விற்கிறீர்களா?"),
    ("ta", "உங்கள் மின்னஞ்சல் முகவரி என்ன?"),
)
# Example questions shown per group, and embeddings kept in memory between calls.
EXAMPLES = 3
CACHED_TEXTS = 2048


@dataclass(frozen=True)
class QuestionGroup:
    id: str  # a hash of the member ids: the same members, the same id
    representative: str  # the member nearest the group's centre, as the customer wrote it
    representative_language: str
    count: int
    languages: dict[str, int]
    reasons: dict[str, int]  # why it was not answered ("unanswered": nobody to hand to)
    first_seen: datetime
    last_seen: datetime
    ids: list[int]
    examples: list[Unanswered]  # a few members, one per language first
    members: list[Unanswered]  # every member, oldest first (resolving names each one)


class QuestionGrouper:
    """Groups questions by meaning with one embedder, remembering the vectors it made."""

    def __init__(
        self,
        embedder: QueryEmbedder,
        *,
        native_threshold: float = NATIVE_THRESHOLD,
        roman_threshold: float = ROMAN_THRESHOLD,
    ) -> None:
        self._embedder = embedder
        self.native_threshold, self.roman_threshold = native_threshold, roman_threshold
        self._cache: OrderedDict[str, tuple[Vector, Vector]] = OrderedDict()
        self._lock = threading.Lock()
        self._background_vectors: tuple[Vector, Vector] | None = None

    def vectors(self, text: str, language: str) -> tuple[Vector, Vector]:
        """The unit vectors of the question's content words (its grammar dropped: "pizza
        thiyenawada" and "job vacancy thiyenawada" share only grammar) and of their folded
        romanised spelling."""
        key = f"{language}\n{text}"
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        native = content_words(normalize(text), language, keep_verbs=True) or normalize(text)
        roman = fold_romanized(romanize(native)) or native
        pair = (self._unit(native), self._unit(roman))
        with self._lock:
            self._cache[key] = pair
            while len(self._cache) > CACHED_TEXTS:
                self._cache.popitem(last=False)
        return pair

    def group(self, questions: list[Unanswered]) -> list[QuestionGroup]:
        """Groups, the most asked first (then the most recently asked)."""
        ordered = sorted(questions, key=lambda item: (item.at, item.id))
        if not ordered:
            return []
        scores = self._scores(ordered)
        forming: list[list[int]] = []
        for index in range(len(ordered)):
            # Average linkage: the group whose members are, on average, close enough.
            best, best_score = None, 0.0
            for members in forming:
                score = float(scores[index, members].mean())
                if score >= best_score:
                    best, best_score = members, score
            if best is None:
                forming.append([index])
            else:
                best.append(index)
        groups = [self._finish([ordered[i] for i in members]) for members in forming]
        return sorted(groups, key=lambda g: (-g.count, -g.last_seen.timestamp(), g.id))

    def _scores(self, questions: list[Unanswered]) -> Vector:
        """For each pair, the larger margin of its two CSLS scores over their thresholds."""
        pairs = [self.vectors(q.text, q.language) for q in questions]
        native = np.stack([p[0] for p in pairs])
        roman = np.stack([p[1] for p in pairs])
        background = self._background()
        result: Vector = np.maximum(
            _csls(native, background[0]) - self.native_threshold,
            _csls(roman, background[1]) - self.roman_threshold,
        )
        return result

    def _background(self) -> tuple[Vector, Vector]:
        """BACKGROUND's vectors (both forms), made once."""
        with self._lock:
            made = self._background_vectors
        if made is None:
            pairs = [self.vectors(text, language) for language, text in BACKGROUND]
            made = (np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]))
            with self._lock:
                self._background_vectors = made
        return made

    def _finish(self, members: list[Unanswered]) -> QuestionGroup:
        native = np.stack([self.vectors(q.text, q.language)[0] for q in members])
        nearest = members[int(np.argmax(native @ native.sum(axis=0)))]  # nearest the centre
        ids = sorted(q.id for q in members)
        return QuestionGroup(
            id=group_id(ids),
            representative=nearest.text,
            representative_language=nearest.language,
            count=len(members),
            languages=_counts(q.language for q in members),
            reasons=_counts(q.reason or "unanswered" for q in members),
            first_seen=min(q.at for q in members),
            last_seen=max(q.at for q in members),
            ids=ids,
            examples=_examples(members, nearest),
            members=sorted(members, key=lambda q: (q.at, q.id)),
        )

    def _unit(self, text: str) -> Vector:
        vector = np.asarray(self._embedder.embed_query(text), dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector


def group_id(ids: list[int]) -> str:
    """Stable while the group's members are the same: 16 hex digits of their ids' hash."""
    joined = ",".join(str(number) for number in sorted(ids))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def _csls(vectors: Vector, background: Vector) -> Vector:
    """CSLS of every pair of unit vectors: 2·cos − r(a) − r(b), where r is a vector's mean
    cosine to its BACKGROUND_NEAREST nearest neighbours among the fixed background and
    the other questions (a list of long questions is its own best background)."""
    cosines = vectors @ vectors.T
    others = cosines - 3 * np.eye(len(vectors), dtype=cosines.dtype)  # not itself
    around = np.concatenate([vectors @ background.T, others], axis=1)
    hubness = np.sort(around, axis=1)[:, -BACKGROUND_NEAREST:].mean(axis=1)
    result: Vector = 2 * cosines - hubness[:, None] - hubness[None, :]
    return result


def _counts(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _examples(members: list[Unanswered], first: Unanswered) -> list[Unanswered]:
    """The representative, then one question per other language, then the newest."""
    chosen = [first]
    for question in reversed(members):
        if len(chosen) >= EXAMPLES:
            break
        if question.language not in {q.language for q in chosen}:
            chosen.append(question)
    for question in reversed(members):
        if len(chosen) >= EXAMPLES:
            break
        if question not in chosen:
            chosen.append(question)
    return chosen


@dataclass
class _AgentExtras:
    grouper: QuestionGrouper
    trial_context: Context
    trials: Counter
    graph: Any = None


_EXTRAS: weakref.WeakKeyDictionary[Agent, _AgentExtras] = weakref.WeakKeyDictionary()
_EXTRAS_LOCK = threading.Lock()


def extras(agent: Agent) -> _AgentExtras:
    """This agent's grouper (its vector cache) and trial set-up, made on first use."""
    with _EXTRAS_LOCK:
        found = _EXTRAS.get(agent)
        if found is None:
            trials = agent.metrics.metrics.counter(
                "trials_total", "Questions the owner tried in the console (never a customer's)."
            )
            # Its own metrics: a trial's retrieval, generation and misses are not customers'.
            context = dataclasses.replace(agent.context, metrics=AgentMetrics())
            found = _EXTRAS[agent] = _AgentExtras(
                QuestionGrouper(uncached(agent.knowledge.embedder)),
                context,
                trials,
                build_graph(None),
            )
        return found


def grouped(agent: Agent) -> list[QuestionGroup]:
    return extras(agent).grouper.group(agent.unanswered.all())


def trial(agent: Agent, text: str) -> dict[str, Any]:
    """The agent's full answer to `text` as a customer would get it, kept nowhere."""
    setup = extras(agent)
    setup.trials.inc()
    with bind_ids(tenant=agent.args.tenant):
        state = setup.graph.invoke(
            fresh_turn(text, None), {"configurable": {}}, context=setup.trial_context
        )
    return {
        "text": state["answer"],
        "language": state["reply_language"],
        "intent": state["intent"],
        "confidence": state["confidence"],
        "sources": [source.model_dump(mode="json") for source in _sources(state)],
        "handoff": state["handoff"],
        "handoff_reason": state["handoff_reason"],
    }
