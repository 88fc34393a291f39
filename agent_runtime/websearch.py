"""Web search for what the business's own knowledge does not cover: off unless enabled.

Three providers behind one call: a SearXNG instance's JSON API (self-hostable), Tavily,
and DuckDuckGo's HTML endpoint through the `ddgs` package. Each is asked for Sri Lankan
results where it has the region, within a timeout and a result budget, and every result
keeps its URL for citation.
"""

import math
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from katha.api.business import WebSearch as WebSearchSpec
from katha.api.business import WebSearchProvider
from katha.observability import get_logger

log = get_logger("agent")
TAVILY_URL = "https://api.tavily.com/search"
# What one result may contribute to an answer: a snippet, not a page.
SNIPPET_CHARS = 500


@dataclass(frozen=True)
class WebResult:
    title: str
    url: str
    snippet: str


class WebSearch(Protocol):
    def search(self, query: str) -> list[WebResult]: ...


class WebSearchError(RuntimeError):
    """The provider failed or timed out; the agent answers without the web."""


@dataclass(frozen=True)
class SearxngSearch:
    url: str
    max_results: int = 3
    region: str = "lk"
    timeout_seconds: float = 5.0

    def search(self, query: str) -> list[WebResult]:
        params = {"q": query, "format": "json", "language": f"en-{self.region.upper()}"}
        url = f"{self.url.rstrip('/')}/search"
        data = _json("searxng", "GET", url, self.timeout_seconds, params=params)
        return _results(data.get("results", []), "content", self.max_results)


@dataclass(frozen=True)
class TavilySearch:
    api_key: str
    max_results: int = 3
    region: str = "lk"
    timeout_seconds: float = 5.0
    url: str = TAVILY_URL

    def search(self, query: str) -> list[WebResult]:
        body = {
            "query": query,
            "max_results": self.max_results,
            "country": "sri lanka" if self.region == "lk" else self.region,
        }
        headers = {"Authorization": f"Bearer {self.api_key}"}
        data = _json("tavily", "POST", self.url, self.timeout_seconds, json=body, headers=headers)
        return _results(data.get("results", []), "content", self.max_results)


@dataclass(frozen=True)
class DuckDuckGoSearch:
    """DuckDuckGo's HTML endpoint through ddgs, and only it (ddgs's "auto" asks others too)."""

    max_results: int = 3
    region: str = "lk"
    timeout_seconds: float = 5.0
    proxy: str | None = None  # an egress proxy (http, https or socks5 URL)
    ca_file: str | None = None  # a CA bundle to trust, for a TLS-inspecting egress proxy

    def search(self, query: str) -> list[WebResult]:
        try:
            from ddgs import DDGS  # type: ignore[import-not-found,unused-ignore]
        except ImportError as error:
            raise WebSearchError("the duckduckgo provider needs the ddgs package") from error
        # ddgs takes whole seconds, for each request and for the search as a whole.
        timeout = max(1, math.ceil(self.timeout_seconds))
        try:
            found = DDGS(proxy=self.proxy, timeout=timeout, verify=self.ca_file or True).text(
                query,
                region=duckduckgo_region(self.region),
                safesearch="moderate",
                max_results=self.max_results,
                backend="duckduckgo",
            )
        except Exception as error:  # ddgs wraps every failure, "no results" included
            raise WebSearchError(f"duckduckgo failed: {type(error).__name__}") from error
        rows = [
            {"title": r.get("title"), "url": r.get("href"), "body": r.get("body")} for r in found
        ]
        return _results(rows, "body", self.max_results)


# DuckDuckGo's documented regions (the `kl` parameter) that are nearest our customers.
# It has none for Sri Lanka: "wt-wt" (no region) is the honest choice, not India's.
DUCKDUCKGO_REGIONS = {
    "in": "in-en",
    "pk": "pk-en",
    "sg": "sg-en",
    "my": "my-en",
    "au": "au-en",
    "nz": "nz-en",
    "uk": "uk-en",
    "gb": "uk-en",
    "us": "us-en",
    "ca": "ca-en",
}
NO_REGION = "wt-wt"


def duckduckgo_region(region: str) -> str:
    return DUCKDUCKGO_REGIONS.get(region, NO_REGION)


def web_search_for(
    spec: WebSearchSpec,
    api_key: str | None,
    timeout: float,
    *,
    proxy: str | None = None,
    ca_file: str | None = None,
) -> WebSearch | None:
    """The Business's configured provider, or None when web search is off."""
    if not spec.enabled:
        return None
    if spec.provider is WebSearchProvider.SEARXNG and spec.url is not None:
        return SearxngSearch(str(spec.url), spec.max_results, spec.region, timeout)
    if spec.provider is WebSearchProvider.TAVILY:
        if not api_key:
            log.warning("web_search.unconfigured", provider="tavily", reason="no API key")
            return None
        return TavilySearch(api_key, spec.max_results, spec.region, timeout)
    return DuckDuckGoSearch(spec.max_results, spec.region, timeout, proxy, ca_file)


def _json(provider: str, method: str, url: str, timeout: float, **request: Any) -> dict[str, Any]:
    """A provider's JSON answer; any failure (HTTP, timeout, not JSON) is a WebSearchError."""
    try:
        response = httpx.request(method, url, timeout=timeout, **request)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise WebSearchError(f"{provider} failed: {type(error).__name__}") from error
    return data


def _results(rows: list[dict[str, Any]], snippet_key: str, budget: int) -> list[WebResult]:
    results = []
    for row in rows:
        url, title = row.get("url"), row.get("title") or ""
        snippet = (row.get(snippet_key) or "").strip()
        if isinstance(url, str) and url.startswith(("http://", "https://")) and snippet:
            results.append(WebResult(str(title), url, snippet[:SNIPPET_CHARS]))
        if len(results) == budget:
            break
    return results
