"""Prometheus metrics with one registry per app, so tests and tenants never share counters."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_asgi_app,
)

# Latency buckets (seconds) that separate a webhook ack (ms) from an LLM answer (s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """Builds katha_<component>_* metrics in its own registry and exposes them."""

    def __init__(self, component: str, registry: CollectorRegistry | None = None) -> None:
        self.component = component
        self.registry = registry if registry is not None else CollectorRegistry()

    def _name(self, name: str) -> str:
        return f"katha_{self.component}_{name}"

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(self._name(name), documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(self._name(name), documentation, labels, registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        buckets: Iterable[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        return Histogram(
            self._name(name), documentation, labels, buckets=tuple(buckets), registry=self.registry
        )

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type, for a /metrics handler."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def asgi_app(self) -> Callable[..., Any]:
        """An ASGI app serving /metrics, to mount in FastAPI."""
        return make_asgi_app(registry=self.registry)
