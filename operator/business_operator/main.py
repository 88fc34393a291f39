"""The Kopf entry point: `kopf run -m business_operator.main --all-namespaces`.

Thin by design: decorators hand each event to the plain functions in `handlers/`,
and translate their errors into Kopf's retry (temporary) or give-up (permanent).
Importing it only registers handlers: the settings are read in the startup handler (kept
in `memo.settings`), which also registers the repair timers, since their interval is a
setting. Kopf runs startup handlers before it watches anything or logs in.
"""

import logging
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import kopf
from pydantic import ValidationError

from business_operator.handlers import business, language_model, signals
from business_operator.kube import KubeApiError, KubeClient
from business_operator.render import Platform
from business_operator.routing_table import RoutingTableWriter
from business_operator.settings import OperatorSettings
from katha.api import API_GROUP, API_VERSION, REFRESH_ANNOTATION
from katha.api.validation import explain
from katha.observability import configure_logging

BUSINESSES = (API_GROUP, API_VERSION, "businesses")
LANGUAGE_MODELS = (API_GROUP, API_VERSION, "languagemodels")
LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=16)


@kopf.on.login(retries=3)
def login(
    settings: kopf.OperatorSettings, memo: kopf.Memo, **kwargs: Any
) -> kopf.ConnectionInfo | None:
    operator: OperatorSettings = memo.settings
    if operator.kube_api_url:
        return kopf.ConnectionInfo(server=operator.kube_api_url, default_namespace="default")
    return kopf.login_with_service_account(
        settings=settings, **kwargs
    ) or kopf.login_with_kubeconfig(settings=settings, **kwargs)


def _http_client(operator: OperatorSettings, info: kopf.ConnectionInfo | None) -> httpx.AsyncClient:
    if operator.kube_api_url or info is None:
        return httpx.AsyncClient(base_url=operator.kube_api_url or "", timeout=30.0, limits=LIMITS)
    verify: Any = str(info.ca_path) if info.ca_path else not info.insecure
    headers = info.as_http_headers()
    cert = (
        (str(info.certificate_path), str(info.private_key_path)) if info.certificate_path else None
    )
    return httpx.AsyncClient(
        base_url=info.server, headers=headers, verify=verify, cert=cert, timeout=30.0, limits=LIMITS
    )


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    operator = OperatorSettings()
    memo.settings = operator
    configure_logging(operator.log_level, operator.log_format.value)
    settings.persistence.finalizer = f"{API_GROUP}/finalizer"
    settings.queueing.worker_limit = operator.max_concurrent_reconciles
    settings.peering.standalone = True  # one active instance: the Deployment uses Recreate
    # Our own events say what changed; Kopf's per-handler "succeeded" events would be noise.
    settings.posting.level = logging.WARNING
    info = None
    if not operator.kube_api_url:
        info = kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(
            settings=settings
        )
    kube = KubeClient(_http_client(operator, info))
    memo.kube = kube
    memo.context = business.Context(
        kube=kube,
        routes=RoutingTableWriter(kube, operator.platform_namespace),
        platform=Platform(
            namespace=operator.platform_namespace,
            image=operator.image,
            ray_version=operator.ray_version,
            router_labels=dict(operator.router_labels),
            gpu_node_selector=dict(operator.gpu_node_selector),
            network=operator.network(),
        ),
    )
    _register_repair_timers(operator.reconcile_interval_seconds)


def _register_repair_timers(interval: float) -> None:
    """Reconcile every Business and LanguageModel each `interval` seconds, so drift is
    repaired and status refreshed. Last in startup: a retried startup registers them once."""
    # The decorators below type them as change handlers; they read only arguments that a
    # timer passes too (body, status, patch, memo), hence the cast.
    for resource, handler in (
        (BUSINESSES, reconcile_business),
        (LANGUAGE_MODELS, reconcile_language_model),
    ):
        timer = kopf.timer(*resource, interval=interval, initial_delay=interval)
        timer(cast(Any, handler))


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    await memo.kube.aclose()


@kopf.on.probe(id="apiServer")
async def api_server(memo: kopf.Memo, **_: Any) -> str:
    """Liveness: the API server answers (`kopf run --liveness=http://0.0.0.0:8080/healthz`)."""
    version: str = await memo.kube.server_version()
    return version


def _retry(error: KubeApiError) -> kopf.TemporaryError:
    # Throttling and server errors pass quickly; anything else (RBAC, a webhook) needs a
    # person, so it is retried slowly rather than given up on.
    return kopf.TemporaryError(str(error), delay=10 if error.transient else 60)


def _refuse(patch: kopf.Patch, kind: str, error: ValidationError) -> kopf.PermanentError:
    """An invalid spec (the CRD catches most, not all): say why in status, retry no more."""
    problems = "; ".join(str(problem) for problem in explain(error))
    patch.status["phase"] = "Failed"
    patch.status["conditions"] = [
        {"type": "Ready", "status": "False", "reason": "InvalidSpec", "message": problems}
    ]
    return kopf.PermanentError(f"invalid {kind}: {problems}")


@kopf.on.resume(*BUSINESSES)
@kopf.on.create(*BUSINESSES)
@kopf.on.update(*BUSINESSES, field="spec")
# `katha refresh` (or kubectl annotate): an index writer run now, not at the next timer.
@kopf.on.update(*BUSINESSES, field=("metadata", "annotations", REFRESH_ANNOTATION))
async def reconcile_business(
    body: kopf.Body, status: kopf.Status, patch: kopf.Patch, memo: kopf.Memo, **_: Any
) -> None:
    try:
        outcome = await business.reconcile(memo.context, dict(body), dict(status))
    except ValidationError as error:
        raise _refuse(patch, "Business", error) from error
    except KubeApiError as error:
        raise _retry(error) from error
    for kind, reason, message in outcome.events:
        kopf.event(body, type=kind, reason=reason, message=message)
    patch.status.update(outcome.status)


@kopf.on.event(*BUSINESSES)
async def business_signals(
    event: kopf.RawEvent, body: kopf.Body, patch: kopf.Patch, **_: Any
) -> None:
    """Meta's signals, which the router writes into status.whatsapp, as conditions and
    Events. On every event: Kopf's change handlers never see a status change. An expired
    restriction clears at the next repair timer's reconcile, which computes them too."""
    if event.get("type") == "DELETED":
        return
    update = signals.settle(dict(body), datetime.now(UTC))
    if update is None:
        return
    for kind, reason, message in update.events:
        kopf.event(body, type=kind, reason=reason, message=message)
    patch.status.update(update.status)


@kopf.on.delete(*BUSINESSES)
async def delete_business(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    try:
        waiting = await business.forget(memo.context, dict(body))
    except KubeApiError as error:
        raise _retry(error) from error
    if waiting is not None:  # the Business stays (finalizer) until its index is deleted
        raise kopf.TemporaryError(waiting, delay=5)


@kopf.on.resume(*LANGUAGE_MODELS)
@kopf.on.create(*LANGUAGE_MODELS)
@kopf.on.update(*LANGUAGE_MODELS, field="spec")
async def reconcile_language_model(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any
) -> None:
    try:
        status = await language_model.reconcile(memo.kube, memo.context.platform, dict(body))
    except ValidationError as error:
        raise _refuse(patch, "LanguageModel", error) from error
    except KubeApiError as error:
        raise _retry(error) from error
    patch.status.update(status)
