"""Web pages: main content without menus and footers; crawls that stay polite and bounded."""

import time

import pytest
from peers.web_site import Site

from ingestion.crawling import crawl_site
from ingestion.documents import BlockKind
from ingestion.errors import SourceError
from ingestion.fetching import FetchLimits, fetch, http_client
from ingestion.loaders.html import parse_html

from .conftest import SITES_ON_LOOPBACK

WORDPRESS_PAGE = """<!doctype html><html><head><title>Menu – Ceylon Spice</title>
<script>var tracking = 1;</script><style>.x{}</style></head><body>
<a class="skip-link" href="#content">Skip to content</a>
<header id="masthead" class="site-header"><h1>Ceylon Spice</h1></header>
<nav class="main-navigation"><ul><li><a href="/">Home</a></li><li><a href="/menu">Menu</a></li>
<li><a href="/contact">Contact</a></li></ul></nav>
<main id="content"><h1>Our menu</h1><p>Fresh <b>kottu</b> every evening.</p>
<ul><li>Chicken kottu</li><li>එළවළු කොත්තු</li></ul>
<table><tr><th>Item</th><th>Price</th></tr><tr><td>Chicken Kottu</td><td>Rs. 1,200</td></tr></table>
<h2>Delivery</h2><p>Within 5 km.</p></main>
<aside id="secondary" class="widget-area"><p>Recent posts</p></aside>
<footer id="colophon" class="site-footer"><p>© 2025 Ceylon Spice</p></footer></body></html>"""


def test_main_content_is_kept_and_menus_footers_and_scripts_are_not() -> None:
    page = parse_html(WORDPRESS_PAGE, "https://example.lk/menu")
    texts = [block.text for block in page.blocks]
    assert texts == [
        "Our menu",
        "Fresh kottu every evening.",
        "Chicken kottu",
        "එළවළු කොත්තු",
        "Item: Chicken Kottu | Price: Rs. 1,200",
        "Delivery",
        "Within 5 km.",
    ]
    assert page.title == "Menu – Ceylon Spice"
    kinds = [block.kind for block in page.blocks]
    assert kinds[:5] == [BlockKind.HEADING, BlockKind.PARAGRAPH, *[BlockKind.LIST_ITEM] * 2,
                         BlockKind.TABLE_ROW]  # fmt: skip


def test_links_in_menus_are_still_followed() -> None:
    page = parse_html(WORDPRESS_PAGE, "https://example.lk/menu")
    assert "https://example.lk/contact" in page.links


def _small_site(site: Site) -> None:
    site.file("/robots.txt", "text/plain", b"User-agent: *\nDisallow: /private\n")
    links = (
        '<a href="/menu">m</a> <a href="/private/prices">p</a> <a href="http://elsewhere.lk/">x</a>'
    )
    site.html("/", f"<main><h1>Home</h1><p>Welcome to Ceylon Spice.</p>{links}</main>")
    site.html("/menu", '<main><h1>Menu</h1><p>Kottu.</p><a href="/menu/deep">d</a></main>')
    site.html("/menu/deep", "<main><h1>Deep</h1><p>Too deep.</p></main>")
    site.html("/private/prices", "<main><p>Secret.</p></main>")


def test_a_crawl_stays_on_the_host_and_honours_robots_txt(site: Site) -> None:
    _small_site(site)
    limits = FetchLimits(timeout_seconds=2)
    with http_client(limits, SITES_ON_LOOPBACK) as client:
        crawl = crawl_site(client, f"{site.base}/", limits, max_pages=10, max_depth=2)
    assert [url.removeprefix(site.base) for url, _ in crawl.pages] == ["/", "/menu", "/menu/deep"]
    assert "/private/prices" not in site.requests
    assert f"robots.txt disallows {site.base}/private/prices" in crawl.skipped


def test_a_crawl_stops_at_max_depth_and_max_pages(site: Site) -> None:
    _small_site(site)
    limits = FetchLimits(timeout_seconds=2)
    with http_client(limits, SITES_ON_LOOPBACK) as client:
        shallow = crawl_site(client, f"{site.base}/", limits, max_pages=10, max_depth=1)
        few = crawl_site(client, f"{site.base}/", limits, max_pages=1, max_depth=5)
    assert [url.removeprefix(site.base) for url, _ in shallow.pages] == ["/", "/menu"]
    assert len(few.pages) == 1


def test_a_crawl_waits_the_crawl_delay_robots_txt_asks_for(site: Site) -> None:
    _small_site(site)
    site.file("/robots.txt", "text/plain", b"User-agent: *\nCrawl-delay: 1\n")
    limits = FetchLimits(timeout_seconds=2)
    started = time.monotonic()
    with http_client(limits, SITES_ON_LOOPBACK) as client:
        crawl = crawl_site(client, f"{site.base}/", limits, max_pages=2, max_depth=1)
    assert len(crawl.pages) == 2
    assert time.monotonic() - started >= 1.0


def test_a_missing_start_page_fails_the_source(site: Site) -> None:
    limits = FetchLimits(timeout_seconds=2)
    with (
        http_client(limits, SITES_ON_LOOPBACK) as client,
        pytest.raises(SourceError, match="HTTP 404"),
    ):
        crawl_site(client, f"{site.base}/gone", limits, max_pages=5, max_depth=1)


def test_a_site_whose_robots_txt_errors_is_not_crawled(site: Site) -> None:
    site.pages["/robots.txt"] = (503, "text/plain", b"busy")
    site.html("/", "<p>Hello</p>")
    limits = FetchLimits(timeout_seconds=2)
    with (
        http_client(limits, SITES_ON_LOOPBACK) as client,
        pytest.raises(SourceError, match="HTTP 503"),
    ):
        crawl_site(client, f"{site.base}/", limits, max_pages=5, max_depth=1)
    assert "/" not in site.requests


def test_downloads_refuse_slow_large_and_unexpected_content(site: Site) -> None:
    site.file("/slow.pdf", "application/pdf", b"%PDF")
    site.delays["/slow.pdf"] = 1.0
    site.file("/big.pdf", "application/pdf", b"x" * 5000)
    site.file("/page.pdf", "text/html", b"<p>not a pdf</p>")
    limits = FetchLimits(timeout_seconds=0.3, max_bytes=1024)
    pdf = ("application/pdf",)
    with http_client(limits, SITES_ON_LOOPBACK) as client:
        with pytest.raises(SourceError, match=r"timed out after 0\.3 s"):
            fetch(client, f"{site.base}/slow.pdf", limits, pdf)
        with pytest.raises(SourceError, match="larger than 1024 bytes"):
            fetch(client, f"{site.base}/big.pdf", limits, pdf)
        with pytest.raises(SourceError, match="is text/html, not application/pdf"):
            fetch(client, f"{site.base}/page.pdf", limits, pdf)


def test_unclosed_list_items_and_paragraphs_are_still_told_apart() -> None:
    page = parse_html("<ul><li>Chicken<li>Egg</ul><p>Open daily<p>Closed on Poya", "https://x.lk/")
    assert [(block.kind, block.text) for block in page.blocks] == [
        (BlockKind.LIST_ITEM, "Chicken"),
        (BlockKind.LIST_ITEM, "Egg"),
        (BlockKind.PARAGRAPH, "Open daily"),
        (BlockKind.PARAGRAPH, "Closed on Poya"),
    ]
