"""What `katha up` serves: the Business files in one folder, their WhatsApp credentials
(`credentials`), and the state folder where indexes, the inbox, the outbox and generated
secrets live. A tenant without a real access token replies to the local outbox; one with
it is "live": its replies go to Meta.
"""

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from katha.api import Business, InvalidResourceError, LanguageModel, validate_manifest
from katha.api.documents import UnsafeYamlError, load_documents
from katha.api.fields import DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN, SECRET_KEY_PATTERN
from katha.api.knowledge import KnowledgeSource
from katha.contracts.routing import Credentials
from katha_cli.local.credentials import (
    CredentialsError,
    GeneratedSecrets,
    read_env_file,
    secret_values,
    settle_credentials,
)

# Folders that hold no resources: a local web site, a state folder, hidden folders.
SKIPPED_DIRS = frozenset({"sites", "node_modules", "__pycache__"})


class WorkspaceError(Exception):
    """The folder cannot be served; each problem is one line for the user."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class LocalTenant:
    business: Business
    file: Path
    credentials: Credentials
    credentials_from: str  # where the access token came from, for the summary
    live: bool  # a real access token: replies go to the Graph API, not the outbox

    @property
    def namespace(self) -> str:
        return self.business.metadata.namespace or "default"

    @property
    def name(self) -> str:
        return self.business.metadata.name

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def app_name(self) -> str:
        """The Ray Serve application's name."""
        return f"{self.namespace}.{self.name}"

    @property
    def route_prefix(self) -> str:
        return f"/{self.namespace}/{self.name}"

    @property
    def base_dir(self) -> Path:
        """Where its `file:` sources are: the folder of its YAML file."""
        return self.file.parent

    @property
    def phone_number_id(self) -> str:
        return self.business.spec.whatsapp.phone_number_id

    @property
    def display_name(self) -> str:
        return self.business.spec.display_name or self.name

    def matches(self, wanted: str) -> bool:
        return wanted in {self.key, self.name, self.app_name, self.phone_number_id}


def missing_files(tenant: LocalTenant) -> list[str]:
    """`file:` sources that name nothing on disk (they will fail, the others still index)."""
    missing = []
    for source in tenant.business.spec.knowledge.sources:
        name = getattr(source, "file", None)
        if name and not (tenant.base_dir / name).exists():
            missing.append(f"{getattr(source, 'name', None) or name}: {tenant.base_dir / name}")
    return missing


def inside(folder: Path, path: Path) -> Path | None:
    """`path` with symlinks resolved when it lies inside `folder`, else None."""
    resolved = path.resolve()
    return resolved if resolved.is_relative_to(folder.resolve()) else None


def _files_outside(business: Business, base_dir: Path) -> list[str]:
    """`file:` sources that resolve (through a symlink, say) outside the Business's folder."""
    problems = []
    for position, source in enumerate(business.spec.knowledge.sources):
        name = getattr(source, "file", None)
        if not name:
            continue
        path = base_dir / name
        paths = [path, *path.rglob("*")] if path.is_dir() else [path]
        if any(inside(base_dir, item) is None for item in paths):
            problems.append(
                f"spec.knowledge.sources[{position}].file: {name!r} leads outside {base_dir}; "
                "keep knowledge files in the folder beside the Business"
            )
    return problems


@dataclass(frozen=True)
class Workspace:
    directory: Path
    tenants: list[LocalTenant]
    language_models: list[LanguageModel]
    # `kind: ConfigMap` documents in the folder, for `configMapRef` sources:
    # (namespace, name) -> key -> bytes
    config_maps: dict[tuple[str, str], dict[str, bytes]]

    def write_config_maps(self, root: Path) -> None:
        """Lay the ConfigMaps out as Kubernetes mounts them: ROOT/NAMESPACE/NAME/KEY."""
        for (namespace, name), values in self.config_maps.items():
            folder = root / namespace / name
            for key, value in values.items():
                path = folder / key
                # Names and keys were checked when the folder was read; this keeps it so.
                if inside(root, path) is None:
                    raise WorkspaceError([f"ConfigMap {namespace}/{name} key {key!r}: refused"])
                folder.mkdir(parents=True, exist_ok=True)
                if not path.is_file() or path.read_bytes() != value:
                    path.write_bytes(value)

    def tenant(self, wanted: str) -> LocalTenant:
        found = [tenant for tenant in self.tenants if tenant.matches(wanted)]
        if len(found) != 1:
            names = ", ".join(tenant.key for tenant in self.tenants) or "none"
            raise WorkspaceError([f"no single tenant {wanted!r} here; tenants: {names}"])
        return found[0]


def resource_files(directory: Path) -> list[Path]:
    """YAML files under `directory`, skipping hidden folders, web sites and the state."""
    found = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory).parts
        if any(part.startswith(".") or part in SKIPPED_DIRS for part in relative[:-1]):
            continue
        if path.suffix in {".yaml", ".yml"} and path.is_file():
            found.append(path)
    return found


def load_workspace(directory: Path, state_dir: Path) -> Workspace:
    """Validate every resource in `directory` and settle each Business's credentials."""
    if not directory.is_dir():
        raise WorkspaceError([f"{directory}: no such folder"])
    folder = _Documents()
    for path in resource_files(directory):
        folder.read(path)
    problems = folder.problems + _clashes(folder.businesses)
    if problems:
        raise WorkspaceError(problems)
    if not folder.businesses:
        raise WorkspaceError([f"{directory}: holds no Business resource (*.yaml)"])
    tenants = _tenants(directory, state_dir, folder)
    return Workspace(directory.resolve(), tenants, folder.models, folder.config_maps)


