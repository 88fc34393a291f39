"""Reading and saving a Business's settings through `Businesses`, for the page and the API.

A save is one `apply` of the section's paths: it lands whole or not at all (the Business's
model, the API server's conflict check and the file's atomic write see to that). Each save
that lands is one audit row naming the section, never the values (an owner's number is
personal data).
"""

from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, status

from console.auth.deps import audit
from console.auth.principal import Principal
from console.businesses import (
    BusinessConflictError,
    Businesses,
    BusinessesUnavailableError,
    BusinessInvalidError,
    BusinessNotFoundError,
)
from console.services import ConsoleServices
from console.setup.sections import Path, Section
from katha.observability import get_logger

log = get_logger("console")


@dataclass(frozen=True)
class Refusal:
    """Why a save did not land, for the page to say next to the fields, and the API's
    status. `problems` read as `katha validate` prints them."""

    status: int
    problems: list[str] = field(default_factory=list)
    conflict_fields: list[str] = field(default_factory=list)
    managers: list[str] = field(default_factory=list)

    @property
    def unavailable(self) -> bool:
        return self.status == status.HTTP_503_SERVICE_UNAVAILABLE


def businesses_of(services: ConsoleServices) -> Businesses:
    """Where Businesses live; 503 when this console was started without."""
    if services.businesses is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "settings are not available: this console has no access to Businesses",
        )
    return services.businesses


async def read_spec(services: ConsoleServices, tenant: str) -> dict[str, Any]:
    """The Business's spec (camelCase); 404 when there is none, 503 when unreachable."""
    try:
        business = await businesses_of(services).get(tenant)
    except BusinessNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such Business") from None
    except BusinessesUnavailableError as error:
        log.warning("settings.unavailable", error=type(error).__name__)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "Businesses cannot be read now; try again"
        ) from None
    spec = business.get("spec")
    return dict(spec) if isinstance(spec, dict) else {}


async def save(
    services: ConsoleServices,
    principal: Principal,
    tenant: str,
    sections: list[Section],
    changes: dict[Path, Any],
) -> Refusal | None:
    """Apply `changes` (the paths of `sections`); None when they landed, else why not."""
    try:
        await businesses_of(services).apply(tenant, changes)
    except BusinessNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such Business") from None
    except BusinessInvalidError as error:
        return Refusal(status.HTTP_422_UNPROCESSABLE_CONTENT, problems=list(error.problems))
    except BusinessConflictError as error:
        log.info("settings.conflict", fields=len(error.fields))
        return Refusal(
            status.HTTP_409_CONFLICT,
            conflict_fields=list(error.fields),
            managers=list(error.managers),
        )
    except BusinessesUnavailableError as error:
        log.warning("settings.unavailable", error=type(error).__name__)
        return Refusal(status.HTTP_503_SERVICE_UNAVAILABLE)
    for section in sections:
        await audit(services, principal, f"settings.{section}", tenant, section)
    return None
