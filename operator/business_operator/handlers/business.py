"""Reconcile one Business: children, route, and a status built from what was observed."""

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr, ValidationError

from business_operator.claims import creation_time, number_claimed
from business_operator.grants import SecretUse, granted, grants_check, secret_uses
from business_operator.handlers.index import IndexOutcome, forget_index, run_index
from business_operator.handlers.models import resolve_models
from business_operator.kube import KubeClient, decode_secret, secret_has_key
from business_operator.render import Platform, Tenant, render_agent_children, render_route
from business_operator.render.context import Workload
from business_operator.render.route import agent_endpoint
from business_operator.routing_table import RoutingTableWriter
from business_operator.signals import SIGNAL_CONDITIONS, condition_events, observe, read_whatsapp
from business_operator.status import Check, Observation, business_status
from katha.api import Business
from katha.contracts.routing import Credentials

CREDENTIAL_KEYS = ("accessToken", "appSecret", "verifyToken")
WORKLOAD_KINDS = {
    "rayService": ("ray.io/v1", "RayService"),
    "deployment": ("apps/v1", "Deployment"),
}


@dataclass
class Outcome:
    """What a reconcile produced: the status to write and the events worth telling."""

    status: dict[str, Any]
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)


@dataclass(frozen=True)
class Context:
    kube: KubeClient
    routes: RoutingTableWriter
    platform: Platform


async def refused_secrets(context: Context, business: Business) -> list[SecretUse]:
    """The Secrets the Business names that exist but are not granted to it (grants.py).

    Only metadata is read. A missing Secret is no grant problem: the checks that need it
    say it is missing, and once created it is checked like any other.
    """
    namespace = business.metadata.namespace or "default"
    refused: list[SecretUse] = []
    seen: dict[str, bool] = {}
    for use in secret_uses(business.spec):
        if use.name not in seen:
            metadata = await context.kube.get_metadata("v1", "Secret", namespace, use.name)
            seen[use.name] = metadata is None or granted(metadata, business.metadata.name)
        if not seen[use.name]:
            refused.append(use)
    return refused


async def read_credentials(
    context: Context, business: Business, refused: list[SecretUse]
) -> tuple[Check, Credentials | None]:
    namespace = business.metadata.namespace or "default"
    name = business.spec.whatsapp.credentials_secret_ref.name
    if any(use.name == name for use in refused):
        message = f"Secret {namespace}/{name} is not granted to this Business (see SecretsGranted)"
        return Check(False, "SecretNotGranted", message), None
    secret = await context.kube.get("v1", "Secret", namespace, name)
    if secret is None:
        message = (
            f"Secret {namespace}/{name} not found: create it with the keys "
            f"{', '.join(CREDENTIAL_KEYS)} from Meta's WhatsApp Manager"
        )
        return Check(False, "SecretNotFound", message), None
    values = decode_secret(secret)
    missing = [key for key in CREDENTIAL_KEYS if not values.get(key, "").strip()]
    if missing:
        message = f"Secret {namespace}/{name} lacks {', '.join(missing)}"
        return Check(False, "SecretKeyMissing", message), None
    credentials = Credentials(
        access_token=SecretStr(values["accessToken"].strip()),
        app_secret=SecretStr(values["appSecret"].strip()),
        verify_token=SecretStr(values["verifyToken"].strip()),
    )
    return Check(True, "CredentialsFound", f"Credentials read from Secret {name}"), credentials


