"""Ingestion's Prometheus metrics, `katha_ingestion_*`, built from run totals.

Where they are exported:
- in a cluster, by the serving replicas: each run of the index writer records its totals
  beside the index (ingestion.index.runs) and the agents, which Prometheus scrapes, export
  the newest (agent_runtime.metrics). Every replica exports the same totals: aggregate
  with `max by (tenant)`, never `sum`;
- by a one-off run outside the operator (`katha ingest`, `python -m ingestion`), pushed to
  a Pushgateway when KATHA_INGEST_PUSHGATEWAY_URL is set (that run's numbers alone).
"""

import time
from collections.abc import Callable, Iterable, Iterator
from urllib.error import URLError

from prometheus_client import CollectorRegistry, push_to_gateway
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingestion.index.runs import RunTotals
from ingestion.report import Report
from katha.observability import get_logger

log = get_logger("ingestion")

# The Pushgateway job name; each tenant is its own group, so Jobs for different tenants
# never overwrite each other's numbers.
PUSH_JOB = "katha_ingestion"
PREFIX = "katha_ingestion_"


class TotalsCollector(Collector):
    """Exports whatever totals `source` gives at scrape time (one per tenant)."""

    def __init__(self, source: Callable[[], Iterable[RunTotals]]) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            f"{PREFIX}runs", "Index refreshes, by outcome.", labels=["tenant", "outcome"]
        )
        chunks = CounterMetricFamily(
            f"{PREFIX}chunks",
            "Chunks by what the refresh did: embedded, added, kept or removed.",
            labels=["tenant", "outcome"],
        )
        failures = CounterMetricFamily(
            f"{PREFIX}source_failures",
            "Sources that could not be indexed, by source type and reason.",
            labels=["tenant", "type", "reason"],
        )
        seconds = CounterMetricFamily(
            f"{PREFIX}embedding_seconds", "Time spent embedding chunks.", labels=["tenant"]
        )
        pages = CounterMetricFamily(
            f"{PREFIX}pages_parsed", "PDF and web pages parsed.", labels=["tenant", "type"]
        )
        index_chunks = GaugeMetricFamily(
            f"{PREFIX}index_chunks", "Chunks in the committed index.", labels=["tenant"]
        )
        last_success = GaugeMetricFamily(
            f"{PREFIX}last_success_timestamp_seconds",
            "When the index was last committed (Unix time).",
            labels=["tenant"],
        )
        last_run = GaugeMetricFamily(
            f"{PREFIX}last_run_timestamp_seconds",
            "When the newest refresh ended, good or not (Unix time).",
            labels=["tenant"],
        )
        for totals in self.source():
            tenant = totals.tenant
            for outcome, count in sorted(totals.runs.items()):
                runs.add_metric([tenant, outcome], count)
            for outcome, count in sorted(totals.chunks.items()):
                chunks.add_metric([tenant, outcome], count)
            for kind, reason, count in totals.source_failures:
                failures.add_metric([tenant, kind, reason], count)
            for kind, count in sorted(totals.pages.items()):
                pages.add_metric([tenant, kind], count)
            seconds.add_metric([tenant], totals.embedding_seconds)
            last_run.add_metric([tenant], totals.finished_at)
            if totals.last_success is not None:
                index_chunks.add_metric([tenant], totals.index_chunks)
                last_success.add_metric([tenant], totals.last_success)
        yield from (runs, chunks, failures, seconds, pages, index_chunks, last_success, last_run)


class IngestionMetrics:
    """The metrics of the runs observed here, in a registry of their own (what a one-off
    run pushes; tests read it too)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._totals: dict[str, RunTotals] = {}
        self.registry.register(TotalsCollector(lambda: list(self._totals.values())))

    def observe(self, report: Report, now: float | None = None) -> None:
        previous = self._totals.get(report.tenant) or RunTotals(tenant=report.tenant)
        self._totals[report.tenant] = previous.add(report, time.time() if now is None else now)

    def sample(self, name: str, **labels: str) -> float | None:
        """One sample's value, `name` without the katha_ingestion_ prefix."""
        value = self.registry.get_sample_value(f"{PREFIX}{name}", labels)
        return None if value is None else float(value)


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
                metrics.registry,
                grouping_key={"tenant": report.tenant},
                timeout=timeout_seconds,
            )
        except (OSError, URLError) as error:
            log.warning("metrics.push_failed", tenant=report.tenant, reason=str(error))
            pushed = False
    return pushed
