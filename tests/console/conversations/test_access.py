"""Nobody unsigned gets anything, and a Business the principal lacks does not exist for
them: every operation the OpenAPI document lists, and every page."""

from collections import defaultdict
from typing import Any

import httpx
from console_under_test import ALPHA, BETA, CUSTOMER, Console, message

# Values for the path parameters of any /api/v1 operation.
PATH_VALUES = {
    "namespace": "shops",
    "name": "alpha",
    "conversation_id": "c-1",
    "token_id": "0123456789abcdef",
}


async def operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) for every operation of the API document."""
    document = (await client.get("/api/v1/openapi.json")).json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((method.upper(), path, operation))
    return found


def fill(path: str, **values: str) -> str:
    """The path with values for its parameters; one these tests do not know (another
    area's) gets a plain value: what is answered here never depends on it."""
    return path.format_map(defaultdict(lambda: "any-1", PATH_VALUES | values))


async def call(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
    """One request; an event stream is closed as soon as its status is known."""
    body = {"text": "hello", "name": "crm"} if method != "GET" else None
    async with client.stream(method, url, json=body) as response:
        return response


async def untouched(console: Console, tenant: str, conversation: str) -> None:
    """Nothing of a refused call reached the router: no handoff or person's words in the
    store (the router writes both before it answers), nothing sent to the customer, and
    the router's own memory of the conversation has no person in it."""
    authors = [(e.author, e.kind) for e in await console.thread(tenant, conversation)]
    assert authors == [("customer", "message"), ("agent", "message")]
    assert "hello" not in console.texts_to(CUSTOMER)
    assert (await console.router_state(conversation)).handoff_until is None


async def test_every_api_operation_refuses_a_caller_who_is_not_signed_in(
    console: Console,
) -> None:
    conversation = await console.customer_writes(ALPHA, "good morning")
    await console.answered(ALPHA, "good morning")
    async with console.anonymous() as client:
        found = await operations(client)
        answers = {
            f"{method} {path}": (
                await call(client, method, fill(path, conversation_id=conversation))
            ).status_code
            for method, path, _ in found
        }
    assert {f"{method} {path}" for method, path, _ in found} >= {
        "GET /api/v1/tenants",
        "GET /api/v1/tenants/{namespace}/{name}/conversations",
        "GET /api/v1/tenants/{namespace}/{name}/conversations/{conversation_id}",
        "POST /api/v1/tenants/{namespace}/{name}/conversations/{conversation_id}/takeover",
        "POST /api/v1/tenants/{namespace}/{name}/conversations/{conversation_id}/reply",
        "POST /api/v1/tenants/{namespace}/{name}/conversations/{conversation_id}/release",
        "GET /api/v1/tenants/{namespace}/{name}/events",
    }
    assert answers == dict.fromkeys(answers, 401)
    await untouched(console, ALPHA, conversation)


async def test_every_api_operation_describes_its_answer(console: Console) -> None:
    async with console.anonymous() as client:
        found = await operations(client)
    conversations = [op for _, path, op in found if "/conversations" in path or "/events" in path]
    assert len(conversations) == 6
    for operation in conversations:
        assert operation["responses"]["200"]["content"], operation["operationId"]
        assert "404" in operation["responses"], operation["operationId"]


async def test_another_business_is_not_found_through_every_api_operation(
    console: Console,
) -> None:
    theirs = await console.customer_writes(BETA, "good morning")
    await console.answered(BETA, "good morning")
    # Alpha has a conversation of the same id: only the Business tells them apart.
    await console.record(message(1, conversation=theirs))
    async with await console.sign_in({ALPHA: "owner"}) as client:
        found = await operations(client)
        answers = {
            f"{method} {path}": (
                await call(client, method, fill(path, name="beta", conversation_id=theirs))
            ).status_code
            for method, path, _ in found
            if "{name}" in path
        }
    assert len(answers) >= 6
    assert answers == dict.fromkeys(answers, 404)
    await untouched(console, BETA, theirs)


async def test_another_business_is_not_found_through_the_pages(console: Console) -> None:
    await console.record(message(1), message(2, tenant=BETA, conversation="c-beta"))
    async with await console.sign_in({ALPHA: "owner"}) as client:
        mine = await client.get("/b/shops/alpha/c/c-1")
        theirs = [
            await client.get("/b/shops/beta"),
            await client.get("/b/shops/beta/c/c-beta"),
            await client.get("/b/shops/alpha/c/c-beta"),  # their conversation under my name
            await client.get(f"/api/v1/tenants/{ALPHA}/conversations/c-beta"),
        ]
    assert mine.status_code == 200
    assert [response.status_code for response in theirs] == [404] * 4
    assert "message 2" not in "".join(response.text for response in theirs)


async def test_pages_send_a_caller_who_is_not_signed_in_to_sign_in(console: Console) -> None:
    async with console.anonymous() as client:
        answers = [
            await client.get(path) for path in ("/", "/b/shops/alpha", "/b/shops/alpha/c/c-1")
        ]
    assert [response.status_code for response in answers] == [303] * 3
    assert answers[1].headers["location"] == "/signin?next=%2Fb%2Fshops%2Falpha"
