"""Start `katha up` as a user would, in its own process, and wait until it serves."""

import os
import subprocess
import sys
import time
from pathlib import Path

from ports import free_port

from katha_cli.local.state import STATE_FILE


class UpFailedError(RuntimeError):
    pass


def start_katha_up(
    folder: Path, state_dir: Path, log: Path, *options: str, timeout: float = 300.0
) -> subprocess.Popen[bytes]:
    """`katha up FOLDER` on a free router port, its output in `log`; returns once it has
    written its state file (everything is serving), or raises with what it printed."""
    command = [
        sys.executable, "-m", "katha_cli", "up", str(folder),
        "--port", str(free_port()), "--console-port", str(free_port()),
    ]  # fmt: skip
    env = {**os.environ, "KATHA_STATE_DIR": str(state_dir)}
    with log.open("wb") as out:
        process = subprocess.Popen([*command, *options], env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + timeout
    while not (state_dir / STATE_FILE).is_file():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(30)
            raise UpFailedError(f"katha up did not come up:\n{log.read_text()}")
        time.sleep(0.25)
    return process


def wait_for_output(
    process: subprocess.Popen[bytes],
    log: Path,
    text: str,
    *,
    times: int = 1,
    timeout: float = 300.0,
) -> str:
    """Wait until `katha up` has printed `text` at least `times` times; all it printed.
    Raises with what it printed when it stops first or never does."""
    deadline = time.monotonic() + timeout
    while True:
        output = log.read_text(encoding="utf-8", errors="replace")
        if output.count(text) >= times:
            return output
        if process.poll() is not None or time.monotonic() > deadline:
            raise UpFailedError(f"katha up never printed {text!r} {times} time(s):\n{output}")
        time.sleep(0.25)