@dataclass
class _Documents:
    """What the folder's YAML files hold, and every problem found reading them."""

    problems: list[str] = field(default_factory=list)
    businesses: list[tuple[Business, Path]] = field(default_factory=list)
    models: list[LanguageModel] = field(default_factory=list)
    secret_docs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    config_maps: dict[tuple[str, str], dict[str, bytes]] = field(default_factory=dict)

    def read(self, path: Path) -> None:
        try:
            documents = [doc for doc in load_documents(path.read_text("utf-8")) if doc]
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            self.problems.append(f"{path}: is not valid YAML: {str(error)[:300]}")
            return
        except UnsafeYamlError as error:
            self.problems.append(f"{path}: {error}")
            return
        for index, document in enumerate(documents):
            where = str(path) if index == 0 else f"{path}#{index + 1}"
            if not isinstance(document, dict) or "kind" not in document:
                continue  # questions, values files and other data kept beside the resources
            self._add(document, where, path)

    def _add(self, document: dict[str, Any], where: str, path: Path) -> None:
        if document.get("kind") == "Secret" and document.get("apiVersion") == "v1":
            try:
                namespace, name, values = secret_values(document)
            except ValueError as error:
                self.problems.append(f"{where}: Secret data must be base64 ({error})")
                return
            self.secret_docs[(namespace, name)] = values
            return
        if document.get("kind") == "ConfigMap" and document.get("apiVersion") == "v1":
            try:
                key, data = _config_map(document)
            except ValueError as error:
                self.problems.append(f"{where}: {error}")
                return
            self.config_maps[key] = data
            return
        if not str(document.get("apiVersion", "")).startswith("katha.dev/"):
            return
        try:
            resource = validate_manifest(document, where)
        except InvalidResourceError as error:
            self.problems.append(str(error))
            return
        if isinstance(resource, Business):
            outside = _files_outside(resource, path.parent)
            self.problems.extend(f"{where}: {line}" for line in outside)
            self.businesses.append((resource, path.resolve()))
        elif isinstance(resource, LanguageModel):
            self.models.append(resource)


def _tenants(directory: Path, state_dir: Path, folder: _Documents) -> list[LocalTenant]:
    """Each Business with its credentials settled (see `credentials`)."""
    env = {**read_env_file(directory / ".env")}
    try:
        generated = GeneratedSecrets(state_dir / "credentials.json")
    except CredentialsError as error:
        raise WorkspaceError([str(error)]) from None
    tenants, problems = [], []
    for business, path in folder.businesses:
        tenant_env = {**env, **read_env_file(path.parent / ".env"), **os.environ}
        try:
            settled = settle_credentials(business, folder.secret_docs, tenant_env, generated)
        except CredentialsError as error:
            problems.append(str(error))
            continue
        tenants.append(
            LocalTenant(business, path, settled.credentials, settled.origin, settled.live)
        )
    if problems:
        raise WorkspaceError(problems)
    generated.save()
    return tenants


def _clashes(found: list[tuple[Business, Path]]) -> list[str]:
    problems = []
    seen_names: dict[str, Path] = {}
    seen_numbers: dict[str, str] = {}
    for business, path in found:
        key = f"{business.metadata.namespace or 'default'}/{business.metadata.name}"
        number = business.spec.whatsapp.phone_number_id
        if key in seen_names:
            problems.append(f"{path}: Business {key} is also defined in {seen_names[key]}")
        if number in seen_numbers:
            problems.append(
                f"{path}: Business {key} uses phone number ID {number}, "
                f"already used by {seen_numbers[number]}"
            )
        seen_names.setdefault(key, path)
        seen_numbers.setdefault(number, key)
    return problems


def _config_map(document: dict[str, Any]) -> tuple[tuple[str, str], dict[str, bytes]]:
    """A ConfigMap document's (namespace, name) and its values, checked as the API server
    would: they become folder and file names under the state folder."""
    metadata = document.get("metadata") or {}
    namespace = str(metadata.get("namespace") or "default")
    name = str(metadata.get("name") or "")
    if not re.fullmatch(DNS_LABEL_PATTERN, namespace) or len(namespace) > 63:
        raise ValueError(f"ConfigMap namespace {namespace[:80]!r} is not a Kubernetes name")
    if not re.fullmatch(DNS_SUBDOMAIN_PATTERN, name) or len(name) > 253:
        raise ValueError(f"ConfigMap name {name[:80]!r} is not a Kubernetes object name")
    values = {str(k): str(v).encode() for k, v in (document.get("data") or {}).items()}
    try:
        for key, value in (document.get("binaryData") or {}).items():
            values[str(key)] = base64.b64decode(str(value), validate=True)
    except ValueError as error:
        raise ValueError(f"ConfigMap binaryData must be base64 ({error})") from None
    for key in values:
        if not re.fullmatch(SECRET_KEY_PATTERN, key) or len(key) > 253:
            raise ValueError(
                f"ConfigMap key {key[:80]!r} is not a valid key: use letters, digits, '-', '_' "
                "and '.' (not '.' or '..' alone, no '/')"
            )
    return (namespace, name), values


def files_digest(tenant: LocalTenant) -> str:
    """A digest of the local files the tenant's `file:` sources name (path, size, bytes)."""
    digest = hashlib.sha256()
    for source in tenant.business.spec.knowledge.sources:
        for path in _local_files(source, tenant.base_dir):
            digest.update(str(path).encode())
            digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()[:16]


def _local_files(source: KnowledgeSource, base_dir: Path) -> list[Path]:
    """The files a `file:` source names, never one outside `base_dir` (see _files_outside)."""
    name = getattr(source, "file", None)
    if not name:
        return []
    path = inside(base_dir, base_dir / name)
    if path is None:
        return []
    if path.is_dir():
        found = (inside(base_dir, item) for item in path.rglob("*"))
        return sorted(item for item in found if item is not None and item.is_file())
    return [path]
