"""Router benchmark: signed webhooks accepted per second (verify, dedupe, durable enqueue)
and acknowledgement latency, for both inbox backends, against a minimal `pywa` app under
the same load, with each server's peak memory.

    .venv/bin/python bench/router.py [--seconds 10] [--connections 32] [--rate 1000]

Needs `wrk` and `redis-server` (Debian packages) and the `pywa` package. Everything runs
on loopback. Each server is one uvicorn process (uvloop + httptools); the router runs with
its workers off (KATHA_ROUTER_WORKERS_ENABLED=false) so only acceptance is measured.
Targets (DESIGN.md): >= 4,000/s and >= 1.5x pywa; p99 ack < 50 ms at 1,000/s; < 300 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
# This file is bench/router.py: its folder must not shadow the `router` package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from router.signature import sign  # noqa: E402

sys.path.append(str(BENCH))
sys.path.append(str(REPO / "tests" / "support"))
from ports import free_port  # noqa: E402
from redis_server import launch_redis  # noqa: E402
from router_load import run_open_loop  # noqa: E402

PHONE_NUMBER_ID = "105954558954427"
APP_SECRET = "bench-app-secret-4f9a8b7c"
ACCESS_TOKEN = "EAAGbenchAccessToken0123456789"
VERIFY_TOKEN = "bench-verify-7c6d5e"

WRK_SCRIPT = """
local sigs, bodies, i = {}, {}, 0
init = function(args)
  for line in io.lines(args[1]) do
    local tab = line:find("\\t")
    sigs[#sigs + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
end
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/webhooks/whatsapp",
    {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = sigs[i]}, bodies[i])
end
"""


def webhook(n: int, run: str) -> bytes:
    """A text message webhook in Meta's current shape, with a unique message id."""
    sender = f"9477{n % 1_000_000:07d}"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "94112345678",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": "Nimal"},
                                    "wa_id": sender,
                                    "user_id": f"LK.{n:020d}",
                                }
                            ],
                            "messages": [
                                {
                                    "from": sender,
                                    "from_user_id": f"LK.{n:020d}",
                                    "id": f"wamid.HBgL{run}{n:010d}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": "Kottu thiyenawada? Keeyada?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_requests(count: int, run: str) -> list[tuple[bytes, dict[str, str]]]:
    requests = []
    for n in range(count):
        body = webhook(n, run)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, APP_SECRET.encode()),
        }
        requests.append((body, headers))
    return requests


def write_wrk_bodies(path: Path, requests: list[tuple[bytes, dict[str, str]]]) -> None:
    with path.open("wb") as out:
        for body, headers in requests:
            out.write(headers["X-Hub-Signature-256"].encode() + b"\t" + body + b"\n")


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start listening")


