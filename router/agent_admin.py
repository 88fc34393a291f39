"""The console's calls that a tenant's agent answers (its documents, its unanswered
questions, a trial question, one customer's memory), made by the router on the console's
behalf: DESIGN.md's call edges have the console reach the router's admin API and the
router reach agents, never the console reach an agent.

`AgentAdmin.request(tenant, method, path, ...)` finds the tenant's agent in the routing
table and calls it; the router's admin modules (router/api/admin_*.py) decide what may be
asked and translate the agent's answer.
"""

from typing import Any

import httpx

from router.live_routes import LiveRoutes


class AgentNotRoutedError(LookupError):
    """No route names this tenant: no such Business here, or it has no agent now."""


class AgentDownError(RuntimeError):
    """The agent did not answer (connection refused, timeout): try again later."""


class AgentAdmin:
    def __init__(self, routes: LiveRoutes, timeout_seconds: float = 30.0) -> None:
        self._routes = routes
        self._timeout = timeout_seconds
        self._client: httpx.AsyncClient | None = None

    def endpoint_of(self, tenant: str) -> str:
        """The agent's base URL for `tenant` ("namespace/name"); AgentNotRoutedError when
        no route names it, or its Business is suspended (its agent is scaled to zero)."""
        for route in self._routes.table.routes:
            if route.tenant == tenant:
                if route.suspended:
                    break
                return route.endpoint.rstrip("/")
        raise AgentNotRoutedError(tenant)

    async def request(
        self,
        tenant: str,
        method: str,
        path: str,
        *,
        timeout_seconds: float | None = None,
        **options: Any,
    ) -> httpx.Response:
        """`method path` on the tenant's agent (`options` as httpx takes them: json,
        content, params, headers). Any HTTP status is returned; only a failed call raises."""
        url = self.endpoint_of(tenant) + path
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        try:
            return await self._client.request(
                method, url, timeout=timeout_seconds or self._timeout, **options
            )
        except httpx.HTTPError as error:
            raise AgentDownError(f"{type(error).__name__} calling the agent") from error

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
