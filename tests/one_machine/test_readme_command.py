"""The README's first command, run as a user would: it sets up the machine, starts
`katha up` on the bundled examples, and the two bilingual businesses answer signed
webhooks through the real router, Ray Serve and agents; Ctrl-C stops it all cleanly."""

import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from ports import free_port

from katha_cli.local.chat import Customer
from katha_cli.local.state import STATE_FILE, UpState, read_state

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
START_TIMEOUT = 900.0  # a fresh machine installs, indexes both businesses, starts Ray


def readme_command(number: int) -> str:
    """The NUMBERth command of the README's "Two commands" section."""
    section = (ROOT / "README.md").read_text().split("## Two commands", 1)[1]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return str(blocks[number - 1].strip())


def readme_lines() -> list[str]:
    """Every line of the README's bash blocks."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [line for block in blocks for line in block.splitlines()]


def labelled() -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = yaml.safe_load((EXAMPLES / "questions.yaml").read_text())[
        "questions"
    ]
    return questions


def source_uris(tenant: str) -> dict[str, str]:
    """A fragment of the URI the agent cites for each named source of the tenant."""
    spec = yaml.safe_load((EXAMPLES / tenant / "business.yaml").read_text())["spec"]
    fragments = {}
    for source in spec["knowledge"]["sources"]:
        location = source.get("file") or source.get("url") or f"inline:{source['name']}"
        fragments[source["name"]] = location.rstrip("/")
    return fragments


class Up:
    def __init__(self, command: str, state_dir: Path, log: Path) -> None:
        self.state_dir = state_dir
        self.log = log
        env = {
            **os.environ,
            "KATHA_STATE_DIR": str(state_dir),
            "KATHA_UP_PORT": str(free_port()),
        }
        with log.open("wb") as out:
            # Its own process group, as a terminal's foreground job: Ctrl-C reaches it all.
            self.process = subprocess.Popen(
                ["bash", "-c", command],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_up(self) -> UpState:
        deadline = time.monotonic() + START_TIMEOUT
        while not (self.state_dir / STATE_FILE).is_file():
            if self.process.poll() is not None:
                pytest.fail(f"katha up exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"katha up was not up after {START_TIMEOUT} s:\n{self.output()}")
            time.sleep(0.5)
        return read_state(self.state_dir)

    def interrupt(self, timeout: float = 120.0) -> int:
        """Ctrl-C, as a terminal sends it: to every process of the foreground job."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"katha up did not stop within {timeout} s:\n{self.output()}")


@pytest.fixture
def up(tmp_path: Path) -> Up:
    command = readme_command(1)
    assert "./scripts/run" in command
    running = Up(command, tmp_path / "state", tmp_path / "up.log")
    yield running
    if running.process.poll() is None:
        os.killpg(running.process.pid, signal.SIGKILL)
        running.process.wait(30)


def test_readme_command_answers_in_three_languages_from_each_tenants_own_knowledge(
    up: Up,
) -> None:
    state = up.wait_until_up()
    assert {tenant.key for tenant in state.tenants} == {
        "demo/kandy-bakery",
        "demo/galle-guesthouse",
    }
    printed = up.output()
    assert f"{state.router_url}/webhooks/whatsapp" in printed
    assert "verify token" in printed

    failures = []
    asked = {"si": 0, "singlish": 0, "en": 0}
    for number, question in enumerate(labelled()):
        tenant = next(t for t in state.tenants if t.name == question["tenant"])
        # One customer per question: the router slows down anyone sending 10 at once.
        with Customer(state, tenant, number=f"9477111{number:04d}", timeout=60) as customer:
            answer = customer.ask(question["text"])
        tracking = answer.tracking
        assert tracking is not None, question
        problem = None
        if question.get("handoff"):
            if not tracking.handoff:
                problem = "no handoff"
        else:
            expected = source_uris(question["tenant"])[question["source"]]
            if not any(fragment in answer.text for fragment in question["expect"]):
                problem = f"none of {question['expect']} in the reply"
            elif not any(expected in uri for uri in tracking.sources):
                problem = f"not cited: {expected} (cited {tracking.sources})"
        for never in question.get("never", []):
            if never in answer.text:
                problem = f"{never!r} must not be in the reply"
        if problem:
            failures.append(
                f"{question['tenant']} [{question['lang']}] {question['text']}: "
                f"{problem}\n    reply: {answer.text}"
            )
        elif question["lang"] in asked and not question.get("handoff"):
            asked[question["lang"]] += 1
    assert failures == []
    assert all(count >= 3 for count in asked.values()), asked

    # A refresh inside the agent (a Ray task) finds the bakery's files where katha up does.
    agent = f"{state.agents_url}/demo/kandy-bakery"
    before = httpx.get(f"{agent}/v1/index").json()
    assert httpx.post(f"{agent}/v1/index/refresh").json()["started"] is True
    deadline = time.monotonic() + 300
    while (after := httpx.get(f"{agent}/v1/index").json())["state"] == "indexing":
        assert time.monotonic() < deadline, "the refresh did not finish"
        time.sleep(0.5)
    assert after["state"] == "ready"
    assert after.get("message") is None, after
    assert after["chunks"] == before["chunks"]

    # The README's own `katha ask` lines, as written there.
    environment = {**os.environ, "KATHA_STATE_DIR": str(up.state_dir)}
    asks = [line.split("  #")[0].strip() for line in readme_lines() if " ask " in line]
    assert len(asks) >= 2, asks
    for line in asks:
        done = subprocess.run(
            ["bash", "-c", line], cwd=ROOT, env=environment, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, f"{line}: {done.stdout}{done.stderr}"
        assert "language " in done.stdout, done.stdout
        if "butter cake" in line:
            assert "2,800" in done.stdout, done.stdout

    # The interactive chat, as a person types into it.
    chat = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "katha"), "chat", "kandy-bakery", "--from", "94771112222"],
        input="/si\nhello\n/quit\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KATHA_STATE_DIR": str(up.state_dir)},
        check=True,
    )
    assert "language si" in chat.stdout, chat.stdout
    assert "Senkadagala Bakery ›" in chat.stdout

    # Handed to a person, then given back by the owner with /release.
    handed = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "katha"), "chat", "galle-guesthouse",
         "--from", "94771113333", "--timeout", "8"],
        input="Do you have any job vacancies?\nWhat time is check-in?\n/release\n"
        "What time is check-in?\n/quit\n",
        capture_output=True, text=True, timeout=240, env=environment, check=True,
    )  # fmt: skip
    assert "handed to a person:" in handed.stdout, handed.stdout  # the reply that hands over
    assert "handed to a person at" in handed.stdout  # the agent stays quiet meanwhile
    assert "released" in handed.stdout, handed.stdout
    assert "2.00" in handed.stdout.split("released", 1)[1], handed.stdout

    # Every conversation above is in the conversation store the owner console reads.
    kept = _kept_events(up.state_dir / "conversations.db")
    assert kept["customer"] >= 3, kept
    assert kept["agent"] >= 3, kept
    assert kept["handoff_started"] >= 1, kept

    assert up.interrupt() == 0, up.output()
    assert "Stopped." in up.output()
    assert not (up.state_dir / STATE_FILE).exists()


def _kept_events(database: Path) -> dict[str, int]:
    """How many events the store holds, by author and by handoff kind (read-only)."""
    counts: dict[str, int] = {}
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        for author, kind, count in db.execute(
            "SELECT author, kind, COUNT(*) FROM events GROUP BY author, kind"
        ):
            counts[author] = counts.get(author, 0) + count
            if kind != "message":
                counts[kind] = counts.get(kind, 0) + count
    return counts
