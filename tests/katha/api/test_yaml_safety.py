"""Resource files are read safely: an alias bomb or deep nesting is refused in a line, and
an error message quotes a value briefly, whatever the value holds."""

import subprocess
import sys
from pathlib import Path

import pytest

from katha.api import InvalidResourceError, load_resources
from katha.api.documents import UnsafeYamlError, load_documents

HEADER = """\
apiVersion: katha.dev/v1alpha1
kind: Business
metadata: {name: bomb, namespace: t}
"""


def bomb(levels: int) -> str:
    """The classic "billion laughs": each level repeats the one below nine times."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        refs = ",".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def business_with(tone: str, prelude: str = "") -> str:
    return (
        HEADER
        + prelude
        + "spec:\n  displayName: x\n  whatsapp: {phoneNumberId: '1234567890', "
        + "credentialsSecretRef: {name: x}}\n"
        + f"  persona: {{tone: {tone}}}\n"
    )


def test_an_alias_bomb_is_refused_in_one_short_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(business_with("*l8", bomb(9)))
    assert len(path.read_bytes()) < 1000
    with pytest.raises(InvalidResourceError) as refused:
        load_resources(path)
    assert "anchors and aliases" in str(refused.value)
    assert len(str(refused.value)) < 500


def test_a_smaller_bomb_in_a_field_gives_a_short_error(tmp_path: Path) -> None:
    # 9**5 values: under the expansion limit, so validation runs and quotes the value.
    path = tmp_path / "bomb.yaml"
    path.write_text(business_with("*l4", bomb(5)))
    result = subprocess.run(
        [sys.executable, "-m", "katha_cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "spec.persona.tone: must be one of" in result.stderr
    assert len(result.stderr) < 2000


def test_anchors_that_expand_modestly_still_load() -> None:
    documents = load_documents("base: &b {a: 1, b: [1, 2]}\none: *b\ntwo: *b\n")
    assert documents == [{"base": {"a": 1, "b": [1, 2]}, "one": {"a": 1, "b": [1, 2]},
                          "two": {"a": 1, "b": [1, 2]}}]  # fmt: skip


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(UnsafeYamlError, match="nested too deeply"):
        load_documents("a: " + "[" * 50_000 + "]" * 50_000)


def test_a_huge_value_is_quoted_briefly(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(business_with("'" + "x" * 100_000 + "'"))
    with pytest.raises(InvalidResourceError) as refused:
        load_resources(path)
    assert len(str(refused.value)) < 500
