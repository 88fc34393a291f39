"""JSON POSTs on the router's hot path: to each tenant's agent and to the Graph API.

Every customer message costs the router three POSTs (the agent, the reply, the read
receipt). httpx spent about half of the router's CPU on them under load: its pool checks
every pooled connection for each request. aiohttp's pool does not, and its request path
is a few times cheaper; httpx stays for everything else (media downloads, the Kubernetes
API, the console's calls), where a request is rare.

Proxies and trusted CAs come from the environment as they do for httpx (HTTPS_PROXY,
NO_PROXY, SSL_CERT_FILE); the proxy is looked up once per host, not per request (aiohttp's
own lookup reads the environment and ~/.netrc in a thread for every request).
"""

import json
import os
import ssl
import urllib.request
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi


class PostFailedError(RuntimeError):
    """The request got no HTTP answer: refused, reset, timed out, bad address."""


@dataclass(frozen=True, slots=True)
class Posted:
    status: int
    reason: str
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON (ValueError when it is not)."""
        return json.loads(self.body)


class JsonPoster:
    """One pool of keep-alive connections for the router's POSTs; open it in the event
    loop that uses it, close it when the router stops."""

    def __init__(self, max_connections: int, timeout_seconds: float) -> None:
        self._max_connections = max_connections
        self._timeout = timeout_seconds
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:  # a task that outlived the router's stop: no new pool
            raise PostFailedError("closed")
        if self._session is None:
            # The CAs httpx trusts (certifi's), unless SSL_CERT_FILE names others.
            trusted = ssl.create_default_context(
                cafile=os.environ.get("SSL_CERT_FILE") or certifi.where()
            )
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    ssl=trusted,
                    # Below the 5 s after which uvicorn (Serve's proxy, most servers)
                    # closes an idle connection: a request never races that close.
                    keepalive_timeout=4,
                ),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                trust_env=False,  # proxies: `proxy_for`
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        timeout_seconds: float | None = None,
    ) -> Posted:
        """POST `body` as JSON; raises PostFailedError when no HTTP answer came."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        options: dict[str, Any] = {}
        parts = urlsplit(url)
        proxy = proxy_for(parts.scheme, parts.hostname or "")
        if proxy is not None:
            options["proxy"] = proxy
        if timeout_seconds is not None:
            options["timeout"] = aiohttp.ClientTimeout(total=timeout_seconds)
        try:
            # No redirects: a redirected POST may turn into a GET whose 200 says nothing
            # about the message (httpx did not follow them either).
            session = self._open()
            async with session.post(
                url, data=body, headers=sent, allow_redirects=False, **options
            ) as response:
                return Posted(response.status, response.reason or "", await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise PostFailedError(type(error).__name__) from error

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def json_body(document: Any) -> bytes:
    """Compact UTF-8 JSON, as httpx's `json=` writes it."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


@cache
def proxy_for(scheme: str, host: str) -> str | None:
    """The proxy the environment names for `host` (HTTPS_PROXY, HTTP_PROXY, NO_PROXY),
    as httpx would use; None to connect directly."""
    if not host or urllib.request.proxy_bypass(host):
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    if proxy and "://" not in proxy:  # "proxy.corp:3128", as httpx also accepts it
        proxy = f"http://{proxy}"
    return proxy or None