def start_router(workdir: Path, inbox_url: str) -> Server:
    routes = workdir / "routes.json"
    routes.write_text(
        json.dumps(
            {
                "routes": [
                    {
                        "phone_number_id": PHONE_NUMBER_ID,
                        "tenant": "tenants/bench",
                        "endpoint": "http://127.0.0.1:9/",
                        "credentials": {
                            "access_token": ACCESS_TOKEN,
                            "app_secret": APP_SECRET,
                            "verify_token": VERIFY_TOKEN,
                        },
                    }
                ]
            }
        )
    )
    port = free_port()
    env = {
        **os.environ,
        "KATHA_ROUTER_HOST": "127.0.0.1",
        "KATHA_ROUTER_PORT": str(port),
        "KATHA_ROUTER_ROUTES_FILE": str(routes),
        "KATHA_ROUTER_INBOX_URL": inbox_url,
        "KATHA_ROUTER_WORKERS_ENABLED": "false",
        "KATHA_ROUTER_LOG_FORMAT": "json",
        "KATHA_ROUTER_LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "router"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_listening(port, process)
    time.sleep(1.0)  # the routing table loads in the first poll
    return Server(f"router ({inbox_url.split(':')[0]})", process, port)


def start_pywa() -> Server:
    port = free_port()
    env = {
        **os.environ,
        "BENCH_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "BENCH_ACCESS_TOKEN": ACCESS_TOKEN,
        "BENCH_VERIFY_TOKEN": VERIFY_TOKEN,
        "BENCH_APP_SECRET": APP_SECRET,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(REPO / "bench"),
            "router_pywa_app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_listening(port, process)
    return Server("pywa (minimal)", process, port)


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    try:
        process, port = launch_redis(workdir)
    except FileNotFoundError as error:
        raise SystemExit(str(error)) from error
    wait_listening(port, process)
    return process, f"redis://127.0.0.1:{port}/0"


def run_wrk(
    port: int, script: Path, bodies: Path, seconds: int, connections: int
) -> dict[str, float]:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        str(bodies),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    output = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    latency = {
        label: _millis(re.search(rf"\s{label}%\s+([\d.]+\w+)", output).group(1))  # type: ignore[union-attr]
        for label in ("50", "99")
    }
    return {
        "rate": rate,
        "p50": latency["50"],
        "p99": latency["99"],
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def _millis(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def measure(server: Server, args: argparse.Namespace, workdir: Path, tag: str) -> dict[str, float]:
    closed = signed_requests(int(args.seconds * 9000), f"C{tag}")
    bodies = workdir / f"bodies-{tag}.tsv"
    write_wrk_bodies(bodies, closed)
    script = workdir / "post.lua"
    script.write_text(WRK_SCRIPT)
    warm = workdir / f"warm-{tag}.tsv"
    write_wrk_bodies(warm, signed_requests(3000, f"W{tag}"))
    run_wrk(server.port, script, warm, 1, args.connections)
    wrk = run_wrk(server.port, script, bodies, args.seconds, args.connections)
    opened = signed_requests(int(args.rate * args.open_seconds), f"O{tag}")
    result = asyncio.run(run_open_loop("127.0.0.1", server.port, opened, args.rate, 32))
    return {
        **wrk,
        "open_p50": result.percentile(0.50) * 1000,
        "open_p99": result.percentile(0.99) * 1000,
        "open_errors": float(result.errors + (result.sent - result.ok - result.errors)),
        "rss": server.peak_rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="closed-loop (wrk) duration")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=1000.0, help="open-loop requests/s")
    parser.add_argument("--open-seconds", type=float, default=5.0)
    parser.add_argument(
        "--rounds", type=int, default=1, help="interleaved rounds; the median is reported"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    rounds: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="katha-bench-") as tmp:
        workdir = Path(tmp)
        redis_process, redis_url = start_redis(workdir)
        try:
            for round_number in range(args.rounds):
                for name, starter in (
                    (
                        "router (sqlite)",
                        lambda: start_router(workdir, f"sqlite://{workdir}/inbox.db"),
                    ),
                    ("router (redis)", lambda: start_router(workdir, redis_url)),
                    ("pywa (minimal)", start_pywa),
                ):
                    server = starter()
                    tag = f"{name.split()[-1].strip('()')}{round_number}"
                    try:
                        rounds.setdefault(name, []).append(measure(server, args, workdir, tag))
                    finally:
                        server.stop()
            stored = (
                sqlite3.connect(workdir / "inbox.db")
                .execute("SELECT COUNT(*) FROM inbox")
                .fetchone()[0]
            )
        finally:
            redis_process.terminate()
            redis_process.wait(timeout=10)
    rows = {name: _median(results) for name, results in rounds.items()}
    pywa = rows["pywa (minimal)"]["rate"]
    print(
        f"\nSigned webhooks, wrk -t1 -c{args.connections} -d{args.seconds}s (closed loop); "
        f"open loop at {args.rate:.0f}/s for {args.open_seconds:.0f} s; 2 cores, loopback; "
        f"median of {args.rounds} interleaved round(s), peak RSS the highest.\n"
    )
    print(
        "| server | accepted/s | × pywa | p50 ms | p99 ms | non-2xx | p50 ms @"
        f"{args.rate:.0f}/s | p99 ms @{args.rate:.0f}/s | peak RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['rate']:,.0f} | {row['rate'] / pywa:.2f} | {row['p50']:.2f} | "
            f"{row['p99']:.2f} | {row['errors']:.0f} | {row['open_p50']:.2f} | "
            f"{row['open_p99']:.2f} | {row['rss']:.0f} |"
        )
    print(f"\nSQLite inbox rows after the run: {stored:,} (every accepted message, durably).")
    print("Targets: >= 4,000/s and >= 1.5x pywa; p99 < 50 ms at 1,000/s; RSS < 300 MiB.")


def _median(results: list[dict[str, float]]) -> dict[str, float]:
    merged = {key: statistics.median(r[key] for r in results) for key in results[0]}
    merged["rss"] = max(r["rss"] for r in results)
    return merged


if __name__ == "__main__":
    main()
