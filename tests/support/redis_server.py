"""Start a real redis-server on a free loopback port, for tests and benchmarks."""

import shutil
import subprocess
from pathlib import Path

from ports import free_port


def launch_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """redis-server with an append-only file in `workdir`; the caller waits until it answers.

    Raises FileNotFoundError when the Debian package redis-server is not installed.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server is not installed: apt-get install -y redis-server")
    port = free_port()
    options = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", ""]
    options += ["--appendonly", "yes", "--appendfsync", "everysec"]
    process = subprocess.Popen(
        [binary, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return process, port
