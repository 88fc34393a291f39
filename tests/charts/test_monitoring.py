"""Monitoring: a ServiceMonitor for the router's /metrics, a PodMonitor for the agents' (whose
pods the operator renders), and a Grafana dashboard whose queries use only metrics the router
and the agents really expose."""

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from katha_chart import Manifest, one
from prometheus_client import Metric

from ingestion.metrics import IngestionMetrics
from ingestion.report import Report
from router.metrics import RouterMetrics

GOLDEN = Path(__file__).resolve().parents[1] / "business_operator" / "golden"


def exposed_series() -> set[str]:
    """Every series name the router's registry can expose (counters end in _total, ...)."""
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}
    ingestion = IngestionMetrics()
    ingestion.observe(Report(tenant="t/t", index_path="", chunks=1))
    metrics: list[Metric] = [
        *RouterMetrics().metrics.registry.collect(),
        *ingestion.registry.collect(),
    ]
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


def _agent_pods() -> Iterator[dict[str, Any]]:
    """Every pod template the operator renders for a Business (golden files), with the
    labels it gets: Ray head and workers, and the plain Deployment."""
    for path in sorted(GOLDEN.glob("*business*.yaml")):
        for manifest in yaml.safe_load_all(path.read_text()):
            spec = manifest.get("spec", {}) if manifest else {}
            groups = [spec.get("rayClusterConfig", {}).get("headGroupSpec", {})]
            groups += spec.get("rayClusterConfig", {}).get("workerGroupSpecs", [])
            groups += [spec] if manifest and manifest["kind"] == "Deployment" else []
            for group in groups:
                if "template" in group:
                    yield group["template"]


def test_pod_monitor_scrapes_every_agent_pod_the_operator_renders_on_its_serving_port(
    rendered: Callable[[str], list[Manifest]],
) -> None:
    monitor = one(rendered("monitoring"), "PodMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["namespaceSelector"] == {"any": True}  # Businesses live anywhere
    (expression,) = monitor["spec"]["selector"]["matchExpressions"]
    endpoints = {endpoint["port"]: endpoint for endpoint in monitor["spec"]["podMetricsEndpoints"]}
    pods = list(_agent_pods())
    assert len(pods) >= 5
    for pod in pods:
        assert expression == {"key": "katha.dev/business", "operator": "Exists"}
        assert expression["key"] in pod["metadata"]["labels"]
        names = {port.get("name") for c in pod["spec"]["containers"] for port in c.get("ports", [])}
        scraped = names & endpoints.keys()
        # Exactly one port a pod serves the agent (and so /metrics) on: 8000, which the
        # tenant NetworkPolicy opens to Prometheus.
        assert len(scraped) == 1, names
        (name,) = scraped
        numbers = {p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", [])
                   if p.get("name") == name}  # fmt: skip
        assert numbers == {8000}
        assert endpoints[name]["path"] == "/metrics"


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
        "Knowledge refreshes per tenant",
        "Hours since the knowledge was last refreshed",
        "Meta's account signals per tenant",
        "Business-initiated messages by purpose and result",
    } <= titles
    by_title = {panel["title"]: panel["targets"][0]["expr"] for panel in dashboard["panels"]}
    assert "sum by (tenant, language)" in by_title["Answers per tenant and language"]


def test_monitoring_is_off_by_default(rendered: Callable[[str], list[Manifest]]) -> None:
    kinds = {m["kind"] for m in rendered("default")}
    assert not kinds & {"ServiceMonitor", "PodMonitor", "ConfigMap"}
