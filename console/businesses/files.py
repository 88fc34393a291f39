"""Businesses on one machine: the YAML files `katha up` runs, changed in place.

`files` maps each tenant ("namespace/name"; a Business without a namespace is in
"default", as `katha up` has it) to the file holding its Business, which may hold other
documents too (its Secret, a LanguageModel, other Businesses): only the Business's own
document is rewritten, with ruamel.yaml's round trip, so its comments, key order and
quoting stay as the owner or their developer wrote them; every other document stays
byte for byte. A change is checked as `katha validate` checks the file before anything
is written, and written whole or not at all (a temporary file in the same folder, then
os.replace, with the old file's permissions). Changes to one file are made one at a time.

`request_refresh` writes `refresh_dir/<namespace>.<name>` (the UTC time, as
2026-12-05T10:00:00Z and a newline), again atomically; `katha up` watches that folder,
re-indexes the tenant and deletes the file.
"""

import asyncio
import copy
import io
import itertools
import os
import re
import stat
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from console.businesses import BusinessesUnavailableError, BusinessNotFoundError
from console.businesses.fields import (
    Compute,
    FieldPath,
    check_paths,
    check_valid,
    split_tenant,
    value_at,
    with_changes,
)
from katha.api.documents import UnsafeYamlError, iter_documents

# A line that starts a new YAML document ("---", maybe with a comment or a value after it).
_SEPARATOR = re.compile(r"^---(?=\s|$)", re.MULTILINE)


