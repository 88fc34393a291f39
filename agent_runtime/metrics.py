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
        self.heap_trims: Counter = self.metrics.counter(
            "heap_trims_total",
            "Times the replica gave freed memory back to the system after going quiet.",
        )
        self.handoffs: Counter = self.metrics.counter(
            "handoffs_total", "Conversations handed to a person, by reason.", ["reason"]
        )
        self.unanswered: Counter = self.metrics.counter(
            "unanswered_total",
            "Questions the knowledge could not answer, by language.",
            ["language"],
        )
        # Customers' media (agent_runtime.media): what came of each voice note, photo and
        # document, why one could not be read, and how long the models took.
        self.media: Counter = self.metrics.counter(
            "media_total",
            "Media messages, by kind (voice_note, photo, document, other) and outcome "
            "(transcribed, described, read, caption, handed_over, asked_to_type).",
            ["kind", "outcome"],
        )
        self.media_failures: Counter = self.metrics.counter(
            "media_failures_total",
            "Media not read, by kind and reason (no_model, timeout, refused, unreachable, "
            "no_speech, conversion, unreadable, or the router's too_large, daily_limit, ...).",
            ["kind", "reason"],
        )
        self.transcription_seconds: Histogram = self.metrics.histogram(
            "transcription_seconds",
            "Time to transcribe a voice note, failures included.",
            buckets=MODEL_CALL_BUCKETS,
        )
        self.vision_seconds: Histogram = self.metrics.histogram(
            "vision_seconds",
            "Time to describe a photo, failures included.",
            buckets=MODEL_CALL_BUCKETS,
        )


# A speech or vision model takes seconds, not milliseconds.
MODEL_CALL_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60)
