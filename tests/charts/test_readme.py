"""The chart's README documents every value a platform team can set."""

import json
from collections.abc import Iterator
from typing import Any

import yaml
from katha_chart import CHART

README = (CHART / "README.md").read_text()


def value_paths(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Every key path of values.yaml, parents included (`router`, `router.inbox`, ...)."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict) and value:
            yield from value_paths(value, f"{path}.")


def documented(path: str) -> bool:
    """A value is documented by its own row, or by a row for the object that holds it."""
    parts = path.split(".")
    return any(f"| `{'.'.join(parts[:end])}` |" in README for end in range(len(parts), 0, -1))


def test_every_value_in_values_yaml_has_a_row_in_the_readme() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    leaves = [
        path
        for path in value_paths(values)
        if not any(other.startswith(f"{path}.") for other in value_paths(values))
    ]
    missing = [path for path in leaves if not documented(path)]
    assert not missing, f"charts/katha/README.md lacks {missing}"


def test_every_router_setting_the_schema_accepts_has_a_row_in_the_readme() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    config = schema["properties"]["router"]["properties"]["config"]["properties"]
    missing = [key for key in config if f"| `{key}` |" not in README]
    assert not missing, f"charts/katha/README.md lacks router.config keys {missing}"


def test_readme_names_kuberay_as_the_optional_prerequisite_of_the_rayservice_mode() -> None:
    assert "KubeRay" in README
    assert "Without KubeRay the chart and every `Business` still work" in README
