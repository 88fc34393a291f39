"""The console's side of the router's Answers admin calls (router/api/admin_answers.py):
console → router → agent, never console → agent. Errors map as RouterAdmin._post maps
them (console.router_client.call_json): no answer or 5xx is RouterUnavailableError, 4xx
is RouterRefusedError."""

from typing import Any

import httpx

from console.router_client import admin_path, call_json


async def groups(client: httpx.AsyncClient, tenant: str) -> list[dict[str, Any]]:
    """The tenant's unanswered questions grouped by meaning, the most asked first."""
    body = await call_json(client, "GET", admin_path(tenant, "unanswered", "groups"))
    found: list[dict[str, Any]] = body.get("groups", [])
    return found


async def resolve(client: httpx.AsyncClient, tenant: str, members: list[dict[str, Any]]) -> int:
    """Delete these questions (each as the groups call named it: id, at, hash) from the
    agent's list; a row on another replica's list with the same id is left alone."""
    path = admin_path(tenant, "unanswered", "resolve")
    body = await call_json(client, "POST", path, json={"questions": members})
    return int(body.get("resolved", 0))


async def try_question(client: httpx.AsyncClient, tenant: str, text: str) -> dict[str, Any]:
    return await call_json(client, "POST", admin_path(tenant, "try"), json={"text": text})
