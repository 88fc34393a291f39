"""Ingestion's Prometheus metrics, taken from refresh reports and pushed by the Job."""

import time
from urllib.error import URLError

from prometheus_client import Counter, Gauge, push_to_gateway

from ingestion.report import Report
from katha.observability import Metrics, get_logger

log = get_logger("ingestion")

# The Pushgateway job name; each tenant is its own group, so Jobs for different tenants
# never overwrite each other's numbers.
PUSH_JOB = "katha_ingestion"


class IngestionMetrics:
    """katha_ingestion_* metrics. A Job lives for one run, so these count that run; the
    Pushgateway keeps each tenant's last run (and when it last succeeded)."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics if metrics is not None else Metrics("ingestion")
        m = self.metrics
        self.chunks: Counter = m.counter(
            "chunks_total",
            "Chunks by what the refresh did: embedded, added, kept or removed.",
            ["tenant", "outcome"],
        )
        self.source_failures: Counter = m.counter(
            "source_failures_total",
            "Sources that could not be indexed, by source type and reason.",
            ["tenant", "type", "reason"],
        )
        self.embedding_seconds: Counter = m.counter(
            "embedding_seconds_total", "Time spent embedding chunks.", ["tenant"]
        )
        self.pages: Counter = m.counter(
            "pages_parsed_total", "PDF and web pages parsed.", ["tenant", "type"]
        )
        self.index_chunks: Gauge = m.gauge(
            "index_chunks", "Chunks in the committed index.", ["tenant"]
        )
        self.last_success: Gauge = m.gauge(
            "last_success_timestamp_seconds",
            "When the index was last committed (Unix time).",
            ["tenant"],
        )

    def observe(self, report: Report) -> None:
        tenant = report.tenant
        self.embedding_seconds.labels(tenant).inc(report.embedding_seconds)
        for source in report.sources:
            if source.pages:
                self.pages.labels(tenant, source.type).inc(source.pages)
            if source.reason:
                self.source_failures.labels(tenant, source.type or "unknown", source.reason).inc()
        if report.error:
            return
        counts = {
            "embedded": report.embedded,
            "added": sum(source.added for source in report.sources),
            "kept": sum(source.kept for source in report.sources),
            "removed": sum(source.removed for source in report.sources),
        }
        for outcome, count in counts.items():
            self.chunks.labels(tenant, outcome).inc(count)
        self.index_chunks.labels(tenant).set(report.chunks)
        self.last_success.labels(tenant).set(time.time())


def push_reports(reports: list[Report], gateway: str, timeout_seconds: float) -> bool:
    """Push each tenant's metrics to the Pushgateway at `gateway` (replacing that tenant's
    previous run). A Pushgateway that is down costs the metrics, never the index: the
    failure is logged and False returned."""
    pushed = True
    for report in reports:
        metrics = IngestionMetrics()
        metrics.observe(report)
        try:
            push_to_gateway(
                gateway,
                PUSH_JOB,
                metrics.metrics.registry,
                grouping_key={"tenant": report.tenant},
                timeout=timeout_seconds,
            )
        except (OSError, URLError) as error:
            log.warning("metrics.push_failed", tenant=report.tenant, reason=str(error))
            pushed = False
    return pushed
