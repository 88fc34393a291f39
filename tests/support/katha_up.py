"""Start `katha up` as a user would, in its own process, and wait until it serves."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect
from ports import free_port

from katha_cli.local.chat import Customer
from katha_cli.local.state import STATE_FILE, read_state


class UpFailedError(RuntimeError):
    pass


TEA_SHOP = """\
apiVersion: katha.dev/v1alpha1
kind: Business
metadata: {{name: tea-shop, namespace: demo}}
spec:
  displayName: Nuwara Tea Shop
  whatsapp:
    phoneNumberId: "{number}"
    credentialsSecretRef: {{name: tea-shop-whatsapp}}
  knowledge:
    sources:
      - {{name: prices, type: text, file: prices.md}}
"""


def write_tea_shop(folder: Path, phone_number_id: str, price: str = "1,450") -> None:
    """A one-page shop for `katha up` in `folder`: its Business and its price list (each
    test its own number ID, as two tests' shops must not share one)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "business.yaml").write_text(TEA_SHOP.format(number=phone_number_id))
    (folder / "prices.md").write_text(f"# Prices\n\nA 400 g pack of BOPF tea costs Rs. {price}.\n")


def start_katha_up(
    folder: Path,
    state_dir: Path,
    log: Path,
    *options: str,
    timeout: float = 300.0,
    checkout: Path | None = None,
    environment: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`katha up FOLDER` on a free router port, its output in `log`; returns once it has
    written its state file (everything is serving), or raises with what it printed.
    `checkout`: run another copy of Katha's code (a benchmark's baseline) instead of this
    one; `environment`: more variables for it."""
    command = [
        sys.executable, "-m", "katha_cli", "up", str(folder),
        "--port", str(free_port()), "--console-port", str(free_port()),
    ]  # fmt: skip
    env = {**os.environ, **(environment or {}), "KATHA_STATE_DIR": str(state_dir)}
    if checkout is not None:  # its modules first, for katha up and for Ray's workers
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout), env.get("PYTHONPATH")]))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, *options], env=env, stdout=out, stderr=out, cwd=checkout
        )
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


# The line `katha up` prints for each sign-in code (it stands in for WhatsApp on one machine).
CODE_LINE = "sign-in code for "


@dataclass
class RunningUp:
    """A `katha up` started by a test: its process, its folder and state, its output."""

    process: subprocess.Popen[bytes]
    folder: Path
    state: Path
    log: Path

    @property
    def console(self) -> str:
        return str(read_state(self.state).console_url)

    def count(self, text: str) -> int:
        """How many times `katha up` has printed `text` so far."""
        return self.log.read_text(encoding="utf-8", errors="replace").count(text)

    def reloads(self) -> list[str]:
        """What `katha up` said of its reloads (for a failure's message)."""
        log = self.log.read_text(encoding="utf-8", errors="replace")
        return [line for line in log.splitlines() if "↻" in line or "✗" in line]

    def ask(self, text: str, number: str, tenant: str | None = None, name: str = "") -> str:
        """What a new customer `number` of `tenant` (the first by default) is answered,
        through a signed webhook and the outbox. One question per customer: a customer
        handed to a person waits for the owner."""
        up = read_state(self.state)
        chosen = next(t for t in up.tenants if tenant in (None, t.key))
        options = {"name": name} if name else {}
        with Customer(up, chosen, number=number, timeout=120, **options) as customer:
            return customer.ask(text).text


@contextmanager
def running_katha_up(root: Path, folder: Path) -> Iterator[RunningUp]:
    """`katha up` on `folder` (already laid out under `root`) until the block ends, then
    Ctrl-C, which must stop it cleanly."""
    log = root / "up.log"
    process = start_katha_up(folder, root / "state", log)
    try:
        yield RunningUp(process, folder, root / "state", log)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(120) == 0


def sign_in_with_printed_code(up: RunningUp, page: Page, tenant: str) -> None:
    """The owner of `tenant` asks for a code for their number; `katha up` prints it; the
    owner types it in, as they would the one WhatsApp brings."""
    owner = next(t.owner_number for t in read_state(up.state).tenants if t.key == tenant)
    assert owner is not None
    line = f"{CODE_LINE}{tenant}: "
    codes = up.count(line)
    page.goto(f"{up.console}/signin")
    number = page.locator('form[action="/signin/code"] input:not([type=hidden])').first
    number.fill(owner)
    number.press("Enter")
    output = wait_for_output(up.process, up.log, line, times=codes + 1)
    code = re.findall(rf"{re.escape(line)}([0-9]+)", output)[-1]
    field = page.locator('form[action^="/signin/verify"] input:not([type=hidden])').first
    field.fill(code)
    field.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/signin"))
