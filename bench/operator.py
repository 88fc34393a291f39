"""Benchmark: how fast the operator reconciles many Businesses against the emulator.

    .venv/bin/python bench/operator.py [--tenants 500]

Starts the Kubernetes emulator in this process with N Businesses (and their credential
Secrets) already stored, then the real operator as a separate `kopf run` process, and
measures the time until every Business has its children and a status; then the
latency from creating one more Business to its first status, and the operator's peak
RSS. The emulator is a Python process too: on two cores it competes with the operator.
"""

import argparse
import base64
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))

from kube_emulator import running_emulator  # noqa: E402


def _secret(namespace: str, name: str) -> dict[str, Any]:
    values = {
        "accessToken": "EAAG-bench-0123456789",
        "appSecret": "bench-secret-01",
        "verifyToken": "bench-verify-01",
    }
    data = {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        # Granted to its Business, as the operator requires of every Secret it uses.
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"katha.dev/business": name.removesuffix("-whatsapp")},
        },
        "data": data,
    }


def _business(namespace: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": f"shop-{index:04d}", "namespace": namespace},
        "spec": {
            "displayName": f"Shop {index}",
            "whatsapp": {
                "phoneNumberId": str(200000000000000 + index),
                "credentialsSecretRef": {"name": f"shop-{index:04d}-whatsapp"},
            },
            "agent": {"workload": "deployment"},
            "knowledge": {"sources": [{"type": "faq", "items": [{"q": "Open?", "a": "9 to 5"}]}]},
        },
    }


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _create(http: httpx.Client, index: int, namespaces: int) -> tuple[str, str]:
    namespace = f"bench-{index % namespaces}"
    secret = _secret(namespace, f"shop-{index:04d}-whatsapp")
    http.post(f"/api/v1/namespaces/{namespace}/secrets", json=secret).raise_for_status()
    business = _business(namespace, index)
    path = f"/apis/katha.dev/v1alpha1/namespaces/{namespace}/businesses"
    http.post(path, json=business).raise_for_status()
    return namespace, business["metadata"]["name"]


def _has_status(http: httpx.Client, namespace: str, name: str) -> bool:
    path = f"/apis/katha.dev/v1alpha1/namespaces/{namespace}/businesses/{name}"
    return bool((http.get(path).json().get("status") or {}).get("phase"))


def _reconciled(http: httpx.Client, namespaces: int) -> int:
    count = 0
    for number in range(namespaces):
        path = f"/apis/katha.dev/v1alpha1/namespaces/bench-{number}/businesses"
        items = http.get(path).json()["items"]
        count += sum(1 for item in items if (item.get("status") or {}).get("phase"))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--latency-samples", type=int, default=50)
    parser.add_argument("--log", default="/tmp/katha-operator-bench.log", help="operator's log")
    args = parser.parse_args()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # one line per request
    log = Path(args.log).open("w")  # noqa: SIM115 - closed with the operator
    with running_emulator(kuberay=False) as (_, url):
        http = httpx.Client(base_url=url, timeout=30)
        # The tenants exist before the operator starts, as after an operator restart:
        # what is timed is the operator working through all of them.
        for index in range(args.tenants):
            _create(http, index, args.namespaces)
        env = {
            **os.environ,
            "KATHA_OPERATOR_KUBE_API_URL": url,
            "KATHA_OPERATOR_RECONCILE_INTERVAL_SECONDS": "600",
            "KATHA_OPERATOR_LOG_LEVEL": "warning",
            "KATHA_OPERATOR_LOG_FORMAT": "json",
        }
        command = [sys.executable, "-m", "kopf", "run", "--all-namespaces", "--standalone"]
        command += ["--quiet", "-m", "business_operator.main"]
        start = time.monotonic()
        operator = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            done = 0
            deadline = start + 600
            while done < args.tenants and time.monotonic() < deadline:
                time.sleep(2)  # listing is not free for the emulator either
                done = _reconciled(http, args.namespaces)
            total = time.monotonic() - start
            deployments = sum(
                len(http.get(f"/apis/apps/v1/namespaces/bench-{n}/deployments").json()["items"])
                for n in range(args.namespaces)
            )
            # Latency: one new Business at a time, from creation to its first status.
            latencies = []
            for index in range(args.tenants, args.tenants + args.latency_samples):
                created = time.monotonic()
                namespace, name = _create(http, index, args.namespaces)
                while not _has_status(http, namespace, name):
                    time.sleep(0.01)
                latencies.append(time.monotonic() - created)
            rss = _peak_rss_mib(operator.pid)
        finally:
            operator.terminate()
            operator.wait(30)
            log.close()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    rows = [
        ("Businesses waiting at operator start", str(args.tenants)),
        ("all with children and status", f"{total:.1f} s (target: 500 within 60 s)"),
        ("reconciled / with a Deployment", f"{done} / {deployments}"),
        (f"reconcile latency p50 (n={len(latencies)})", f"{statistics.median(latencies):.3f} s"),
        ("reconcile latency p99", f"{p99:.3f} s"),
        ("operator peak RSS", f"{rss:.0f} MiB (target: < 250 MiB)"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"| {'operator benchmark'.ljust(width)} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
