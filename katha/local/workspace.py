"""What `katha up` serves: the Business files in one folder, their WhatsApp credentials,
and the state folder where indexes, the inbox, the outbox and generated secrets live.

Credentials come, per Business, from its `credentialsSecretRef`: a `kind: Secret`
document in any YAML file of the folder (keys accessToken, appSecret, verifyToken, as in
the cluster), or `.env` lines named after the Secret (`KANDY_BAKERY_WHATSAPP_ACCESS_TOKEN`
for the Secret `kandy-bakery-whatsapp`), or the process environment (which wins). What
is missing is generated once and kept in the state folder: such a tenant's replies go to
the local outbox. A tenant with a real access token is "live": its replies go to Meta.
"""

import base64
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from katha.api import Business, InvalidResourceError, LanguageModel, validate_manifest
from katha.api.documents import UnsafeYamlError, load_documents
from katha.api.fields import DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN, SECRET_KEY_PATTERN
from katha.api.knowledge import KnowledgeSource
from katha.local.state import write_private
from katha.routing import Credentials
from katha.settings import PlaceholderSecretError, refuse_placeholder

CREDENTIAL_KEYS = ("accessToken", "appSecret", "verifyToken")
GENERATED_PREFIX = "local-"
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
    problems: list[str] = []
    found: list[tuple[Business, Path]] = []
    models: list[LanguageModel] = []
    secret_docs: dict[tuple[str, str], dict[str, str]] = {}
    config_maps: dict[tuple[str, str], dict[str, bytes]] = {}
    for path in resource_files(directory):
        try:
            documents = [doc for doc in load_documents(path.read_text("utf-8")) if doc]
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            problems.append(f"{path}: is not valid YAML: {str(error)[:300]}")
            continue
        except UnsafeYamlError as error:
            problems.append(f"{path}: {error}")
            continue
        for index, document in enumerate(documents):
            where = str(path) if index == 0 else f"{path}#{index + 1}"
            if not isinstance(document, dict) or "kind" not in document:
                continue  # questions, values files and other data kept beside the resources
            if document.get("kind") == "Secret" and document.get("apiVersion") == "v1":
                try:
                    namespace, name, values = _secret_values(document)
                except ValueError as error:
                    problems.append(f"{where}: Secret data must be base64 ({error})")
                    continue
                secret_docs[(namespace, name)] = values
                continue
            if document.get("kind") == "ConfigMap" and document.get("apiVersion") == "v1":
                try:
                    key, data = _config_map(document)
                except ValueError as error:
                    problems.append(f"{where}: {error}")
                    continue
                config_maps[key] = data
                continue
            if not str(document.get("apiVersion", "")).startswith("katha.dev/"):
                continue
            try:
                resource = validate_manifest(document, where)
            except InvalidResourceError as error:
                problems.append(str(error))
                continue
            if isinstance(resource, Business):
                outside = _files_outside(resource, path.parent)
                problems.extend(f"{where}: {line}" for line in outside)
                found.append((resource, path.resolve()))
            elif isinstance(resource, LanguageModel):
                models.append(resource)
    problems.extend(_clashes(found))
    if problems:
        raise WorkspaceError(problems)
    if not found:
        raise WorkspaceError([f"{directory}: holds no Business resource (*.yaml)"])
    env = {**read_env_file(directory / ".env")}
    generated = GeneratedSecrets(state_dir / "credentials.json")
    tenants = []
    for business, path in found:
        tenant_env = {**env, **read_env_file(path.parent / ".env"), **os.environ}
        try:
            tenants.append(_tenant(business, path, secret_docs, tenant_env, generated))
        except WorkspaceError as error:
            problems.extend(error.problems)
    if problems:
        raise WorkspaceError(problems)
    generated.save()
    return Workspace(directory.resolve(), tenants, models, config_maps)


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


def _secret_values(document: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    metadata = document.get("metadata") or {}
    values: dict[str, str] = {}
    for key, value in (document.get("data") or {}).items():
        values[str(key)] = base64.b64decode(str(value), validate=True).decode()
    for key, value in (document.get("stringData") or {}).items():
        values[str(key)] = str(value)
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or ""), values


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


def env_prefix(secret_name: str) -> str:
    """`kandy-bakery-whatsapp` -> `KANDY_BAKERY_WHATSAPP_`."""
    return re.sub(r"[^A-Z0-9]", "_", secret_name.upper()) + "_"


def env_name(secret_name: str, key: str) -> str:
    """`accessToken` of `kandy-bakery-whatsapp` -> `KANDY_BAKERY_WHATSAPP_ACCESS_TOKEN`."""
    return env_prefix(secret_name) + re.sub(r"(?<!^)([A-Z])", r"_\1", key).upper()


def _tenant(
    business: Business,
    path: Path,
    secret_docs: dict[tuple[str, str], dict[str, str]],
    env: dict[str, str],
    generated: "GeneratedSecrets",
) -> LocalTenant:
    namespace = business.metadata.namespace or "default"
    secret = business.spec.whatsapp.credentials_secret_ref.name
    document = secret_docs.get((namespace, secret)) or secret_docs.get(("", secret)) or {}
    values: dict[str, str] = {}
    origin: dict[str, str] = {}
    for key in CREDENTIAL_KEYS:
        variable = env_name(secret, key)
        if env.get(variable, "").strip():
            values[key], origin[key] = env[variable].strip(), variable
        elif document.get(key, "").strip():
            values[key], origin[key] = document[key].strip(), f"Secret {secret}"
    for key, value in values.items():
        try:
            refuse_placeholder(SecretStr(value))
        except PlaceholderSecretError as error:
            raise WorkspaceError(
                [f"{origin[key]} ({key}) for {namespace}/{secret}: {error}"]
            ) from None
    live = "accessToken" in values
    if live:
        missing = [key for key in CREDENTIAL_KEYS if key not in values]
        if missing:
            names = ", ".join(f"{key} ({env_name(secret, key)})" for key in missing)
            raise WorkspaceError(
                [
                    f"{namespace}/{secret} has a real accessToken but no {names}: Meta signs "
                    "webhooks with the app secret and checks the verify token, so a made-up "
                    "one would refuse every real message"
                ]
            )
    for key in CREDENTIAL_KEYS:
        if key not in values:
            values[key] = generated.value(f"{namespace}/{secret}", key)
    credentials = Credentials(
        access_token=SecretStr(values["accessToken"]),
        app_secret=SecretStr(values["appSecret"]),
        verify_token=SecretStr(values["verifyToken"]),
    )
    return LocalTenant(
        business=business,
        file=path,
        credentials=credentials,
        credentials_from=origin.get("accessToken", "generated (local outbox)"),
        live=live,
    )


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; `#` comments, `export ` and surrounding quotes allowed."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


class GeneratedSecrets:
    """Local credentials made up once and kept (mode 0600) so webhooks stay signed alike
    across restarts and `katha chat` can sign what it sends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._values: dict[str, dict[str, str]] = {}
        if path.is_file():
            try:
                self._values = json.loads(path.read_text())
            except ValueError:
                raise WorkspaceError(
                    [f"{path} is not valid JSON: delete it to make new local credentials"]
                ) from None
        self._changed = False

    def value(self, secret: str, key: str) -> str:
        entry = self._values.setdefault(secret, {})
        if key not in entry:
            entry[key] = GENERATED_PREFIX + secrets.token_urlsafe(24)
            self._changed = True
        return entry[key]

    def save(self) -> None:
        if not self._changed:
            return
        write_private(self.path, json.dumps(self._values, indent=2, sort_keys=True))
        self._changed = False


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
