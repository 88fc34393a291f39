"""Monitoring: a ServiceMonitor for the router's /metrics and a Grafana dashboard whose queries
use only metrics the router really exposes."""

import json
import re
from collections.abc import Callable

from katha_chart import Manifest, one
from prometheus_client import Metric

from router.metrics import RouterMetrics


def exposed_series() -> set[str]:
    """Every series name the router's registry can expose (counters end in _total, ...)."""
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}
    metrics: list[Metric] = list(RouterMetrics().metrics.registry.collect())
    return {metric.name + suffix for metric in metrics for suffix in suffixes[metric.type]}


def test_service_monitor_scrapes_the_router_service_metrics_port(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    manifests = rendered("monitoring")
    monitor = one(manifests, "ServiceMonitor")
    service = one(manifests, "Service", "katha-router")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}


def test_dashboard_config_map_is_found_by_grafanas_sidecar(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    config_map = one(rendered("monitoring"), "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["katha-router.json"])
    assert dashboard["uid"] == "katha-router"


def test_dashboard_shows_traffic_latency_inbox_handoffs_and_send_errors_from_real_metrics(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    config_map = one(rendered("monitoring"), "ConfigMap")
    dashboard = json.loads(config_map["data"]["katha-router.json"])
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for query in queries for name in re.findall(r"\bkatha_[a-z_]+", query)}
    exposed = exposed_series()
    assert used <= exposed, f"the router does not expose {sorted(used - exposed)}"
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert {
        "Answers per tenant and language",
        "Answer latency",
        "Inbox depth and age",
        "Send errors by result and code",
        "Handoffs to a person per tenant",
    } <= titles
    by_title = {panel["title"]: panel["targets"][0]["expr"] for panel in dashboard["panels"]}
    assert "sum by (tenant, language)" in by_title["Answers per tenant and language"]


def test_monitoring_is_off_by_default(rendered: Callable[[str], list[Manifest]]) -> None:
    kinds = {m["kind"] for m in rendered("default")}
    assert not kinds & {"ServiceMonitor", "ConfigMap"}
