"""FastAPI dependencies shared by the router's endpoints."""

from typing import Annotated

from fastapi import Depends, Request

from router.services import Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
