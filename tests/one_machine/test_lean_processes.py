"""`katha up` runs no Ray helper that one machine does not need (the autoscaler's monitor,
the log monitor, the dashboard's API server), still answers through Serve, and Ctrl-C
leaves no process behind."""

import time
from pathlib import Path

from katha_up import running_katha_up, write_tea_shop
from processes import alive, descendants

UNNEEDED = ("autoscaler/_private/monitor.py", "_private/log_monitor.py", "dashboard/dashboard.py")


def test_katha_up_starts_no_monitors_and_stops_every_process_it_started(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    write_tea_shop(folder, "100000000000019")
    with running_katha_up(tmp_path, folder) as up:
        assert "1,450" in up.ask("How much is a pack of BOPF tea?", number="94770000001")
        processes = descendants(up.process.pid)
        commands = list(processes.values())
        assert any("ServeReplica" in command for command in commands)  # Ray runs under it
        assert [c for c in commands if any(name in c for name in UNNEEDED)] == []
    deadline = time.monotonic() + 30  # Ray's processes end a moment after katha up does
    while any(alive(pid) for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert [processes[pid] for pid in processes if alive(pid)] == []
