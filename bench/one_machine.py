"""End-to-end benchmark of `katha up`: signed webhook -> router -> Ray Serve -> agent (the
built-in responder) -> Graph API (the local outbox), on this machine.

    .venv/bin/python bench/one_machine.py [--messages 200] [--concurrency 1 4 16]

Starts `katha up examples --quiet` in a fresh state folder, sends the labelled questions of
examples/questions.yaml (both tenants, every language) as customers would, each from its
own number, and reports per concurrency: replies per second, webhook-to-reply latency
p50/p99 (time until the reply reached the outbox), failures, and the peak resident memory
of the whole process tree (router, Ray, both agents' replicas).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

sys.path.append(str(REPO / "tests" / "support"))
from katha_up import UpFailedError, start_katha_up  # noqa: E402

from katha_cli.local.chat import ChatError, Customer  # noqa: E402
from katha_cli.local.state import UpState, read_state  # noqa: E402


def tree_rss_bytes(root: int) -> int:
    """Resident memory of `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class PeakMemory:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, tree_rss_bytes(self.pid))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def start_up(state_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    try:
        return start_katha_up(REPO / "examples", state_dir, log, "--quiet", timeout=900)
    except UpFailedError as error:
        sys.exit(str(error))


def run_round(
    state: UpState, questions: list[dict[str, str]], count: int, concurrency: int, offset: int
) -> tuple[list[float], int, float]:
    tenants = {tenant.name: tenant for tenant in state.tenants}

    def one(n: int) -> float | None:
        question = questions[n % len(questions)]
        number = f"9471{offset + n:07d}"  # one customer per message: no sender throttling
        customer = Customer(
            state, tenants[question["tenant"]], number=number, timeout=60, quiet_seconds=0
        )
        with customer:
            try:
                answer = customer.ask(question["text"])
            except (ChatError, httpx.HTTPError):
                return None
        return answer.seconds if answer.tracking is not None else None

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - started
    latencies = [result for result in results if result is not None]
    return latencies, len(results) - len(latencies), elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()

    questions = yaml.safe_load((REPO / "examples" / "questions.yaml").read_text())["questions"]
    with tempfile.TemporaryDirectory(prefix="katha-bench-") as folder:
        state_dir, log = Path(folder) / "state", Path(folder) / "up.log"
        began = time.perf_counter()
        process = start_up(state_dir, log)
        startup = time.perf_counter() - began
        state = read_state(state_dir)
        rows = []
        try:
            run_round(state, questions, 20, 2, offset=0)  # warm-up: models, caches, pools
            offset = 1000
            for concurrency in args.concurrency:
                with PeakMemory(process.pid) as memory:
                    latencies, failed, elapsed = run_round(
                        state, questions, args.messages, concurrency, offset
                    )
                offset += args.messages
                rows.append((concurrency, latencies, failed, elapsed, memory.peak))
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(120)

    load = os.getloadavg()[0]
    print(f"\nkatha up on {os.cpu_count()} CPUs: started in {startup:.1f} s (fresh indexes)")
    print(
        f"{len(questions)} labelled questions (2 tenants; en, si, singlish, ta), "
        f"built-in responder, load average {load:.2f}\n"
    )
    print("| concurrency | replies | replies/s | p50 ms | p99 ms | failed | peak RSS (all) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for concurrency, latencies, failed, elapsed, peak in rows:
        p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
        p99 = percentile(latencies, 0.99) * 1000 if latencies else float("nan")
        print(
            f"| {concurrency} | {len(latencies)} | {len(latencies) / elapsed:.1f} | {p50:.0f} "
            f"| {p99:.0f} | {failed} | {peak / 2**20:.0f} MiB |"
        )


if __name__ == "__main__":
    main()
