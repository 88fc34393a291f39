"""The routing table: which tenant answers which WhatsApp number, and with which credentials.

The operator writes it as one Secret in the platform namespace (key `routes.json`); the
router watches that Secret. On one machine it is a file with the same JSON. It holds
credentials, so it is never a ConfigMap and never logged.
"""

from functools import cached_property
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from katha.api.fields import PhoneNumber, PhoneNumberId
from katha.messages import MessageType

ROUTES_KEY = "routes.json"


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
