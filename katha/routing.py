"""The routing table: which tenant answers which WhatsApp number, and with which credentials.

On one machine it is a JSON file (`{"routes": [...]}`). In a cluster it is one Secret in
the platform namespace that the router watches: the operator gives each Business its own
key, `route.<namespace>.<name>.json`, holding one route, so that concurrent reconciles
never overwrite each other (a whole table under `routes.json` is read too). It holds
credentials, so it is never a ConfigMap and never logged.
"""

import base64
import json
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from katha.api.fields import PhoneNumber, PhoneNumberId
from katha.messages import MessageType

ROUTES_KEY = "routes.json"
ROUTE_KEY_PREFIX = "route."


class Credentials(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr
    app_secret: SecretStr = Field(description="Verifies X-Hub-Signature-256 for this number.")
    verify_token: SecretStr = Field(description="Answers the webhook subscription handshake.")


class Route(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    phone_number_id: PhoneNumberId
    tenant: str = Field(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$", description="namespace/name")
    endpoint: str = Field(pattern=r"^https?://", description="The agent's base URL.")
    credentials: Credentials
    suspended: bool = False
    owner_number: PhoneNumber | None = Field(
        default=None, description="Told when a customer needs a human (handoff)."
    )
    accepts: list[MessageType] = Field(
        default_factory=lambda: [MessageType.TEXT, MessageType.INTERACTIVE, MessageType.BUTTON],
        description="Message types the agent answers; others get a polite canned reply.",
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


def table_from_secret_data(data: Mapping[str, str | None]) -> RoutingTable:
    """The table held in a Secret's (base64) `data`: per-tenant keys plus any `routes.json`.

    Raises ValueError (pydantic's ValidationError among them) when an entry is malformed.
    """
    routes: list[Any] = []
    for key in sorted(data):
        value = data[key]
        if value is None:
            continue
        text = base64.b64decode(value)
        if key == ROUTES_KEY:
            routes.extend(json.loads(text).get("routes", []))
        elif key.startswith(ROUTE_KEY_PREFIX) and key.endswith(".json"):
            routes.append(json.loads(text))
    return RoutingTable.model_validate({"routes": routes})
