"""Each app gets its own Prometheus registry with katha_<component>_ metrics."""

import httpx
import pytest
from fastapi import FastAPI

from katha.observability import Metrics


def test_metrics_are_prefixed_and_exposed() -> None:
    metrics = Metrics("router")
    accepted = metrics.counter("messages_accepted_total", "Webhook messages accepted", ["tenant"])
    latency = metrics.histogram("ack_seconds", "Time to acknowledge a webhook")
    accepted.labels(tenant="ceylon-spice").inc(3)
    latency.observe(0.004)
    body, content_type = metrics.exposition()
    text = body.decode()
    assert 'katha_router_messages_accepted_total{tenant="ceylon-spice"} 3.0' in text
    assert 'katha_router_ack_seconds_bucket{le="0.005"} 1.0' in text
    assert content_type.startswith("text/plain")


def test_two_apps_never_share_counters() -> None:
    first, second = Metrics("agent"), Metrics("agent")
    first.counter("answers_total", "Answers").inc()
    second.counter("answers_total", "Answers")
    assert b"katha_agent_answers_total 0.0" in second.exposition()[0]
    assert b"katha_agent_answers_total 1.0" in first.exposition()[0]


def test_registering_a_name_twice_in_one_app_fails_loudly() -> None:
    metrics = Metrics("operator")
    metrics.gauge("tenants", "Tenants")
    with pytest.raises(ValueError, match="Duplicated"):
        metrics.gauge("tenants", "Tenants")


async def test_asgi_app_serves_metrics_inside_fastapi() -> None:
    metrics = Metrics("router")
    metrics.counter("webhooks_total", "Webhooks").inc()
    app = FastAPI()
    app.mount("/metrics", metrics.asgi_app())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://katha") as client:
        response = await client.get("/metrics/")
    assert response.status_code == 200
    assert "katha_router_webhooks_total 1.0" in response.text
