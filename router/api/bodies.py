"""Admin request bodies, read by the endpoint itself: a refused body is answered with the
names of the fields at fault, never their values (FastAPI's own 422 echoes the input, and
the console's error messages may be logged; a body holds codes, numbers and words)."""

from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, ValidationError


class AdminBody(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


Body = TypeVar("Body", bound=AdminBody)


def documented(model: type[AdminBody]) -> dict[str, Any]:
    """The OpenAPI request body of an endpoint that reads `model` itself (see parse_body)."""
    schema = {"schema": model.model_json_schema()}
    return {"requestBody": {"required": True, "content": {"application/json": schema}}}


async def parse_body(request: Request, model: type[Body]) -> Body:
    """The body as `model`, or 422 naming the fields at fault (not echoing their values,
    as FastAPI's own answer would)."""
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "the body must be JSON"
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})
        detail = f"invalid: {', '.join(fields) or 'body'}"
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None
