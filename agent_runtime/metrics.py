"""The agent's Prometheus metrics: answers, latency, handoffs and what went unanswered, and
the refreshes of its index (katha_ingestion_*, which its writer Job records beside the
index and cannot serve itself: see ingestion.metrics)."""

from collections.abc import Callable

from prometheus_client import Counter, Histogram

from ingestion.index.runs import RunTotals
from ingestion.metrics import TotalsCollector
from katha.observability import Metrics


class AgentMetrics:
    def __init__(self, index_totals: Callable[[], RunTotals | None] | None = None) -> None:
        self.metrics = Metrics("agent")
        if index_totals is not None:
            self.metrics.registry.register(
                TotalsCollector(lambda: [totals] if (totals := index_totals()) else [])
            )
        self.answers: Counter = self.metrics.counter(
            "answers_total",
            "Replies sent, by language, intent, backend and outcome.",
            ["language", "intent", "backend", "outcome"],
        )
        self.retrieval_seconds: Histogram = self.metrics.histogram(
            "retrieval_seconds", "Time to search the index (hybrid search)."
        )
        self.generation_seconds: Histogram = self.metrics.histogram(
            "generation_seconds", "Time to write the answer.", ["backend"]
        )
        self.handoffs: Counter = self.metrics.counter(
            "handoffs_total", "Conversations handed to a person, by reason.", ["reason"]
        )
        self.unanswered: Counter = self.metrics.counter(
            "unanswered_total",
            "Questions the knowledge could not answer, by language.",
            ["language"],
        )
