"""Validate Katha manifests and explain each problem with the field path it is at."""

import reprlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from katha.api.base import GROUP_VERSION
from katha.api.business import Business
from katha.api.documents import UnsafeYamlError, iter_documents
from katha.api.knowledge import SOURCE_TYPES
from katha.api.language_model import LanguageModel

KINDS: dict[str, type[Business] | type[LanguageModel]] = {
    "Business": Business,
    "LanguageModel": LanguageModel,
}

# A value quoted in an error is cut short: one field's message stays one line, whatever
# the value (a YAML alias bomb once made 44 MB of error text from 609 bytes).
SHOWN_CHARS = 80
MESSAGE_CHARS = 300
MAX_PROBLEMS = 50
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 2, SHOWN_CHARS, SHOWN_CHARS
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4
reprlib_repr = _REPR.repr

# pydantic puts the chosen union member's tag ("pdf") into an error's location;
# it is not a field, so it is left out of the path a person reads.
_UNION_MEMBER_TAGS = frozenset(SOURCE_TYPES)


@dataclass(frozen=True)
class FieldProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidResourceError(ValueError):
    """A manifest that is not a valid Katha resource; `problems` names each field at fault."""

    def __init__(self, source: str, problems: Sequence[FieldProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{source} is not valid:\n{lines}")


def _path(location: tuple[int | str, ...]) -> str:
    text = ""
    for index, part in enumerate(location):
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in _UNION_MEMBER_TAGS and index > 0 and isinstance(location[index - 1], int):
            # The discriminated-union branch right after a list index (sources[0].faq), not
            # a field: a field that is named like a source type (knowledge.faq) is kept.
            continue
        else:
            text += f".{part}" if text else str(part)
    return text


def _number(value: Any) -> Any:
    """A bound as a person writes it: 0, not the 0.0 that a float field's bound becomes."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _shown(value: Any) -> str:
    """A value as an error message quotes it: short, whatever the value holds."""
    text = reprlib_repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    context = error.get("ctx", {})
    given = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling; fields are camelCase)"
    if kind == "union_tag_invalid":  # reported at the source; the path gains ".type" below
        return (
            f"unknown source type {context.get('tag')!r}; expected one of {', '.join(SOURCE_TYPES)}"
        )
    if kind == "union_tag_not_found":
        return f"needs a type, one of {', '.join(SOURCE_TYPES)}"
    if kind in ("greater_than_equal", "greater_than"):
        bound = _number(context.get("ge", context.get("gt")))
        word = "at least" if kind == "greater_than_equal" else "more than"
        return f"must be {word} {bound}, got {_shown(given)}"
    if kind in ("less_than_equal", "less_than"):
        bound = _number(context.get("le", context.get("lt")))
        word = "at most" if kind == "less_than_equal" else "less than"
        return f"must be {word} {bound}, got {_shown(given)}"
    if kind == "literal_error":
        return f"must be one of {context.get('expected')}, got {_shown(given)}"
    if kind == "enum":
        return f"must be one of {context.get('expected')}, got {_shown(given)}"
    if kind == "string_type" and isinstance(given, int | float) and not isinstance(given, bool):
        return f'must be text; quote it in YAML, e.g. "{given}"'
    if kind == "string_pattern_mismatch":
        return f"{_shown(given)} does not match the pattern {context.get('pattern')}"
    return _short(str(error["msg"]).removeprefix("Value error, "))


def _short(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def explain(error: ValidationError) -> list[FieldProblem]:
    """One FieldProblem per pydantic error, with camelCase paths like spec.scaling.minReplicas."""
    problems = []
    errors = error.errors()
    for item in errors[:MAX_PROBLEMS]:
        path = _path(item["loc"])
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path += ".type"
        problems.append(FieldProblem(path, _message(item)))
    if len(errors) > MAX_PROBLEMS:
        problems.append(FieldProblem("", f"... and {len(errors) - MAX_PROBLEMS} more problems"))
    return problems


def _label(manifest: Any) -> str:
    if not isinstance(manifest, dict):
        return "document"
    kind = manifest.get("kind", "?")
    metadata = manifest.get("metadata")
    name = metadata.get("name", "?") if isinstance(metadata, dict) else "?"
    return f"{_plain(kind)}/{_plain(name)}"


def _plain(value: Any) -> str:
    return value if isinstance(value, str) and len(value) <= SHOWN_CHARS else _shown(value)


def validate_manifest(manifest: Any, source: str = "manifest") -> BaseModel:
    """Validate one decoded manifest as a Business or LanguageModel; raise InvalidResourceError."""
    where = f"{source} ({_label(manifest)})"
    if not isinstance(manifest, dict):
        raise InvalidResourceError(source, [FieldProblem("", "a resource must be a YAML mapping")])
    api_version = manifest.get("apiVersion")
    kind = manifest.get("kind")
    if api_version != GROUP_VERSION:
        problem = f"must be {GROUP_VERSION}, got {_shown(api_version)}"
        raise InvalidResourceError(where, [FieldProblem("apiVersion", problem)])
    model = KINDS.get(str(kind))
    if model is None:
        problem = f"must be one of {', '.join(KINDS)}, got {_shown(kind)}"
        raise InvalidResourceError(where, [FieldProblem("kind", problem)])
    try:
        return model.model_validate(manifest)
    except ValidationError as error:
        raise InvalidResourceError(where, explain(error)) from error


def _documents(path: Path) -> Iterator[tuple[int, Any]]:
    text = path.read_text(encoding="utf-8")
    try:
        for index, document in enumerate(iter_documents(text)):
            if document is not None:
                yield index, document
    except yaml.YAMLError as error:
        raise InvalidResourceError(
            str(path), [FieldProblem("", f"is not valid YAML: {_short(str(error))}")]
        ) from error
    except UnsafeYamlError as error:
        raise InvalidResourceError(str(path), [FieldProblem("", str(error))]) from error


def load_resources(path: Path) -> list[BaseModel]:
    """Every Katha resource in a multi-document YAML file; the first invalid one raises."""
    resources = []
    for index, document in _documents(path):
        source = f"{path}" if index == 0 else f"{path}#{index + 1}"
        resources.append(validate_manifest(document, source))
    return resources
