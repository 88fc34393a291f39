"""`katha up` follows its folder while it runs: an owner's change in the console (written
to the Business YAML by console.businesses.files), a developer's edit, or a request to
re-index now reaches customers without a restart.

Every second the follower looks at the folder's resource files, the knowledge files the
Businesses name, and the refresh requests (`STATE_DIR/refresh-requests/NAMESPACE.NAME`,
written by the console). A change is acted on once the files held still for one look, so
an editor caught half-way through a save is not read. Then the whole folder is loaded and
validated as at start: an invalid folder is reported (once per change, as `katha up`
reports it at start) and everything keeps serving the last good files. A valid one is
applied: the router's routing-table file is rewritten (owner number, pause), which the
router reloads by itself; then, tenant by tenant, knowledge that changed or a refresh
request re-indexes the tenant (its uploaded documents included), and its Serve
application is deployed again with the new Business (greeting, persona, hours). A pause
or a new owner number alone is the router's to act on: the agent keeps running (a
redeploy replaces its replicas for seconds, for nothing it reads). One change is applied
at a time, on the follower's own thread.

Adding or removing a Business needs a restart (new sockets, numbers and credentials):
the follower says so and keeps serving the Businesses it started with.
"""

import json
import logging
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from katha_cli.local import ray_agents
from katha_cli.local.indexing import IndexOutcome, config_digest, index_all
from katha_cli.local.workspace import (
    LocalTenant,
    Workspace,
    WorkspaceError,
    files_digest,
    load_workspace,
    resource_files,
)

if TYPE_CHECKING:
    from katha_cli.local.platform import LocalPlatform

log = logging.getLogger(__name__)

REFRESH_REQUESTS = "refresh-requests"
POLL_SECONDS = 1.0
# A request is named NAMESPACE.NAME (both DNS labels, so exactly one dot); anything else
# in the folder (a temporary file being written) is left alone.
_REQUEST_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?")

# (path, modification time in ns, size) of every file the folder's state depends on.
Fingerprint = tuple[tuple[str, int, int], ...]


class _StoppingError(Exception):
    """`katha up` is stopping: leave the change half-applied, the next start redoes it."""


def refresh_requests_dir(state_dir: Path) -> Path:
    """Where the console asks for a re-index: one file per Business, NAMESPACE.NAME."""
    return state_dir / REFRESH_REQUESTS


def fingerprint(directory: Path, workspace: Workspace) -> Fingerprint:
    """What the folder looks like now, cheaply: the resource files and the files the
    Businesses' `file:` sources name, by modification time and size."""
    paths = set(resource_files(directory))
    for tenant in workspace.tenants:
        for source in tenant.business.spec.knowledge.sources:
            name = getattr(source, "file", None)
            if not name:
                continue
            path = tenant.base_dir / name
            paths.add(path)
            if path.is_dir():
                paths.update(item for item in path.rglob("*") if item.is_file())
    seen = []
    for path in sorted(paths):
        try:
            stat = path.stat()
        except OSError:
            seen.append((str(path), -1, -1))
            continue
        seen.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(seen)


def knowledge_of(workspace: Workspace, tenant: LocalTenant) -> str:
    """Everything the tenant's index is built from, apart from uploads: its knowledge
    spec (sources and the owner's FAQ), the bytes of its files and its ConfigMaps."""
    spec = tenant.business.spec.knowledge.model_dump(mode="json", by_alias=True)
    return "|".join(
        (
            json.dumps(spec, sort_keys=True, ensure_ascii=False),
            files_digest(tenant),
            config_digest(workspace, tenant),
        )
    )


def agent_view(tenant: LocalTenant) -> LocalTenant:
    """The tenant as its agent sees it: what only the router reads (the pause, the owner
    number it tells of a handoff) set alike, so that a change of those alone redeploys
    nothing. `handoff.enabled` stays: the agent says whether a person will answer."""
    spec = tenant.business.spec
    handoff = spec.handoff.model_copy(update={"owner_number": None})
    routed_only = spec.model_copy(update={"paused": False, "handoff": handoff})
    return replace(tenant, business=tenant.business.model_copy(update={"spec": routed_only}))


