"""The routing table: which tenant answers which WhatsApp number, and with which credentials.

On one machine it is a JSON file (`{"routes": [...]}`). In a cluster it is one Secret in
the platform namespace that the router watches: the operator gives each Business its own
key, `route.<namespace>.<name>.json`, holding one route, so that concurrent reconciles
never overwrite each other (a whole table under `routes.json` is read too). It holds
credentials, so it is never a ConfigMap and never logged.

One tenant's mistake must never stop routing for the others, so the table is read entry by
entry (`load_secret_data`, `load_document`): an entry that cannot be read, or that routes a
number another entry routes too, is dropped with the reason, and every other route loads.
"""

import base64
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)

from katha.api.business import BusinessSpec, Templates
from katha.api.fields import PhoneNumber, PhoneNumberId
from katha.api.memory import DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS
from katha.contracts.messages import MessageType

ROUTES_KEY = "routes.json"
ROUTE_KEY_PREFIX = "route."
TENANT_PATTERN = r"^[a-z0-9-]+/[a-z0-9-]+$"  # namespace/name


class Credentials(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr
    app_secret: SecretStr = Field(description="Verifies X-Hub-Signature-256 for this number.")
    verify_token: SecretStr = Field(description="Answers the webhook subscription handshake.")


class Route(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    phone_number_id: PhoneNumberId
    tenant: str = Field(pattern=TENANT_PATTERN, description="namespace/name")
    endpoint: str = Field(pattern=r"^https?://", description="The agent's base URL.")
    credentials: Credentials
    suspended: bool = False
    paused: bool = Field(
        default=False,
        description="The owner paused the agent (spec.paused): customer messages are kept "
        "for the owner, and nothing answers them automatically.",
    )
    owner_number: PhoneNumber | None = Field(
        default=None, description="Told when a customer needs a human (handoff)."
    )
    accepts: list[MessageType] = Field(
        default_factory=lambda: [MessageType.TEXT, MessageType.INTERACTIVE, MessageType.BUTTON],
        description=(
            "Message types the agent answers (the operator and katha up write "
            "katha.contracts.serving.AGENT_READS); others get a polite canned reply."
        ),
    )
    business_account_id: str | None = Field(
        default=None,
        description=(
            "The WhatsApp Business Account: account-wide webhooks (restrictions, quality, "
            "template status) carry only this id."
        ),
    )
    templates: Templates = Field(
        default_factory=Templates,
        description="Approved templates for what must be sent outside a 24-hour window.",
    )
    display_name: str | None = Field(
        default=None, description="The business's name, a template parameter."
    )
    assistant_name: str | None = Field(
        default=None, description="The persona's name, a template parameter."
    )
    retention_days: float = Field(
        default=DEFAULT_RETENTION_DAYS,
        gt=0,
        le=MAX_RETENTION_DAYS,
        description="How long the conversation store keeps this Business's conversations "
        "after their last message (spec.memory.retentionDays).",
    )
    media_daily_limits: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description=(
            "Voice notes and photos a GPU model reads, fetched per UTC day, by message type "
            '("audio": spec.voice.dailyLimit, "image": spec.vision.dailyLimit); a type not '
            "named here gets the router's own default."
        ),
    )
    claimed_at: AwareDatetime | None = Field(
        default=None,
        description=(
            "When this Business first held this number in the table (the operator writes it); "
            "of two entries routing one number, the earlier claim keeps it."
        ),
    )


class RoutingTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    routes: list[Route] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_route_per_number(self) -> Self:
        numbers = [route.phone_number_id for route in self.routes]
        repeated = sorted({number for number in numbers if numbers.count(number) > 1})
        if repeated:
            raise ValueError(f"phone number ids routed twice: {', '.join(repeated)}")
        return self

    @cached_property
    def _by_number(self) -> dict[str, Route]:
        return {route.phone_number_id: route for route in self.routes}

    def route_for(self, phone_number_id: str) -> Route | None:
        return self._by_number.get(phone_number_id)


def media_daily_limits(spec: BusinessSpec) -> dict[str, int]:
    """`Route.media_daily_limits` for a Business (the operator and `katha up` write it): the
    daily cap on what its voice and vision models read, by message type; a type without a
    model is left to the router's own default."""
    limits: dict[str, int] = {}
    if spec.voice is not None:
        limits[MessageType.AUDIO.value] = spec.voice.daily_limit
    if spec.vision is not None:
        limits[MessageType.IMAGE.value] = spec.vision.daily_limit
    return limits


def route_key(tenant: str) -> str:
    """The routes Secret's key for one Business, from its `namespace/name`."""
    namespace, name = tenant.split("/", 1)
    return f"{ROUTE_KEY_PREFIX}{namespace}.{name}.json"


def route_document(route: Route) -> str:
    """A route as JSON with its credentials in clear: it only ever goes into a Secret."""
    document: dict[str, Any] = route.model_dump(mode="json")
    document["credentials"] = {
        "access_token": route.credentials.access_token.get_secret_value(),
        "app_secret": route.credentials.app_secret.get_secret_value(),
        "verify_token": route.credentials.verify_token.get_secret_value(),
    }
    return json.dumps(document, sort_keys=True)


DropReason = Literal["invalid", "conflict"]


@dataclass(frozen=True)
class DroppedRoute:
    """A table entry that is not used, and why; it names fields, never values (secrets)."""

    source: str  # the Secret key, or `routes.json[2]`
    tenant: str | None  # `namespace/name`, when the entry or its key says so
    reason: DropReason
    detail: str


@dataclass(frozen=True)
class LoadedRoutes:
    """The usable table, plus each entry left out of it."""

    table: RoutingTable
    dropped: tuple[DroppedRoute, ...] = ()


def claim_order(route: Route) -> tuple[datetime, str]:
    """Who holds a number routed twice: the earlier claim, then `namespace/name`.

    The operator decides with the same order, so the router and the Businesses' status agree.
    """
    if route.claimed_at is None:
        raise ValueError(f"route for {route.tenant} has no claim time")
    return route.claimed_at, route.tenant


def first_claim(routes: list[Route]) -> Route | None:
    """The one route to keep among entries for one number, or None when none is safe.

    Entries written before claim times existed (or by hand) do not say who was first, and
    picking one blindly could hand a tenant's customers to another tenant: then all of them
    are dropped until the operator rewrites them with claim times.
    """
    if all(route == routes[0] for route in routes):
        return routes[0]  # the same route listed twice (routes.json beside its own key)
    if any(route.claimed_at is None for route in routes):
        return None
    ordered = sorted(routes, key=claim_order)
    if claim_order(ordered[0]) == claim_order(ordered[1]):
        return None
    return ordered[0]


def resolve(entries: Iterable[tuple[str, Route]]) -> LoadedRoutes:
    """The table of every route whose number no other entry routes, or whose claim is first."""
    by_number: dict[str, list[tuple[str, Route]]] = {}
    for source, route in entries:
        by_number.setdefault(route.phone_number_id, []).append((source, route))
    kept: list[Route] = []
    dropped: list[DroppedRoute] = []
    for claims in by_number.values():
        routes = [route for _, route in claims]
        owner = first_claim(routes)
        if owner is not None:
            kept.append(owner)
        tenants = sorted({route.tenant for route in routes})
        for source, route in claims:
            if route is owner or (owner is not None and route == owner):
                continue
            if owner is None:
                detail = f"number also routed to {', '.join(tenants)}; no claim says who is first"
            else:
                detail = f"number kept by {owner.tenant}, which claimed it first"
            dropped.append(DroppedRoute(source, route.tenant, "conflict", detail))
    return LoadedRoutes(RoutingTable(routes=kept), tuple(dropped))


def _fields(error: ValidationError) -> str:
    places = {".".join(str(part) for part in item["loc"]) or "(entry)" for item in error.errors()}
    return f"invalid fields: {', '.join(sorted(places))}"


def _tenant(document: Any, fallback: str | None) -> str | None:
    """The entry's tenant for the logs, only when it looks like `namespace/name`."""
    tenant = document.get("tenant") if isinstance(document, dict) else None
    if isinstance(tenant, str) and re.fullmatch(TENANT_PATTERN, tenant):
        return tenant
    return fallback


def _parse(
    entries: Iterable[tuple[str, Any, str | None]],
) -> tuple[list[tuple[str, Route]], list[DroppedRoute]]:
    valid: list[tuple[str, Route]] = []
    dropped: list[DroppedRoute] = []
    for source, document, key_tenant in entries:
        try:
            route = Route.model_validate(document)
        except ValidationError as error:
            tenant = _tenant(document, key_tenant)
            dropped.append(DroppedRoute(source, tenant, "invalid", _fields(error)))
            continue
        if key_tenant is not None and route.tenant != key_tenant:
            # Only the operator writes the Secret, one key per Business: an entry under
            # another Business's key is not trusted to say whose route it is.
            detail = f"entry names {route.tenant} under the key of {key_tenant}"
            dropped.append(DroppedRoute(source, key_tenant, "invalid", detail))
            continue
        valid.append((source, route))
    return valid, dropped


def _table_entries(document: Any, source: str) -> list[tuple[str, Any, str | None]]:
    routes = document.get("routes") if isinstance(document, dict) else None
    if not isinstance(routes, list):
        raise ValueError(f'{source} is not a table: expected {{"routes": [...]}}')
    return [(f"{source}[{index}]", route, None) for index, route in enumerate(routes)]


def tenant_of_key(key: str) -> str | None:
    """`namespace/name` from a per-Business key `route.<namespace>.<name>.json`."""
    if not (key.startswith(ROUTE_KEY_PREFIX) and key.endswith(".json")):
        return None
    namespace, _, name = key[len(ROUTE_KEY_PREFIX) : -len(".json")].partition(".")
    return f"{namespace}/{name}" if namespace and name else None


def read_secret_data(
    data: Mapping[str, str | None], phone_number_id: str | None = None
) -> tuple[list[tuple[str, Route]], list[DroppedRoute]]:
    """Every valid entry of a routes Secret's (base64) `data`, conflicts included, and the
    entries that could not be read; only those for `phone_number_id` when given (the
    operator asks per number, and validating every tenant's entry on every reconcile
    would grow with the square of the tenants)."""
    entries: list[tuple[str, Any, str | None]] = []
    unreadable: list[DroppedRoute] = []
    for key in sorted(data):
        value = data[key]
        is_table = key == ROUTES_KEY
        key_tenant = tenant_of_key(key)
        if value is None or not (is_table or key_tenant is not None):
            continue
        try:  # bad base64, UTF-8 or JSON are all ValueErrors; the text may hold secrets
            document = json.loads(base64.b64decode(value, validate=True))
        except (ValueError, RecursionError):
            unreadable.append(DroppedRoute(key, key_tenant, "invalid", "not base64 JSON"))
            continue
        if not is_table:
            entries.append((key, document, key_tenant))
            continue
        try:
            entries.extend(_table_entries(document, key))
        except ValueError as error:
            unreadable.append(DroppedRoute(key, None, "invalid", str(error)))
    if phone_number_id is not None:
        entries = [entry for entry in entries if _number_of(entry[1]) == phone_number_id]
    valid, invalid = _parse(entries)
    return valid, unreadable + invalid


def _number_of(document: Any) -> Any:
    return document.get("phone_number_id") if isinstance(document, dict) else None


def load_secret_data(data: Mapping[str, str | None]) -> LoadedRoutes:
    """The usable table held in a routes Secret's `data` (per-Business keys, `routes.json`)."""
    valid, invalid = read_secret_data(data)
    resolved = resolve(valid)
    return LoadedRoutes(resolved.table, tuple(invalid) + resolved.dropped)


def load_document(text: str | bytes, source: str = ROUTES_KEY) -> LoadedRoutes:
    """The usable table in a `{"routes": [...]}` JSON document (the one-machine file).

    Raises ValueError when the text is not such a document at all (say, a half-written
    file): there is no entry to keep, and the caller keeps what it has.
    """
    valid, invalid = _parse(_table_entries(json.loads(text), source))
    resolved = resolve(valid)
    return LoadedRoutes(resolved.table, tuple(invalid) + resolved.dropped)


def table_from_secret_data(data: Mapping[str, str | None]) -> RoutingTable:
    """The usable table held in a Secret's `data`; see `load_secret_data` for what is left out."""
    return load_secret_data(data).table
