"""CPU time and memory of a process tree, by part of Katha, read from /proc.

RSS counts a shared library in every process that maps it (Ray's core library is in each
Ray worker), so a tree's RSS sum overstates what it holds; PSS shares each page among the
processes that map it and sums to what the tree really costs the machine.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from processes import descendants  # tests/support: on the path of every bench using this

TICKS = os.sysconf("SC_CLK_TCK")


def pandas_note() -> str:
    """Whether this environment has pandas: Ray Serve imports it in every Serve process
    when it is installed (the `ray-data` extra, which `./scripts/test` and CI install; a
    default install and the image have none), 30-40 MiB each."""
    if importlib.util.find_spec("pandas") is None:
        return "pandas: not installed, as in a default install (Serve's processes lack it)"
    return (
        "pandas: installed here (the ray-data extra), so every Serve process imports it, "
        "30-40 MiB each; a default install (`pip install katha`, the image) has none"
    )


# The parts a reply passes through, by what each process's command line says it is.
PARTS = (
    ("replica", "agent replicas"),
    ("proxy", "Serve proxy"),
    ("router", "katha up's router and console"),
    ("ray", "Ray (controller, GCS, raylet, agents)"),
    ("graph", "the local Graph API (Meta's stand-in, not Katha)"),
)
# The thread of katha up's process that serves the local Graph API (katha_cli names it).
GRAPH_THREAD = "katha-graph"


def part_of(command: str) -> str:
    if "ServeReplica" in command:
        return "replica"
    if "ProxyActor" in command:
        return "proxy"
    if "katha_cli" in command:
        return "router"
    return "ray"


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """CPU seconds of a process (all its threads), or of one of its threads."""
    stat = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_by_part(root: int) -> dict[str, float]:
    """CPU seconds each part of the tree has used so far (children's included as they run)."""
    totals = dict.fromkeys((key for key, _ in PARTS), 0.0)
    for pid, command in descendants(root).items():
        part = part_of(command)
        totals[part] += cpu_seconds(pid)
        if part == "router":  # the Graph API stand-in's thread is Meta's part, not Katha's
            graph = sum(cpu_seconds(pid, task) for task in threads(pid, GRAPH_THREAD))
            totals["router"] -= graph
            totals["graph"] += graph
    return totals


def threads(pid: int, name: str) -> list[int]:
    """The threads of `pid` whose operating-system name is `name`."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            if (task / "comm").read_text().strip() == name:
                found.append(int(task.name))
        except OSError:
            continue
    return found


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


@dataclass
class Peak:
    rss: int = 0
    pss: int = 0
    replica_rss: int = 0  # the largest single replica
    replica_pss: int = 0


@dataclass
class PeakMemory:
    """Samples the tree's memory every second while a round runs; keeps the peaks."""

    root: int
    peak: Peak = field(default_factory=Peak)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        rss = pss = 0
        for pid, command in descendants(self.root).items():
            one_rss, one_pss = memory(pid)
            rss, pss = rss + one_rss, pss + one_pss
            if part_of(command) == "replica":
                self.peak.replica_rss = max(self.peak.replica_rss, one_rss)
                self.peak.replica_pss = max(self.peak.replica_pss, one_pss)
        self.peak.rss, self.peak.pss = max(self.peak.rss, rss), max(self.peak.pss, pss)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
