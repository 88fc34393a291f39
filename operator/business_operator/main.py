"""The Kopf entry point: `kopf run -m business_operator.main --all-namespaces`.

Thin by design: decorators hand each event to the plain functions in `handlers/`,
and translate their errors into Kopf's retry (temporary) or give-up (permanent).
This module is the composition root, so it reads the settings when Kopf loads it.
"""

import logging
from typing import Any

import httpx
import kopf
from pydantic import ValidationError

from business_operator.handlers import business, language_model
from business_operator.handlers.routes import RoutesTable
from business_operator.kube import KubeApiError, KubeClient
from business_operator.render import Platform
from business_operator.settings import OperatorSettings
from katha.api import API_GROUP, API_VERSION
from katha.api.validation import explain
from katha.observability import configure_logging

SETTINGS = OperatorSettings()
BUSINESSES = (API_GROUP, API_VERSION, "businesses")
LANGUAGE_MODELS = (API_GROUP, API_VERSION, "languagemodels")
LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=16)


@kopf.on.login(retries=3)
def login(settings: kopf.OperatorSettings, **kwargs: Any) -> kopf.ConnectionInfo | None:
    if SETTINGS.kube_api_url:
        return kopf.ConnectionInfo(server=SETTINGS.kube_api_url, default_namespace="default")
    return kopf.login_with_service_account(
        settings=settings, **kwargs
    ) or kopf.login_with_kubeconfig(settings=settings, **kwargs)


def _http_client(info: kopf.ConnectionInfo | None) -> httpx.AsyncClient:
    if SETTINGS.kube_api_url or info is None:
        return httpx.AsyncClient(base_url=SETTINGS.kube_api_url or "", timeout=30.0, limits=LIMITS)
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
    configure_logging(SETTINGS.log_level, SETTINGS.log_format.value)
    settings.persistence.finalizer = f"{API_GROUP}/finalizer"
    settings.queueing.worker_limit = SETTINGS.max_concurrent_reconciles
    settings.peering.standalone = True  # one active instance: the Deployment uses Recreate
    # Our own events say what changed; Kopf's per-handler "succeeded" events would be noise.
    settings.posting.level = logging.WARNING
    info = None
    if not SETTINGS.kube_api_url:
        info = kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(
            settings=settings
        )
    kube = KubeClient(_http_client(info))
    memo.kube = kube
    memo.context = business.Context(
        kube=kube,
        routes=RoutesTable(kube, SETTINGS.platform_namespace),
        platform=Platform(
            namespace=SETTINGS.platform_namespace,
            image=SETTINGS.image,
            ray_version=SETTINGS.ray_version,
            router_labels=dict(SETTINGS.router_labels),
            gpu_node_selector=dict(SETTINGS.gpu_node_selector),
            network=SETTINGS.network(),
        ),
    )


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
@kopf.timer(
    *BUSINESSES,
    interval=SETTINGS.reconcile_interval_seconds,
    initial_delay=SETTINGS.reconcile_interval_seconds,
)
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


@kopf.on.delete(*BUSINESSES)
async def delete_business(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    try:
        await business.forget(memo.context, dict(body))
    except KubeApiError as error:
        raise _retry(error) from error


@kopf.on.resume(*LANGUAGE_MODELS)
@kopf.on.create(*LANGUAGE_MODELS)
@kopf.on.update(*LANGUAGE_MODELS, field="spec")
@kopf.timer(
    *LANGUAGE_MODELS,
    interval=SETTINGS.reconcile_interval_seconds,
    initial_delay=SETTINGS.reconcile_interval_seconds,
)
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
