"""Start a real PostgreSQL server on a free loopback port, for tests and benchmarks."""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from ports import free_port

# Who runs the server when we are root: postgres refuses to start as root.
UNPRIVILEGED_USER = "nobody"


@dataclass
class PostgresServer:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open sessions), then remove the data."""
        self.process.send_signal(2)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def postgres_binary(name: str) -> str:
    """`initdb` or `postgres`: on PATH, or where Debian's postgresql package puts them."""
    installed = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    found = shutil.which(name) or (str(installed[0]) if installed else None)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: apt-get install -y postgresql")
    return found


def launch_postgres() -> PostgresServer:
    """initdb and postgres (trust auth, user `postgres`) in a fresh folder; the caller waits
    until it answers and calls `stop()`.

    The data folder is a new temporary directory (not pytest's: that one is private to
    root, and as root the server runs as `nobody`). Durability is off: test data only.
    Raises FileNotFoundError when Debian's package postgresql is not installed.
    """
    initdb, postgres = postgres_binary("initdb"), postgres_binary("postgres")
    user = UNPRIVILEGED_USER if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="katha-postgres-"))
    if user is not None:
        shutil.chown(base, user)
    data = base / "data"
    done = subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        user=user,
    )
    if done.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')[-500:]}")
    port = free_port()
    options = ["-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1"]
    options += ["-c", f"unix_socket_directories={base}", "-c", "fsync=off"]
    options += ["-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    process = subprocess.Popen(
        [postgres, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=user
    )
    return PostgresServer(process, port, base)


@contextlib.contextmanager
def running_postgres(timeout: float = 30.0) -> Iterator[str]:
    """A started server's URL, once it answers; stopped on exit. Raises FileNotFoundError
    without Debian's postgresql, RuntimeError when it does not start in time."""
    server = launch_postgres()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                psycopg.connect(server.url).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or server.process.poll() is not None:
                    raise RuntimeError("postgres did not start") from None
                time.sleep(0.05)
        yield server.url
    finally:
        server.stop()


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "katha") -> Iterator[str]:
    """A new, empty database on the server at `server_url`, dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
