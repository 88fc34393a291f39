"""The agent's Prometheus metrics: answers, latency, handoffs and what went unanswered."""

from prometheus_client import Counter, Histogram

from katha.observability import Metrics


class AgentMetrics:
    def __init__(self) -> None:
        self.metrics = Metrics("agent")
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
