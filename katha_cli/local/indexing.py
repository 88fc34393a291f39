"""Each Business's knowledge indexed under the state folder by the same ingestion a cluster
runs, skipped when neither its files, its ConfigMaps nor its spec changed since last time."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from katha.contracts.serving import knowledge_revision
from katha_cli.local import Say
from katha_cli.local.state import write_private
from katha_cli.local.workspace import LocalTenant, Workspace, files_digest

STATUS_FILE = "index-status.json"


@dataclass
class IndexOutcome:
    reused: bool
    revision: str
    failures: list[str] = field(default_factory=list)
    error: str | None = None


def config_map_dir(state_dir: Path, tenant: LocalTenant) -> Path:
    return state_dir / "configmaps" / tenant.namespace


def index_all(
    workspace: Workspace,
    state_dir: Path,
    *,
    refresh: bool,
    say: Say,
    checkpoint: Callable[[], None],
) -> dict[str, IndexOutcome]:
    """Index every tenant whose knowledge changed (all of them with `refresh`); `checkpoint`
    runs before each one so that Ctrl-C stops between tenants."""
    from agent_runtime.knowledge import REVISION_FILE
    from ingestion.job import quiet_http_logs
    from ingestion.refresh import Refresh, refresh_business
    from ingestion.settings import IngestionSettings
    from ingestion.sources import Places

    quiet_http_logs()
    index_root = state_dir / "index"
    workspace.write_config_maps(state_dir / "configmaps")
    status = _load_json(state_dir / STATUS_FILE)
    # Its own sites are served on 127.0.0.1 (`LocalPlatform._serve_sites`): loopback is opened for
    # them; cloud metadata and link-local addresses stay closed.
    settings = IngestionSettings(allow_loopback=True)
    outcomes: dict[str, IndexOutcome] = {}
    for tenant in workspace.tenants:
        revision = knowledge_revision(
            tenant.business.spec, files_digest(tenant) + config_digest(workspace, tenant)
        )
        marker = tenant_index(index_root, tenant) / REVISION_FILE
        recorded = marker.read_text().strip() if marker.is_file() else ""
        clean = not status.get(tenant.key, {}).get("failed")
        if recorded == revision and clean and not refresh:
            outcomes[tenant.key] = IndexOutcome(reused=True, revision=revision)
            say(f"  · {tenant.key}: knowledge unchanged, index reused")
            continue
        checkpoint()
        say(f"  · {tenant.key}: indexing its knowledge")
        job = Refresh(
            index_root=index_root,
            places=Places(tenant.base_dir, config_map_dir(state_dir, tenant)),
            settings=settings,
        )
        report = refresh_business(tenant.business, job)
        for line in report.render().splitlines():
            say(f"    {line}")
        failures = [f"{item.source}: {'; '.join(item.failures)}" for item in report.failed]
        if report.error is None:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(revision)
        outcomes[tenant.key] = IndexOutcome(False, revision, failures, report.error)
        status[tenant.key] = {"failed": bool(failures or report.error)}
    write_private(state_dir / STATUS_FILE, json.dumps(status, indent=2))
    return outcomes


def tenant_index(index_root: Path, tenant: LocalTenant) -> Path:
    from ingestion.index.schema import tenant_path

    return tenant_path(index_root, tenant.namespace, tenant.name)


def config_digest(workspace: Workspace, tenant: LocalTenant) -> str:
    """A digest of the ConfigMaps the tenant's sources name, and of the owner's FAQ
    (spec.knowledge.faq, which the console edits): either edited re-indexes."""
    digest = hashlib.sha256()
    faq = tenant.business.spec.knowledge.faq
    if faq:  # none: the digest a Business had before the field existed
        items = [item.model_dump(mode="json", exclude_none=True) for item in faq]
        digest.update(json.dumps(items, sort_keys=True, ensure_ascii=False).encode())
    for source in tenant.business.spec.knowledge.sources:
        ref = getattr(source, "config_map_ref", None)
        if ref is not None:
            values = workspace.config_maps.get((tenant.namespace, ref.name), {})
            digest.update(f"{ref.name}/{ref.key}".encode())
            digest.update(values.get(ref.key, b"<missing>"))
    return digest.hexdigest()[:16]


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text())
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
