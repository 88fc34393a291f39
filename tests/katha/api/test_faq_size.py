"""The owner's FAQ is capped by its size in all, not only by its count: the Business is
one object in etcd (at most ~1.5 MiB), and 2000 items at their longest (~20 MB) would be
refused by the API server as too large, where the owner could do nothing but retry."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from katha.api import InvalidResourceError, validate_manifest
from katha.api.knowledge import MAX_OWNER_FAQ, MAX_OWNER_FAQ_BYTES

EXAMPLES = Path(__file__).parents[3] / "crds" / "examples"


def _business(faq: list[dict[str, str]]) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((EXAMPLES / "01-minimal-business.yaml").read_text())
    manifest["spec"].setdefault("knowledge", {})["faq"] = faq
    return manifest


def test_a_faq_too_large_for_one_object_is_refused_as_katha_validate_says_it() -> None:
    # 40 items of Sinhala answers (three bytes a letter) well inside the per-item limits,
    # far inside the count limit, and ~470 KiB in all.
    item = {"q": "ඔබ ඉරිදා විවෘතද?", "a": "ඔව්" * 1333}
    faq = [item] * 40
    assert len(faq) < MAX_OWNER_FAQ
    with pytest.raises(InvalidResourceError) as refused:
        validate_manifest(_business(faq), "business.yaml")
    problems = [str(problem) for problem in refused.value.problems]
    assert len(problems) == 1
    assert problems[0].startswith("spec.knowledge.faq: the FAQ holds ")
    assert f"at most {MAX_OWNER_FAQ_BYTES // 1024} KiB in all" in problems[0]


def test_a_faq_just_inside_the_cap_is_accepted() -> None:
    answer = "a" * 8000
    count = MAX_OWNER_FAQ_BYTES // (8000 + 2)
    faq = [{"q": "q?", "a": answer}] * count
    validate_manifest(_business(faq), "business.yaml")
    with pytest.raises(InvalidResourceError):
        validate_manifest(_business([*faq, {"q": "q?", "a": answer}]), "business.yaml")
