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
"""

from dataclasses import dataclass
from typing import Any

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
        try:
            response = await self.client.post(path, json=payload)
        except httpx.HTTPError as error:
            raise RouterUnavailableError(type(error).__name__) from error
        if response.status_code >= 500:
            raise RouterUnavailableError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise RouterRefusedError(response.status_code, response.text[:200])
        body: dict[str, Any] = response.json()
        return body
