"""`katha validate` and `katha crd` as a platform engineer runs them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO_ROOT / "crds" / "examples").glob("*.yaml"))


def _katha(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The console script pip installed next to this interpreter, as a user would run it.
    katha = Path(sys.executable).parent / "katha"
    assert katha.is_file(), "the katha console script is not installed"
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(katha), *args], capture_output=True, text=True, cwd=REPO_ROOT, env=environment
    )


def test_validate_accepts_the_examples() -> None:
    result = _katha("validate", *map(str, EXAMPLES))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("is valid") == len(EXAMPLES)


def test_validate_rejects_with_field_paths_and_exit_code_1() -> None:
    bad = REPO_ROOT / "tests/katha/api/invalid/06-min-above-max-replicas.yaml"
    result = _katha("validate", str(EXAMPLES[0]), str(bad))
    assert result.returncode == 1
    assert "is valid" in result.stdout
    assert "spec.scaling: minReplicas (5) is above maxReplicas (2)" in result.stderr
    assert "1 of 2 file(s) invalid" in result.stderr


def test_validate_reports_a_missing_file(tmp_path: Path) -> None:
    result = _katha("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "no such file" in result.stderr


def test_validate_reports_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here\n")
    result = _katha("validate", str(empty))
    assert result.returncode == 1
    assert "holds no resources" in result.stderr


def test_crd_prints_both_definitions_for_kubectl() -> None:
    result = _katha("crd")
    assert result.returncode == 0
    assert "name: businesses.katha.dev" in result.stdout
    assert "name: languagemodels.katha.dev" in result.stdout


@pytest.mark.parametrize("args", [["--help"], ["version"]])
def test_help_and_version_work(args: list[str]) -> None:
    assert _katha(*args).returncode == 0


def test_ingest_explains_a_broken_file_without_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "shop.yaml"
    broken.write_text("apiVersion: katha.dev/v1alpha1\nkind: Business\nmetadata: {name: x\n")
    result = _katha("ingest", str(broken), "--index-dir", str(tmp_path / "index"))
    assert result.returncode == 2
    assert f"✗ {broken} is not valid" in result.stderr
    assert "is not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "index").exists()


def test_examples_validate() -> None:
    files = sorted((REPO_ROOT / "examples").glob("*/business.yaml"))
    assert len(files) == 2
    result = _katha("validate", *map(str, files))
    assert result.returncode == 0, result.stderr


def test_chat_and_ask_say_when_katha_up_is_not_running(tmp_path: Path) -> None:
    for command in (["ask", "kandy-bakery", "hello"], ["chat", "kandy-bakery"]):
        result = _katha(*command, "--state-dir", str(tmp_path))
        assert result.returncode == 2
        assert "katha up is not running here" in result.stderr


def test_up_refuses_a_folder_without_businesses(tmp_path: Path) -> None:
    result = _katha("up", str(tmp_path), "--state-dir", str(tmp_path / "state"))
    assert result.returncode == 2
    assert "holds no Business" in result.stderr


def test_up_refuses_a_reply_window_that_is_not_a_number_before_starting(tmp_path: Path) -> None:
    shop = tmp_path / "shops" / "tea"
    shop.mkdir(parents=True)
    (shop / "business.yaml").write_text(
        "apiVersion: katha.dev/v1alpha1\nkind: Business\n"
        "metadata: {name: tea, namespace: demo}\n"
        "spec:\n  displayName: Tea\n"
        "  whatsapp: {phoneNumberId: '100000000000001', credentialsSecretRef: {name: tea-wa}}\n"
        "  knowledge: {sources: [{name: notes, type: text, file: notes.md}]}\n"
    )
    (shop / "notes.md").write_text("Open 8 to 6.\n")
    window = {"KATHA_LOCAL_WINDOW_SECONDS": "a day"}
    result = _katha("up", str(tmp_path / "shops"), "--state-dir", str(tmp_path / "st"), env=window)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "KATHA_LOCAL_WINDOW_SECONDS must be a positive number of seconds" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Ray" not in result.stdout  # refused before minutes of starting anything


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["ask", "kandy-bakery", "hi", "--timeout", "0"], "--timeout"),
        (["ask", "kandy-bakery", "hi", "--timeout", "99999"], "--timeout"),
        (["ask", "kandy-bakery", "hi", "--timeout", "soon"], "--timeout"),
        (["ask", "kandy-bakery", "hi", "--from", "not-a-number"], "--from"),
        (["chat", "kandy-bakery", "--from", "+94 77"], "--from"),
        (["up", "--port", "70000"], "--port"),
        (["up", "--log-level", "LOUD"], "--log-level"),
    ],
)
def test_a_bad_value_a_user_typed_is_named_without_a_traceback(
    tmp_path: Path, args: list[str], named: str
) -> None:
    result = _katha(*args, "--state-dir", str(tmp_path))
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_an_unexpected_error_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _katha("crd", "--write", str(blocker / "crds"))  # a folder inside a file
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("✗ ")
    assert "KATHA_DEBUG=1" in result.stderr
