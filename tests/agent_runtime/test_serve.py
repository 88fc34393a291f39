"""The Ray Serve application, for real: one local Ray, two tenants, HTTP through Serve's proxy."""

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
import ray
from ports import free_port
from ray import serve

from agent_runtime.serve_app import build_app

from .bakery import bakery_spec, tea_shop_spec
from .conftest import BAKERY, TEA_SHOP, message

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def serve_url(
    indexed_root: Path, knowledge_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One Ray instance and Serve for the session, both tenants deployed from their args."""
    # Its own copy of the index: replicas write there (unanswered questions, refreshes),
    # and the other tests copy the session's index expecting it untouched.
    index = tmp_path_factory.mktemp("serve-index")
    shutil.copytree(indexed_root, index, dirs_exist_ok=True)
    # Replicas read their settings from the environment Ray starts them with; where the
    # knowledge files are comes with each tenant's args.
    environment = {"KATHA_AGENT_REPLICA_CPUS": "0.5"}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    port = free_port()
    owned = not ray.is_initialized()  # another suite's Ray instance serves as well
    if owned:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        for tenant, spec in ((BAKERY, bakery_spec()), (TEA_SHOP, tea_shop_spec())):
            args = {
                "tenant": tenant,
                "business": spec,
                "index_dir": str(index),
                "knowledge_dir": str(knowledge_dir),
            }
            name = tenant.split("/")[1]
            serve.run(build_app(args), name=name, route_prefix=f"/{name}")
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        if owned:
            ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{url}/v1/messages", json=body, timeout=30)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def test_each_tenant_answers_through_ray_serve_from_its_own_index(serve_url: str) -> None:
    bakery, tea = f"{serve_url}/mihiri", f"{serve_url}/dilmah-corner"
    reply = post(bakery, message("බටර් කේක් කීයද?"))
    assert "2,600" in reply["text"]
    assert reply["sources"][0]["locator"] == "page 2"
    assert "950" in post(tea, message("How much is 100 g of Uva tea?", tenant=TEA_SHOP))["text"]
    assert "950" not in (post(bakery, message("How much is 100 g of Uva tea?"))["text"] or "")
    assert httpx.get(f"{bakery}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{bakery}/readyz").status_code == 200
    stats = httpx.get(f"{bakery}/v1/index").json()
    assert (stats["state"], stats["chunks"]) == ("ready", 20)
    assert "katha_agent_answers_total" in httpx.get(f"{bakery}/metrics").text


def test_a_replica_gives_freed_memory_back_once_it_goes_quiet(serve_url: str) -> None:
    tea = f"{serve_url}/dilmah-corner"

    def trims() -> float:
        return _counter(httpx.get(f"{tea}/metrics").text, "katha_agent_heap_trims_total")

    before = trims()
    for question in ("How much is 100 g of Uva tea?", "Do you deliver?", "Opening hours?") * 4:
        post(tea, message(question, tenant=TEA_SHOP))
    # The replica's trimmer looks every 2 s; the first quiet look after this work trims.
    deadline = time.monotonic() + 30
    while trims() <= before:  # a look every 2 s at most: each is a request it serves
        assert time.monotonic() < deadline, "the replica never trimmed after going quiet"
        time.sleep(2.0)


def _counter(exposition: str, name: str) -> float:
    for line in exposition.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} is not exported")


def test_a_refresh_runs_as_a_ray_task_while_the_agent_keeps_answering(serve_url: str) -> None:
    bakery = f"{serve_url}/mihiri"
    assert httpx.post(f"{bakery}/v1/index/refresh").status_code == 202
    deadline = time.monotonic() + 90
    while httpx.get(f"{bakery}/v1/index").json()["state"] == "indexing":
        assert "6.30" in post(bakery, message("What time do you open?"))["text"]
        assert time.monotonic() < deadline, "the refresh did not finish"
        time.sleep(0.2)
    stats = httpx.get(f"{bakery}/v1/index").json()
    assert (stats["state"], stats["chunks"]) == ("ready", 20)


def test_build_app_refuses_invalid_args() -> None:
    with pytest.raises(pydantic.ValidationError):
        build_app({"tenant": "Not A Tenant", "business": bakery_spec()})
    with pytest.raises(pydantic.ValidationError):
        build_app({"tenant": BAKERY, "business": bakery_spec(), "surprise": 1})


def test_the_deployment_scales_by_the_businesss_scaling_settings() -> None:
    spec = bakery_spec(scaling={"minReplicas": 2, "maxReplicas": 5, "targetOngoingRequests": 3})
    app: Any = build_app({"tenant": BAKERY, "business": spec})
    deployment = app._bound_deployment._deployment_config
    config = deployment.autoscaling_config
    assert (config.min_replicas, config.max_replicas) == (2, 5)
    assert config.target_ongoing_requests == 3
    # A replica takes twice the target at once: a burst waits in it, not in proxy retries.
    assert deployment.max_ongoing_requests == 6