class FileBusinesses:
    def __init__(
        self,
        files: dict[str, Path],
        refresh_dir: Path,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._files = dict(files)
        self._refresh_dir = refresh_dir
        self._clock = clock
        self._locks: dict[Path, asyncio.Lock] = {}

    async def get(self, tenant: str) -> dict[str, Any]:
        path, namespace, name = self._where(tenant)
        text = await asyncio.to_thread(_read, path, tenant)
        _, business = _find(_chunks(text), namespace, name, tenant)
        return business

    async def apply(self, tenant: str, changes: dict[FieldPath, Any]) -> dict[str, Any]:
        check_paths(changes)
        return await self.update(tenant, lambda _spec: changes)

    async def update(self, tenant: str, compute: Compute) -> dict[str, Any]:
        path, namespace, name = self._where(tenant)
        async with self._locks.setdefault(path.resolve(), asyncio.Lock()):
            return await asyncio.to_thread(_apply, path, namespace, name, tenant, compute)

    async def request_refresh(self, tenant: str) -> None:
        path, namespace, name = self._where(tenant)
        if not path.is_file():
            raise BusinessNotFoundError(tenant)
        requested = self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        target = self._refresh_dir / f"{namespace}.{name}"
        try:
            await asyncio.to_thread(self._refresh_dir.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(write_atomically, target, f"{requested}\n", 0o644)
        except OSError as error:
            raise BusinessesUnavailableError(f"could not ask for a re-index: {error}") from error

    async def aclose(self) -> None:
        return None

    def _where(self, tenant: str) -> tuple[Path, str, str]:
        namespace, name = split_tenant(tenant)
        path = self._files.get(f"{namespace}/{name}")
        if path is None:
            raise BusinessNotFoundError(tenant)
        return path, namespace, name


def _read(path: Path, tenant: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise BusinessNotFoundError(tenant) from error
    except (OSError, UnicodeDecodeError) as error:
        raise BusinessesUnavailableError(f"could not read {path.name}: {error}") from error


def _chunks(text: str) -> list[str]:
    """The text of each document, its `---` line included: joined, exactly `text`."""
    starts = [0, *(m.start() for m in _SEPARATOR.finditer(text) if m.start() > 0)]
    return [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]


def _parsed(chunk: str) -> Any:
    try:
        documents = [d for d in iter_documents(chunk) if d is not None]
    except (yaml.YAMLError, UnsafeYamlError) as error:
        raise BusinessesUnavailableError(f"the Business file is not valid YAML: {error}") from error
    return documents[0] if len(documents) == 1 else None


def _find(chunks: list[str], namespace: str, name: str, tenant: str) -> tuple[int, dict[str, Any]]:
    """The index of the tenant's Business among `chunks`, and the Business (no status)."""
    for index, chunk in enumerate(chunks):
        document = _parsed(chunk)
        if not isinstance(document, dict) or document.get("kind") != "Business":
            continue
        metadata = document.get("metadata") or {}
        if metadata.get("name") == name and (metadata.get("namespace") or "default") == namespace:
            document.pop("status", None)
            return index, document
    raise BusinessNotFoundError(tenant)


def _apply(path: Path, namespace: str, name: str, tenant: str, compute: Compute) -> dict[str, Any]:
    text = _read(path, tenant)
    chunks = _chunks(text)
    index, business = _find(chunks, namespace, name, tenant)
    changes = compute(copy.deepcopy(business.get("spec") or {}))
    check_paths(changes)
    expected = {**business, "spec": with_changes(business.get("spec") or {}, changes)}
    check_valid(expected)  # BusinessInvalidError: nothing is written
    chunks[index] = _rewritten(chunks[index], changes)
    new_text = "".join(chunks)
    # The round trip must give exactly the intended Business and leave the rest alone:
    # checked on the text about to be written, so a surprise never reaches the file.
    if [_parsed(c) for i, c in enumerate(_chunks(new_text)) if i != index] != [
        _parsed(c) for i, c in enumerate(chunks) if i != index
    ] or _find(_chunks(new_text), namespace, name, tenant)[1] != expected:
        raise BusinessesUnavailableError(f"could not rewrite {path.name} safely; it is unchanged")
    try:
        write_atomically(path, new_text, stat.S_IMODE(path.stat().st_mode))
    except OSError as error:
        raise BusinessesUnavailableError(f"could not write {path.name}: {error}") from error
    return expected


def _rewritten(chunk: str, changes: dict[FieldPath, Any]) -> str:
    """The document with `changes` made in place, keeping comments, order and quotes."""
    head = ""
    if chunk.startswith("---"):
        head, _, chunk = chunk.partition("\n")
        head += "\n"
    round_trip = _round_trip(chunk)
    try:
        document = round_trip.load(chunk)
    except YAMLError as error:  # e.g. a key twice: PyYAML reads it, ruamel refuses it
        raise BusinessesUnavailableError(
            f"the Business could not be rewritten safely ({type(error).__name__}); it is unchanged"
        ) from error
    spec = document.setdefault("spec", CommentedMap())
    for path, value in changes.items():
        _set(spec, path, value)
    out = io.StringIO()
    round_trip.dump(document, out)
    return head + out.getvalue()


def _set(node: Any, path: FieldPath, value: Any) -> None:
    found, current = value_at(node, path)
    if found and current == value:
        return  # unchanged: keep what is written there (comments, quotes) as it is
    parents: list[tuple[Any, str]] = []
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            if value is None:
                return
            node[part] = CommentedMap()
        parents.append((node, part))
        node = node[part]
    if value is not None:
        node[path[-1]] = _quoted(value)
        return
    node.pop(path[-1], None)
    for parent, part in reversed(parents):  # no `persona: {}` left behind
        if parent[part]:
            break
        del parent[part]


def _quoted(value: Any) -> Any:
    """`value` with every text that YAML 1.1 readers (PyYAML, hence `katha validate` and
    `katha up`) would read as something else in quotes: ruamel writes YAML 1.2, where
    `13:00`, `yes` and `on` are plain text, but to them they are 780, True and True."""
    if isinstance(value, dict):
        return {_quoted(key): _quoted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_quoted(item) for item in value]
    if isinstance(value, str):
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        return DoubleQuotedScalarString(value) if tag != _TEXT else value
    return copy.deepcopy(value)


_RESOLVER = yaml.resolver.Resolver()
_TEXT = "tag:yaml.org,2002:str"


def _round_trip(text: str) -> YAML:
    round_trip = YAML(typ="rt")
    round_trip.preserve_quotes = True
    round_trip.width = 4096  # never re-wrap a long greeting or answer
    round_trip.allow_unicode = True
    mapping, offset = _indentation(text)
    round_trip.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return round_trip


def _indentation(text: str) -> tuple[int, int]:
    """How the file indents maps and lists (`key:` then `  - item`, or `- item` level with
    the key), so that the rewritten document looks like the rest of the file."""
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    mapping: int | None = None
    offset: int | None = None
    for before, line in itertools.pairwise(lines):
        if not before.rstrip().endswith(":") or before.lstrip().startswith("- "):
            continue
        step = (len(line) - len(line.lstrip())) - (len(before) - len(before.lstrip()))
        if line.lstrip().startswith("- ") and offset is None and step >= 0:
            offset = step
        elif mapping is None and step > 0:
            mapping = step
    return mapping or 2, offset or 0


def write_atomically(path: Path, text: str, mode: int) -> None:
    """`text` into `path` whole or not at all: a temporary file beside it, then a rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
