"""A real, certified OpenID Connect provider on loopback: the npm package oidc-provider run
by node (tests/support/peers/oidc/provider.mjs), with one client and the accounts a test
names. Its own development login page takes any password (the login is the account id)
and a consent page follows; a browser test fills both in, as a person would.

scripts/test installs the package (pinned in oidc/package-lock.json) into .cache/oidc with
`npm ci`; `OidcProvider` copies the script there so node finds it beside its modules.
"""

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from ports import free_port

HERE = Path(__file__).resolve().parent / "oidc"
REPO_ROOT = HERE.parents[3]
MODULES = REPO_ROOT / ".cache" / "oidc"
SCRIPT = "provider.mjs"


@dataclass
class OidcProvider:
    """`with OidcProvider(...) as provider:` node answers at `provider.issuer` until the
    block ends. `accounts` maps a login to its claims (name, katha_businesses, ...)."""

    workdir: Path
    client_id: str
    client_secret: str
    redirect_uri: str
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # client_secret_basic is OpenID Connect's default; client_secret_post for a client
    # that sends its secret in the form instead.
    auth_method: str = "client_secret_basic"
    issuer: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / "oidc-provider.log"

    def __enter__(self) -> "OidcProvider":
        node = shutil.which("node")
        if node is None or not (MODULES / "node_modules" / "oidc-provider").is_dir():
            raise FileNotFoundError(
                "the OpenID provider is not installed: run scripts/test, or "
                f"`cp {HERE}/package*.json {MODULES} && npm ci --prefix {MODULES}`"
            )
        script = MODULES / SCRIPT
        staging = MODULES / f".{SCRIPT}.{os.getpid()}"
        shutil.copyfile(HERE / SCRIPT, staging)
        staging.replace(script)  # whole, even with another test starting one too
        port = free_port()
        self.issuer = f"http://127.0.0.1:{port}"
        config = {
            "port": port,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uri": self.redirect_uri,
            "auth_method": self.auth_method,
            "accounts": self.accounts,
        }
        env = {**os.environ, "KATHA_TEST_OIDC": json.dumps(config), "NODE_ENV": "test"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [node, str(script)], cwd=MODULES, env=env, stdout=log, stderr=log
            )
        try:
            self._wait_for_discovery()
        except BaseException:
            self._stop()
            raise
        return self

    def _wait_for_discovery(self) -> None:
        """Until the discovery document answers: then keys, client and routes are ready."""
        assert self.process is not None
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited: {self.log.read_text()[-2000:]}")
            try:
                response = httpx.get(self.discovery_url, timeout=1)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the OpenID provider did not answer: {self.log.read_text()}")
            time.sleep(0.05)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def discovery(self) -> dict[str, Any]:
        document: dict[str, Any] = httpx.get(self.discovery_url).json()
        return document

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