def routing_news(old: LocalTenant, new: LocalTenant) -> list[str]:
    """What the router now does otherwise for the tenant, in a few words for the log."""
    before, after = old.business.spec, new.business.spec
    news = []
    if after.paused != before.paused:
        news.append(
            "paused: messages are kept for the owner" if after.paused else "answering again"
        )
    if after.handoff.owner_number != before.handoff.owner_number:
        news.append("owner number changed")
    return news


def pending_requests(folder: Path) -> dict[str, Path]:
    """The refresh requests waiting, by Serve application name (NAMESPACE.NAME)."""
    if not folder.is_dir():
        return {}
    return {
        path.name: path
        for path in folder.iterdir()
        if _REQUEST_NAME.fullmatch(path.name) and path.is_file()
    }


@dataclass(frozen=True)
class _Reload:
    """One tenant to bring up to date: as it serves from now on, and why."""

    tenant: LocalTenant
    changed: bool  # its Business (or its credentials) changed
    reindex: bool
    request: Path | None  # the refresh request that asked for it, deleted when it starts
    knowledge: str  # what its index is built from once re-indexed (`knowledge_of`)


class Follower:
    """The thread that applies changes of the folder to a running `LocalPlatform`."""

    def __init__(self, platform: "LocalPlatform", poll_seconds: float = POLL_SECONDS) -> None:
        if platform.workspace is None:
            raise ValueError("follow a platform that started")
        self._platform = platform
        self._poll = poll_seconds
        self._requests = refresh_requests_dir(platform.state_dir)
        self._requests.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._seen = fingerprint(platform.options.directory, platform.workspace)
        # What each tenant's index was last built from: the files on disk are already the
        # new ones when a change is seen, so this is kept rather than read again.
        self._knowledge = {
            tenant.key: knowledge_of(platform.workspace, tenant)
            for tenant in platform.workspace.tenants
        }
        self._settling = self._seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="follow-folder", daemon=True)

    def start(self) -> "Follower":
        self._thread.start()
        return self

    def stop(self, timeout: float = 120.0) -> None:
        """Stop after the step running now (an index run stops between tenants)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        say = self._platform.say
        while not self._stop.wait(self._poll):
            try:
                self.check()
            except _StoppingError:
                return
            except Exception as error:  # one failed look must not end the following
                if self._stop.is_set():
                    return
                say(f"  ✗ following the folder: {type(error).__name__}: {str(error)[:300]}")

    def _checkpoint(self) -> None:
        if self._stop.is_set():
            raise _StoppingError

    def check(self) -> None:
        """One look: apply what changed since the last one, if anything did."""
        platform = self._platform
        current = platform.workspace
        if current is None:  # stopped under us
            return
        now = fingerprint(platform.options.directory, current)
        requests = pending_requests(self._requests)
        # Acted on once it held still for one look: an editor's save is not read half-way.
        changed = now != self._seen and now == self._settling
        self._settling = now
        if not changed and not requests:
            return
        workspace = current
        if changed:
            self._seen = now
            loaded = self._load()
            if loaded is None and not requests:
                return
            workspace = loaded or current
        self._apply(current, workspace, requests)

    def _load(self) -> Workspace | None:
        """The folder as it is now, or None (said why) when it cannot be served."""
        platform = self._platform
        try:
            return load_workspace(platform.options.directory, platform.state_dir)
        except WorkspaceError as error:
            platform.say(
                f"  ✗ {platform.options.directory} changed but is not valid; "
                "still serving the last good files:"
            )
            for problem in error.problems:
                platform.say(f"    ✗ {problem}")
            return None
        except OSError as error:  # a file replaced while it was read: look again
            self._seen = ()
            platform.say(f"  · the folder is changing ({type(error).__name__}); looking again")
            return None

    def _apply(self, current: Workspace, new: Workspace, requests: dict[str, Path]) -> None:
        """Tell the router and `katha chat` what serves now, then bring every tenant whose
        Business, knowledge or refresh request changed up to date."""
        say = self._platform.say
        known = {tenant.key: tenant for tenant in current.tenants}
        fresh = {tenant.key: tenant for tenant in new.tenants}
        for key in sorted(fresh.keys() - known.keys()):
            say(f"  ! {key} was added: restart `katha up` to serve it")
        for key in sorted(known.keys() - fresh.keys()):
            say(f"  ! {key} was removed: it serves until `katha up` restarts")
        by_app = {tenant.app_name: tenant for tenant in current.tenants}
        for name in sorted(requests.keys() - by_app.keys()):
            say(f"  ! re-index asked for {name}, which is not served here")
            requests.pop(name).unlink(missing_ok=True)
        serving = replace(new, tenants=[fresh.get(key, old) for key, old in known.items()])
        reloads = [
            reload
            for old in current.tenants
            if (reload := self._reload_of(old, serving, requests)) is not None
        ]
        routed = {
            old.key: news
            for old, new in zip(current.tenants, serving.tenants, strict=True)
            if (news := routing_news(old, new))
        }
        if not (reloads or routed):
            return
        # The routing table first: a pause or a new owner number needs no agent.
        self._platform.publish(serving)
        for reload in reloads:
            self._checkpoint()
            self._reload(serving, reload)
        for key, news in routed.items():  # said last: anything redeployed said so before
            say(f"  ↻ {key}: routing updated ({'; '.join(news)})")

    def _reload_of(
        self, old: LocalTenant, serving: Workspace, requests: dict[str, Path]
    ) -> _Reload | None:
        tenant = next(item for item in serving.tenants if item.key == old.key)
        request = requests.get(old.app_name)
        knowledge = knowledge_of(serving, tenant)
        reindex = request is not None or knowledge != self._knowledge.get(tenant.key)
        changed = agent_view(tenant) != agent_view(old)
        if not (reindex or changed):
            return None
        return _Reload(tenant, changed, reindex, request, knowledge)

    def _reload(self, serving: Workspace, reload: _Reload) -> None:
        """Re-index the tenant if asked, then deploy its agent again; one line says how."""
        platform, tenant = self._platform, reload.tenant
        done = ["Business changed"] if reload.changed else []
        if reload.reindex:
            if reload.request is not None:
                reload.request.unlink(missing_ok=True)  # its run starts now
            outcome = self._reindex(serving, tenant)
            if outcome is not None:
                platform.indexes[tenant.key] = outcome
                self._knowledge[tenant.key] = reload.knowledge  # a failed run is tried again
                done.append("knowledge re-indexed")
            else:
                done.append("the last good index still serves")
        self._checkpoint()
        try:
            stats = ray_agents.redeploy_agent(
                tenant,
                platform.app_args(tenant),
                platform.agents_url,
                platform.options.ready_timeout,
            )
        except Exception as error:
            platform.say(
                f"  ✗ {tenant.key}: its agent was not deployed again "
                f"({type(error).__name__}: {str(error)[:300]})"
            )
            return
        platform.stats[tenant.key] = stats
        if platform.agent_endpoints is not None:  # the router posts to the new replica
            try:
                platform.agent_endpoints.refresh()
            except Exception:  # its own thread looks again within a second
                log.exception("agent endpoints not refreshed after a redeploy")
        done.append(f"index {stats.state}, {stats.chunks} chunks")
        platform.say(f"  ↻ {tenant.key}: reloaded ({'; '.join(done)})")

    def _reindex(self, serving: Workspace, tenant: LocalTenant) -> IndexOutcome | None:
        """Index the tenant's knowledge again; None (said why) when the run failed, which
        committed nothing: the index it had keeps answering."""
        platform = self._platform
        why = ""
        try:
            outcomes = index_all(
                replace(serving, tenants=[tenant]),
                platform.state_dir,
                refresh=True,
                say=platform.say,
                checkpoint=self._checkpoint,
            )
        except _StoppingError:
            raise
        except Exception as error:
            why = f"{type(error).__name__}: {str(error)[:300]}"
        else:
            outcome = outcomes[tenant.key]
            if outcome.error is None:
                return outcome
            why = outcome.error
        platform.say(
            f"  ✗ {tenant.key}: re-indexing failed ({why}); the last good index keeps serving"
        )
        return None
