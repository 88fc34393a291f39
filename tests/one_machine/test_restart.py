"""A second `katha up` reuses indexes whose knowledge did not change, re-indexes one whose
file changed, and answers from the new version."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from katha_up import start_katha_up, write_tea_shop
from ports import free_port

from katha_cli.local.chat import Customer
from katha_cli.local.state import STATE_FILE, read_state


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(120) == 0


def ask(state: Path, text: str) -> str:
    up = read_state(state)
    with Customer(up, up.tenants[0], timeout=60) as customer:
        return customer.ask(text).text


def test_unchanged_knowledge_is_reused_and_a_changed_file_reindexed(tmp_path: Path) -> None:
    folder, state = tmp_path / "shop", tmp_path / "state"
    write_tea_shop(folder, "100000000000009")

    first = start_katha_up(folder, state, tmp_path / "first.log")
    assert "1,450" in ask(state, "How much is a pack of BOPF tea?")
    # A second `katha up` on the same state is refused and leaves the first one alone.
    env = {**os.environ, "KATHA_STATE_DIR": str(state)}
    second_try = subprocess.run(
        [sys.executable, "-m", "katha_cli", "up", str(folder), "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert second_try.returncode == 2
    assert f"another `katha up` is using {state}" in second_try.stderr
    assert (state / STATE_FILE).is_file()
    assert "1,450" in ask(state, "How much is a pack of BOPF tea?")
    stop(first)
    assert "indexing its knowledge" in (tmp_path / "first.log").read_text()

    second = start_katha_up(folder, state, tmp_path / "second.log")
    stop(second)
    output = (tmp_path / "second.log").read_text()
    assert "knowledge unchanged, index reused" in output
    assert "(reused)" in output

    write_tea_shop(folder, "100000000000009", price="1,600")
    third = start_katha_up(folder, state, tmp_path / "third.log")
    try:
        reply = ask(state, "How much is a pack of BOPF tea?")
    finally:
        stop(third)
    assert "indexing its knowledge" in (tmp_path / "third.log").read_text()
    assert "1,600" in reply
    assert "1,450" not in reply
