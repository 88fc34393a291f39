"""The router's admin API as the console calls it (`/admin/...`, bearer token): what a
person does in the console reaches customers the same way the agent's words do.

Endpoints (router/api/admin.py):
- POST /admin/conversations/{id}/takeover  {"tenant"}               -> {"with_person": true}
- POST /admin/conversations/{id}/reply     {"tenant", "text", "author", "reply_id"}
                                            -> {"sent": "free_form" | <refusal>}
  (refusals: outside_window, restricted, unknown_customer, failed; a reply_id the router
  already sent is answered free_form and not sent again)
- POST /admin/conversations/{id}/release                             -> {"released": bool}
- POST /admin/login-codes                  {"owner_number", "code", "minutes"}
                                            -> {"tenants": ["namespace/name", ...]}
  (the code goes to that number on WhatsApp, as the Business's loginCode template or words
  inside the owner's window, from each Business whose owner it is)
- GET  /admin/tenants/{ns}/{name}/media/{media_id}                  -> a customer's file
  (its bytes with their Content-Type and Content-Disposition; 404 for another Business's)
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx


class RouterUnavailableError(RuntimeError):
    """The router did not answer, or answered 5xx: try again later."""


class RouterRefusedError(RuntimeError):
    """The router refused the call (4xx): asking again gets the same answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"router refused ({status}): {detail}")
        self.status = status


@dataclass
class RouterAdmin:
    client: httpx.AsyncClient  # base_url: the router; the admin token in its headers

    @classmethod
    def connect(cls, url: str, token: str, timeout: float = 10.0) -> "RouterAdmin":
        headers = {"Authorization": f"Bearer {token}"}
        return cls(httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout))

    async def takeover(self, tenant: str, conversation_id: str) -> bool:
        body = await self._post(
            f"/admin/conversations/{conversation_id}/takeover", {"tenant": tenant}
        )
        return bool(body.get("with_person"))

    async def reply(
        self, tenant: str, conversation_id: str, text: str, author: str, reply_id: str | None
    ) -> str:
        """How the router answered: "free_form" (sent) or why it did not send. `reply_id`
        makes a retried call reach the customer once, whichever replica makes it."""
        payload = {"tenant": tenant, "text": text, "author": author}
        if reply_id is not None:
            payload["reply_id"] = reply_id
        body = await self._post(f"/admin/conversations/{conversation_id}/reply", payload)
        return str(body.get("sent", ""))

    async def release(self, conversation_id: str) -> bool:
        body = await self._post(f"/admin/conversations/{conversation_id}/release", {})
        return bool(body.get("released"))

    async def send_login_code(self, owner_number: str, code: str, minutes: float) -> list[str]:
        payload = {"owner_number": owner_number, "code": code, "minutes": minutes}
        body = await self._post("/admin/login-codes", payload)
        return [str(tenant) for tenant in body.get("tenants", [])]

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await call_json(self.client, "POST", path, json=payload)


def admin_path(tenant: str, *parts: str) -> str:
    """`/admin/tenants/NAMESPACE/NAME/PART/...` for a tenant ("namespace/name"), each part
    quoted (a file name or a conversation id may hold any character)."""
    namespace, _, name = tenant.partition("/")
    quoted = (quote(part, safe="") for part in (namespace, name, *parts))
    return "/".join(["/admin/tenants", *quoted])


async def call_router(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    refused: Callable[[httpx.Response], Exception] | None = None,
    **options: Any,
) -> httpx.Response:
    """One admin call with `client` (RouterAdmin.client: the router's URL and the token;
    `options` as httpx takes them). No answer or 5xx: RouterUnavailableError (try again);
    4xx: `refused(response)`, by default RouterRefusedError."""
    try:
        response = await client.request(method, path, **options)
    except httpx.HTTPError as error:
        raise RouterUnavailableError(type(error).__name__) from error
    if response.status_code >= 500:
        raise RouterUnavailableError(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        if refused is not None:
            raise refused(response)
        raise RouterRefusedError(response.status_code, response.text[:200])
    return response


async def call_json(
    client: httpx.AsyncClient, method: str, path: str, **options: Any
) -> dict[str, Any]:
    """`call_router`'s answer as the JSON object it is."""
    body: dict[str, Any] = (await call_router(client, method, path, **options)).json()
    return body


@dataclass
class MediaDownload:
    """A customer's file on its way from the router: its headers now, its bytes as they
    arrive (so a large document never sits whole in the console's memory). Close it."""

    response: httpx.Response

    @property
    def mime_type(self) -> str:
        return str(self.response.headers.get("content-type", "application/octet-stream"))

    @property
    def disposition(self) -> str:
        return str(self.response.headers.get("content-disposition", ""))

    @property
    def length(self) -> str | None:
        length = self.response.headers.get("content-length")
        return None if length is None else str(length)

    def chunks(self) -> AsyncIterator[bytes]:
        return self.response.aiter_bytes()

    async def aclose(self) -> None:
        await self.response.aclose()


async def open_media(client: httpx.AsyncClient, tenant: str, media_id: str) -> MediaDownload | None:
    """Start reading one of `tenant`'s customers' files (RouterAdmin.client). None: the
    router keeps no such file for that tenant (gone with retention, or another Business's
    id). No answer or 5xx: RouterUnavailableError; any other refusal: RouterRefusedError."""
    request = client.build_request("GET", admin_path(tenant, "media", media_id))
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as error:
        raise RouterUnavailableError(type(error).__name__) from error
    if response.status_code == 200:
        return MediaDownload(response)
    await response.aclose()
    if response.status_code == 404:
        return None
    if response.status_code >= 500:
        raise RouterUnavailableError(f"HTTP {response.status_code}")
    raise RouterRefusedError(response.status_code, "the media call was refused")