async def check_memory(context: Context, business: Business) -> Check | None:
    """Whether the Postgres URL's Secret key exists; its value is never decoded or copied.

    Without it the agent pods cannot start (their env names the key), so say so here.
    """
    postgres = business.spec.memory.postgres
    if postgres is None:
        return None
    namespace = business.metadata.namespace or "default"
    name, key = postgres.secret_key_ref.name, postgres.secret_key_ref.key
    secret = await context.kube.get("v1", "Secret", namespace, name)
    if secret is None:
        message = (
            f"Secret {namespace}/{name} not found: create it with the key {key} holding the "
            f"Postgres connection URL (spec.memory.postgres.secretKeyRef); the agent pods "
            f"cannot start without it"
        )
        return Check(False, "PostgresSecretNotFound", message)
    if not secret_has_key(secret, key):
        message = (
            f"Secret {namespace}/{name} has no key {key} (spec.memory.postgres.secretKeyRef): "
            f"add the Postgres connection URL under it; the agent pods cannot start without it"
        )
        return Check(False, "PostgresSecretKeyMissing", message)
    days = business.spec.memory.retention_days
    message = f"Conversations are kept in Postgres (Secret {name}, key {key}) for {days:g} days"
    return Check(True, "PostgresConfigured", message)


async def choose_workload(context: Context, business: Business) -> Workload:
    wanted = business.spec.agent.workload.value
    if wanted == "auto":
        return "rayService" if await context.kube.serves("ray.io/v1") else "deployment"
    return "rayService" if wanted == "rayService" else "deployment"


def agent_check(workload: Workload, applied: dict[str, Any], suspended: bool) -> Check:
    status = applied.get("status") or {}
    if suspended:
        return Check(False, "Suspended", "Scaled to zero because spec.suspend is true")
    if workload == "deployment":
        if (status.get("availableReplicas") or 0) >= 1:
            return Check(True, "AgentRunning", "The agent Deployment has an available replica")
        return Check(None, "AgentStarting", "Waiting for the agent pod to become ready")
    ready = any(
        item.get("type") == "Ready" and item.get("status") == "True"
        for item in status.get("conditions") or []
    )
    if ready or status.get("serviceStatus") == "Running":
        return Check(True, "AgentRunning", "The RayService's Serve application is running")
    return Check(None, "AgentStarting", "Waiting for KubeRay to start the Serve application")


async def reconcile(
    context: Context, body: dict[str, Any], previous_status: dict[str, Any] | None
) -> Outcome:
    """Bring a Business's children and route in line with its spec, and report how it went.

    Raises pydantic.ValidationError for an invalid spec and KubeApiError for API failures.
    """
    # The status is the operator's and the router's own writing: only what a person wrote
    # is validated (a bad signal from the router is dropped by read_whatsapp instead).
    business = Business.model_validate({key: body[key] for key in body if key != "status"})
    namespace = business.metadata.namespace or "default"
    refused = await refused_secrets(context, business)
    secrets = grants_check(namespace, business.metadata.name, refused)
    whatsapp, credentials = await read_credentials(context, business, refused)
    models = await resolve_models(context.kube, context.platform.namespace, business)
    memory = await check_memory(context, business)
    workload = await choose_workload(context, business)
    tenant = Tenant(
        name=business.metadata.name,
        namespace=namespace,
        uid=str(business.metadata.uid),
        spec=business.spec,
        workload=workload,
        platform=context.platform,
        llm=models.llm,
        voice=models.voice_endpoint,
        vision=models.vision_endpoint,
    )
    applied = await apply_children(context, tenant, keep_workload=bool(refused))
    if credentials is not None:
        owner = await context.routes.claim(render_route(tenant, credentials), creation_time(body))
        if owner is not None:  # another Business routes this number first: it keeps it
            whatsapp = number_claimed(business.spec.whatsapp.phone_number_id, owner)
    else:
        await context.routes.remove(tenant.key)
    agent = agent_check(workload, applied, business.spec.suspend)
    index = await index_runs(context, tenant, business, bool(refused), previous_status)
    observed = Observation(
        whatsapp=whatsapp,
        agent=agent,
        knowledge=index.check,
        model=models.model,
        voice=models.voice,
        vision=models.vision,
        memory=memory,
        secrets=secrets,
        suspended=business.spec.suspend,
        endpoint=agent_endpoint(tenant),
        index_stats=index.report,
        # Recomputed on every reconcile, so the repair timer also clears a restriction
        # once it expires (the signal handler reacts only to the router's writes).
        signals=observe(business.spec, read_whatsapp(previous_status), datetime.now(UTC)),
    )
    status = business_status(observed, business.metadata.generation, previous_status)
    events = transitions(previous_status, status)
    if index.started is not None:
        events.append(("Normal", "IndexRunStarted", f"The index writer runs: {index.started}"))
    return Outcome(status=status, events=events)


