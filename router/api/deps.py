"""FastAPI dependencies shared by the router's endpoints."""

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from router.services import Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def require_admin(services: ServicesDep, authorization: str | None) -> None:
    """The admin API's bearer token, compared in constant time; 404 when admin calls are
    not enabled (no token configured), 401 for a wrong or missing one."""
    token = services.settings.admin_token
    if token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "admin calls are not enabled")
    expected = f"Bearer {token.get_secret_value()}".encode()
    if not hmac.compare_digest(expected, (authorization or "").encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid admin token is required")


async def _admin_services(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> Services:
    require_admin(services, authorization)
    return services


# The router's services, once the caller showed the admin token.
AdminServicesDep = Annotated[Services, Depends(_admin_services)]
