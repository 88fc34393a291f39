"""Crawl a site within its host, breadth first, honouring robots.txt, depth and page limits."""

import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from ingestion.errors import FailureReason, SourceError
from ingestion.fetching import USER_AGENT, FetchLimits, decode_html, fetch
from ingestion.loaders.html import Page, parse_html

_HTML_TYPES = ("text/html", "application/xhtml+xml")
# A site asking for more than this between requests is crawled at this pace instead,
# so a refresh of a few dozen pages still finishes within a Job's lifetime.
_MAX_CRAWL_DELAY = 10.0


@dataclass
class Crawl:
    pages: list[tuple[str, Page]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def crawl_site(
    client: httpx.Client, start: str, limits: FetchLimits, max_pages: int, max_depth: int
) -> Crawl:
    """Pages reachable from `start` on the same host. The start page failing fails the source;
    a later page failing is noted in `skipped` and the crawl goes on."""
    robots = _robots(client, start, limits)
    if not robots.can_fetch(USER_AGENT, start):
        raise SourceError(f"robots.txt disallows {start}", FailureReason.ROBOTS)
    host = urlsplit(start).netloc
    delay = min(float(robots.crawl_delay(USER_AGENT) or 0), _MAX_CRAWL_DELAY)
    queue: deque[tuple[str, int]] = deque([(start, 0)])
    seen = {start}
    result = Crawl()
    while queue and len(result.pages) < max_pages:
        url, depth = queue.popleft()
        if result.pages and delay:
            time.sleep(delay)
        try:
            fetched = fetch(client, url, limits, _HTML_TYPES)
        except SourceError as error:
            if url == start:
                raise
            result.skipped.append(str(error))
            continue
        page = parse_html(decode_html(fetched), fetched.url)
        result.pages.append((fetched.url, page))
        if depth >= max_depth:
            continue
        for link in page.links:
            parts = urlsplit(link)
            if link in seen or parts.netloc != host or parts.scheme not in ("http", "https"):
                continue
            seen.add(link)
            if robots.can_fetch(USER_AGENT, link):
                queue.append((link, depth + 1))
            else:
                result.skipped.append(f"robots.txt disallows {link}")
    return result


def _robots(client: httpx.Client, start: str, limits: FetchLimits) -> RobotFileParser:
    parts = urlsplit(start)
    url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    robots = RobotFileParser(url)
    try:
        response = client.get(url, timeout=limits.timeout_seconds)
    except httpx.HTTPError as error:
        message = f"robots.txt at {url} unreachable ({error})"
        raise SourceError(message, FailureReason.UNREACHABLE) from error
    if response.status_code >= 500:
        # RFC 9309: an unreachable robots.txt means the whole site is off limits for now.
        message = f"robots.txt at {url} answered HTTP {response.status_code}"
        raise SourceError(message, FailureReason.HTTP_STATUS)
    # RFC 9309: a missing robots.txt (4xx) allows everything; an empty rule set does that.
    robots.parse([] if response.status_code >= 400 else response.text.splitlines())
    return robots