async def index_runs(
    context: Context,
    tenant: Tenant,
    business: Business,
    refused: bool,
    previous_status: dict[str, Any] | None,
) -> IndexOutcome:
    """The writer runs while the Business is not suspended and every Secret it names is
    granted (object storage keys among them); its results are reported either way."""
    index = await run_index(
        context,
        tenant,
        dict(business.metadata.annotations or {}),
        may_start=not business.spec.suspend and not refused,
        previous=(previous_status or {}).get("knowledge"),
    )
    if not business.spec.suspend:
        return index
    message = "No new index writer run starts while suspended (one already going finishes)"
    return dataclasses.replace(index, check=Check(None, "Suspended", message))


async def apply_children(
    context: Context, tenant: Tenant, *, keep_workload: bool
) -> dict[str, Any]:
    """Apply the tenant's children; returns the workload as the server has it.

    With `keep_workload` (a named Secret is not granted), the workload and the config it
    reads are left as they are: the last good agent keeps running, or none starts.
    """
    api_version, kind = WORKLOAD_KINDS[tenant.workload]
    workload: dict[str, Any] = {}
    for child in render_agent_children(tenant):
        if keep_workload and child["kind"] in {kind, "ConfigMap"}:
            continue
        applied = await context.kube.apply(child)
        if child["kind"] == kind:
            workload = applied
    if keep_workload:
        found = await context.kube.get(api_version, kind, tenant.namespace, tenant.child("agent"))
        return found or {}
    # A workload of the other kind is left from before a switch (e.g. KubeRay installed).
    for other, (other_version, other_kind) in WORKLOAD_KINDS.items():
        if other != tenant.workload:
            await context.kube.delete(
                other_version, other_kind, tenant.namespace, tenant.child("agent")
            )
    return workload


def transitions(
    previous: dict[str, Any] | None, current: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """An event for each condition whose status or reason changed, so a timer never spams;
    Meta's signals have their own (business_operator.signals.condition_events)."""
    before = {item.get("type"): item for item in (previous or {}).get("conditions") or []}
    events = []
    for item in current["conditions"]:
        old = before.get(item["type"]) or {}
        if item["type"] in SIGNAL_CONDITIONS:
            said = (old.get("status"), old.get("reason"), old.get("message"))
            if said != (item["status"], item["reason"], item["message"]):
                events += condition_events(before.get(item["type"]), item)
            continue
        if (old.get("status"), old.get("reason")) == (item["status"], item["reason"]):
            continue
        kind = "Warning" if item["status"] == "False" else "Normal"
        events.append((kind, item["reason"], f"{item['type']}: {item['message']}"))
    return events


async def forget(context: Context, body: dict[str, Any]) -> str | None:
    """On deletion: take the route away first; owned children go with the Business. An
    index in object storage that is not kept is deleted by a Job first: returns what the
    deletion still waits for (call again), None when the Business may go."""
    metadata = body.get("metadata") or {}
    await context.routes.remove(f"{metadata.get('namespace', 'default')}/{metadata['name']}")
    try:
        business = Business.model_validate(body)
    except ValidationError:
        return None  # nothing valid was ever made of it
    storage = business.spec.knowledge.storage
    if storage.object_store is None or storage.retain_on_delete:
        return None
    store = str(storage.object_store.credentials_secret_ref.name)
    if any(use.name == store for use in await refused_secrets(context, business)):
        # The keys were never granted to this Business: nothing of it was written with
        # them, and they are not used now either.
        return None
    tenant = Tenant(
        name=business.metadata.name,
        namespace=business.metadata.namespace or "default",
        uid=str(business.metadata.uid),
        spec=business.spec,
        workload="deployment",
        platform=context.platform,
    )
    return await forget_index(context, tenant)
