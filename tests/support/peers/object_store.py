"""An S3-compatible object store (AWS S3, MinIO, Ceph), where a cluster may keep its indexes:
moto's S3 server as a real process on a free loopback port.

moto lives in its own small environment under .cache/object-store, installed on first use
(scripts/test does it up front) from the exact versions in constraints/object-store.txt:
it needs botocore, which caps python-dateutil below 3, while the project's kubernetes
client needs 3 or later, so the two cannot share `.venv`.
"""

import fcntl
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Self

import httpx
from ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]
ENVIRONMENT = REPO_ROOT / ".cache" / "object-store"
# moto's S3 server and everything it imports, pinned (a pip freeze of a working install).
REQUIREMENTS = REPO_ROOT / "constraints" / "object-store.txt"
_S3 = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def moto_server() -> Path:
    """The `moto_server` command, installing its environment first when it is missing.

    A lock file keeps two test processes from installing at once.
    """
    command = ENVIRONMENT / "bin" / "moto_server"
    ENVIRONMENT.parent.mkdir(parents=True, exist_ok=True)
    with (ENVIRONMENT.parent / "object-store.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not command.is_file():
            subprocess.run([sys.executable, "-m", "venv", "--clear", ENVIRONMENT], check=True)
            pip = [ENVIRONMENT / "bin" / "python", "-m", "pip", "install", "--quiet"]
            requirements = ["--requirement", str(REQUIREMENTS)]
            subprocess.run([*pip, "--disable-pip-version-check", *requirements], check=True)
    return command


@dataclass
class S3Server:
    """The S3 REST API on loopback; any key pair is accepted, as with a fresh MinIO."""

    base: str = ""
    region: str = "us-east-1"
    access_key: str = "katha-test-key"
    secret_key: str = "katha-test-secret"

    def environment(self) -> dict[str, str]:
        """The standard AWS variables a workload gets to reach this store (in a cluster the
        operator sets them from a Secret)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.base,
        }

    def create_bucket(self, bucket: str) -> None:
        httpx.put(f"{self.base}/{bucket}").raise_for_status()

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key under `prefix` (ListObjectsV2, page by page)."""
        keys: list[str] = []
        token = ""
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            response = httpx.get(f"{self.base}/{bucket}", params=query)
            listing = ET.fromstring(response.raise_for_status().content)  # noqa: S314 (ours)
            keys += [item.text or "" for item in listing.iter(f"{_S3}Key")]
            token = listing.findtext(f"{_S3}NextContinuationToken") or ""
            if not token:
                return keys

    @contextmanager
    def serve(self) -> Iterator[Self]:
        port = free_port()
        # A file, not a pipe: the server logs every request, and a full pipe would stall it.
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(
                [moto_server(), "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.base = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(self.base, process, log)
                yield self
            finally:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/moto-api/", timeout=2)
            return
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise RuntimeError(f"moto's S3 server did not start:\n{output}") from None
            time.sleep(0.05)
