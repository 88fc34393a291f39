"""Crawl a site within its host, breadth first, honouring robots.txt, depth and page limits.
Every request, robots.txt included, goes through `open_url`, which vets each hop's address."""

import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ingestion.errors import FailureReason, SourceError
from ingestion.fetching import USER_AGENT, FetchLimits, VettedClient, decode_html, fetch, open_url
from ingestion.loaders.html import Page, parse_html

_HTML_TYPES = ("text/html", "application/xhtml+xml")
# A site asking for more than this between requests is crawled at this pace instead,
# so a refresh of a few dozen pages still finishes within a Job's lifetime.
_MAX_CRAWL_DELAY = 10.0
# RFC 9309: crawlers must read at least 500 KiB of robots.txt; the rest may be ignored.
_ROBOTS_MAX_BYTES = 512 * 1024


@dataclass
class Crawl:
    pages: list[tuple[str, Page]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def crawl_site(
    client: VettedClient, start: str, limits: FetchLimits, max_pages: int, max_depth: int
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


def _robots(client: VettedClient, start: str, limits: FetchLimits) -> RobotFileParser:
    parts = urlsplit(start)
    url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    robots = RobotFileParser(url)
    try:
        with open_url(client, url, limits) as response:
            status = response.status_code
            body = bytearray()
            for piece in response.iter_bytes():
                body.extend(piece)
                if len(body) >= _ROBOTS_MAX_BYTES:
                    break
    except SourceError as error:
        raise SourceError(f"robots.txt at {url}: {error}", error.reason) from error
    if status >= 500:
        # RFC 9309: an unreachable robots.txt means the whole site is off limits for now.
        message = f"robots.txt at {url} answered HTTP {status}"
        raise SourceError(message, FailureReason.HTTP_STATUS)
    # RFC 9309: a missing robots.txt (4xx) allows everything; an empty rule set does that.
    text = bytes(body[:_ROBOTS_MAX_BYTES]).decode("utf-8", errors="replace")
    robots.parse([] if status >= 400 else text.splitlines())
    return robots
