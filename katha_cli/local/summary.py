"""What `katha up` tells: its user (what serves where, each local reply as the customer's
phone shows it) and `katha chat` (the state file)."""

import os
import re

from katha.contracts.serving import IndexStats
from katha_cli.local.indexing import IndexOutcome
from katha_cli.local.outbox import OutboxMessage
from katha_cli.local.ray_agents import llm_endpoint, media_endpoint
from katha_cli.local.router_process import route
from katha_cli.local.state import TenantInfo, UpState
from katha_cli.local.workspace import LocalTenant, Workspace


def summary_lines(
    workspace: Workspace,
    router_url: str,
    stats: dict[str, IndexStats],
    indexes: dict[str, IndexOutcome],
    console_url: str | None = None,
) -> list[str]:
    """What a WhatsApp developer needs per tenant, once everything serves."""
    lines = ["", f"Router: {router_url}   (Ctrl-C stops everything)"]
    if console_url:
        lines.append(f"Owner console: {console_url}   (owners' sign-in codes appear here too)")
    for tenant in workspace.tenants:
        tenant_stats = stats.get(tenant.key)
        outcome = indexes.get(tenant.key)
        index = (
            f"{tenant_stats.state}, {tenant_stats.chunks} chunks from "
            f"{tenant_stats.documents} documents, version {tenant_stats.index_version}"
            if tenant_stats
            else "unknown"
        )
        if outcome and outcome.reused:
            index += " (reused)"
        if outcome and (outcome.failures or outcome.error):
            index += f"; {len(outcome.failures)} source(s) failed"
        verify = tenant.credentials.verify_token.get_secret_value()
        lines += [
            f"\n{tenant.key}  {tenant.display_name}",
            f"  webhook URL   {router_url}/webhooks/whatsapp",
            f"  verify token  {verify}",
            f"  number ID     {tenant.phone_number_id}",
            f"  index         {index}",
            f"  answers       {responder(tenant, workspace)}",
            *media_lines(tenant),
            f"  replies       {'Graph API (live)' if tenant.live else 'local outbox'}",
        ]
    first = workspace.tenants[0].name
    lines.append(f'\nTry:  katha chat {first}    or    katha ask {first} "..."\n')
    return lines


def reply_line(tenant: LocalTenant, message: OutboxMessage) -> str:
    """A local tenant's reply as the customer's phone would show it, numbers masked."""
    tracking = message.tracking
    about = f" ({tracking.language}, {len(tracking.sources)} source(s))" if tracking else ""
    to = _masked(message.recipient)
    return f"  → {tenant.key} to {to}{about}: {mask_numbers(message.text or '')}"


def up_state(
    workspace: Workspace,
    router_url: str,
    graph_url: str,
    agents_url: str,
    console_url: str = "",
) -> UpState:
    return UpState(
        pid=os.getpid(),
        directory=str(workspace.directory),
        router_url=router_url,
        graph_url=graph_url,
        agents_url=agents_url,
        console_url=console_url,
        tenants=[
            TenantInfo(
                key=tenant.key,
                display_name=tenant.display_name,
                phone_number_id=tenant.phone_number_id,
                business_account_id=tenant.business.spec.whatsapp.business_account_id,
                app_secret=tenant.credentials.app_secret.get_secret_value(),
                live=tenant.live,
                owner_number=route(tenant, agents_url + tenant.route_prefix).owner_number,
                samples=_samples(tenant),
            )
            for tenant in workspace.tenants
        ],
    )


def responder(tenant: LocalTenant, workspace: Workspace) -> str:
    model = tenant.business.spec.model
    llm = llm_endpoint(tenant)
    if llm is not None:
        return f"LLM {llm.model} at {llm.base_url}"
    if model is not None and model.language_model_ref:
        known = {m.metadata.name for m in workspace.language_models}
        why = "needs a GPU" if model.language_model_ref in known else "not in this folder"
        return f"built-in responder (LanguageModel {model.language_model_ref} {why})"
    return "built-in responder (no LLM configured)"


def media_lines(tenant: LocalTenant) -> list[str]:
    """Who reads voice notes and photos, for a Business that names models for them."""
    spec = tenant.business.spec
    lines = []
    for label, wanted in (("voice notes", spec.voice), ("photos     ", spec.vision)):
        if wanted is None:
            continue
        endpoint = media_endpoint(wanted)
        reader = (
            f"{endpoint.model} at {endpoint.base_url}"
            if endpoint is not None
            else f"a person (LanguageModel {wanted.language_model_ref} needs a GPU cluster)"
        )
        lines.append(f"  {label}   {reader}, at most {wanted.daily_limit} a day")
    return lines


def _samples(tenant: LocalTenant) -> dict[str, list[str]]:
    """Questions to try per language: the Business's own FAQ questions, by language."""
    from katha.api.knowledge import FaqSource
    from katha.lang import detect_language

    samples: dict[str, list[str]] = {}
    for source in tenant.business.spec.knowledge.sources:
        if isinstance(source, FaqSource):
            for item in source.items or []:
                language = detect_language(item.q).language
                samples.setdefault(str(language), []).append(item.q)
    return samples


def mask_numbers(text: str) -> str:
    """Phone numbers in a message (the owner's handoff notice names the customer's) keep
    their last three digits only."""
    return re.sub(r"\+?\d[\d -]{5,}(\d{3})\b", r"…\1", text)


def _masked(number: str | None) -> str:
    if not number:
        return "?"
    return "…" + number[-3:]
