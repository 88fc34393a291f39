"""`katha up` runs no Ray helper that one machine does not need (the autoscaler's monitor,
the log monitor), still answers through Serve, and Ctrl-C leaves no process behind."""

import time
from pathlib import Path

from katha_up import running_katha_up

BUSINESS = """\
apiVersion: katha.dev/v1alpha1
kind: Business
metadata: {name: tea-shop, namespace: demo}
spec:
  displayName: Nuwara Tea Shop
  whatsapp:
    phoneNumberId: "100000000000019"
    credentialsSecretRef: {name: tea-shop-whatsapp}
  knowledge:
    sources:
      - {name: prices, type: text, file: prices.md}
"""
UNNEEDED = ("autoscaler/_private/monitor.py", "_private/log_monitor.py")


def tree(root: int) -> dict[int, str]:
    """Every process under `root` (itself included), with its command line."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found: dict[int, str] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            found[pid] = (
                (Path(f"/proc/{pid}") / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            )
        except OSError:
            continue
        stack.extend(children.get(pid, []))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_katha_up_starts_no_monitors_and_stops_every_process_it_started(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "business.yaml").write_text(BUSINESS)
    (folder / "prices.md").write_text("# Prices\n\nA 400 g pack of BOPF tea costs Rs. 1,450.\n")
    with running_katha_up(tmp_path, folder) as up:
        assert "1,450" in up.ask("How much is a pack of BOPF tea?", number="94770000001")
        processes = tree(up.process.pid)
        commands = list(processes.values())
        assert any("ServeReplica" in command for command in commands)  # Ray runs under it
        assert [c for c in commands if any(name in c for name in UNNEEDED)] == []
    deadline = time.monotonic() + 30  # Ray's processes end a moment after katha up does
    while any(alive(pid) for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert [processes[pid] for pid in processes if alive(pid)] == []
