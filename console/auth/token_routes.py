"""API tokens of a Business, for its owners: make one (shown once), list them, delete one.

    POST   /api/v1/tenants/{namespace}/{name}/tokens       {"name", "expires_in_days"?}
                                                           -> 201 {id, name, token, expires_at, ..}
    GET    /api/v1/tenants/{namespace}/{name}/tokens
                                -> [{id, name, created_at, last_used_at, expires_at, expired}]
    DELETE /api/v1/tenants/{namespace}/{name}/tokens/{id}  -> 204

Only an owner of the Business may (`manage`); anyone else gets 404, as for a Business that
does not exist. A list never shows a token, only its name and when it was made and used.
An ended token stays listed (`expired`) for console.housekeeping.TOKENS_KEPT_DAYS, then
the console's cleanup forgets it.
"""

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

from console.auth.api_tokens import DEFAULT_DAYS, MAX_DAYS, ends, issue
from console.auth.deps import CsrfDep, PrincipalDep, audit, require, services_of
from console.auth.sessions import tables
from katha.store.console_tables import TOKEN_NAME_MAX, ApiTokenRow

router = APIRouter(prefix="/api/v1/tenants/{namespace}/{name}/tokens", tags=["API tokens"])


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=TOKEN_NAME_MAX, description="What it is for.")
    expires_in_days: int = Field(
        default=DEFAULT_DAYS, ge=1, le=MAX_DAYS, strict=True, description="How long it works."
    )


class TokenInfo(BaseModel):
    id: str
    name: str
    created_at: AwareDatetime
    last_used_at: datetime | None
    expires_at: AwareDatetime = Field(description="When it stops working.")
    expired: bool


def token_info(row: ApiTokenRow, now: datetime) -> TokenInfo:
    end = ends(row)
    return TokenInfo(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=end,
        expired=now >= end,
    )


class CreatedToken(TokenInfo):
    token: str = Field(description="Send as `Authorization: Bearer <token>`; shown only now.")


@router.post("", status_code=201, response_model=CreatedToken)
async def create_token(
    namespace: str, name: str, body: NewToken, principal: CsrfDep, request: Request
) -> CreatedToken:
    tenant = f"{namespace}/{name}"
    require(principal, tenant, "manage")
    services = services_of(request)
    row, token = await issue(
        services, tenant, body.name.strip() or body.name, principal.subject, body.expires_in_days
    )
    await audit(services, principal, "token_created", tenant, row.id)
    return CreatedToken(**token_info(row, services.clock()).model_dump(), token=token)


@router.get("", response_model=list[TokenInfo])
async def list_tokens(
    namespace: str, name: str, principal: PrincipalDep, request: Request
) -> list[TokenInfo]:
    tenant = f"{namespace}/{name}"
    require(principal, tenant, "manage")
    services = services_of(request)
    rows = await tables(services).api_tokens(tenant)
    now = services.clock()
    return [token_info(row, now) for row in rows]


@router.delete("/{token_id}", status_code=204, response_class=Response)
async def delete_token(
    namespace: str, name: str, token_id: str, principal: CsrfDep, request: Request
) -> Response:
    tenant = f"{namespace}/{name}"
    require(principal, tenant, "manage")
    services = services_of(request)
    if not await tables(services).delete_api_token(tenant, token_id):
        raise HTTPException(404, "no such token")
    await audit(services, principal, "token_deleted", tenant, token_id)
    return Response(status_code=204)
