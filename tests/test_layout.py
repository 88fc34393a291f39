"""The repository layout DESIGN.md promises, and the trap it warns about."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_operator_folder_is_not_a_package() -> None:
    assert (REPO_ROOT / "operator" / "business_operator" / "__init__.py").is_file()
    assert not (REPO_ROOT / "operator" / "__init__.py").exists(), (
        "operator/__init__.py would make `import operator` load our folder instead of the "
        "standard library; business_operator lives in operator/ without one"
    )


@pytest.mark.parametrize("flags", [[], ["-P"]], ids=["default", "safe-path"])
def test_import_operator_from_the_repo_root_gives_the_standard_library(flags: list[str]) -> None:
    probe = (
        "import operator, sysconfig, pathlib;"
        "stdlib = pathlib.Path(sysconfig.get_paths()['stdlib']).resolve();"
        "origin = pathlib.Path(operator.__file__).resolve();"
        "assert origin.parent == stdlib, origin;"
        "assert operator.itemgetter(1)([0, 7]) == 7;"
        "print(origin)"
    )
    result = subprocess.run(
        [sys.executable, *flags, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_business_operator_imports_from_its_folder() -> None:
    import business_operator

    assert Path(business_operator.__file__).resolve().parent == (
        REPO_ROOT / "operator" / "business_operator"
    )


def test_tests_mirror_packages_and_never_use_tests_operator() -> None:
    assert not (REPO_ROOT / "tests" / "operator").exists()
