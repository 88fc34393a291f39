"""`python -m katha.store upgrade`, as the Helm hook Job and `katha up` run it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ports import free_port

from katha.store import current_revision


def run_upgrade(*arguments: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "KATHA_STORE_URL"}
    if url is not None:
        environment["KATHA_STORE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "katha.store", "upgrade", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_upgrade_migrates_the_store_named_by_the_flag(empty_url: str) -> None:
    done = run_upgrade("--url", empty_url)
    assert done.returncode == 0, done.stderr
    assert current_revision(empty_url) == "0005"


def test_upgrade_reads_the_url_from_the_environment(empty_url: str) -> None:
    done = run_upgrade(url=empty_url)
    assert done.returncode == 0, done.stderr
    assert current_revision(empty_url) == "0005"


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ((), "set KATHA_STORE_URL"),
        (("--url", "mysql://katha:hunter2@db/katha"), "SQLite or PostgreSQL"),
        (("--url", "::not a url::"), "not a database URL"),
    ],
)
def test_a_bad_url_exits_2_with_one_clear_line(arguments: tuple[str, ...], says: str) -> None:
    done = run_upgrade(*arguments)
    assert done.returncode == 2
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "hunter2" not in done.stderr


def test_a_database_out_of_reach_exits_1(tmp_path: Path) -> None:
    unreachable = [
        f"postgresql://katha:hunter2@127.0.0.1:{free_port()}/katha",  # nothing listens
        f"sqlite:///{tmp_path / 'no-such-folder' / 'store.db'}",
    ]
    for url in unreachable:
        done = run_upgrade("--url", url)
        assert done.returncode == 1, done.stderr
        assert "cannot migrate the store" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "hunter2" not in done.stderr


def test_a_revision_this_code_does_not_know_exits_1(empty_url: str) -> None:
    done = run_upgrade("--url", empty_url, "--revision", "9999")
    assert done.returncode == 1
    assert "9999" in done.stderr
    assert current_revision(empty_url) is None
