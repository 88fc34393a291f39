"""Insights count days in the Business's own time zone (`spec.timezone`, read through
`Businesses`: here FileBusinesses on the Business's YAML, as on one machine); a `tz`
query still wins; a Business that cannot be read is counted in Colombo's days, and the
page says so."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from console_under_test import ALPHA, BETA, Console
from insights_events import at, ev
from peers.loopback import ServerThread

from console.app import create_app
from console.businesses.files import FileBusinesses

# London is five and a half hours behind Colombo in March (no summer time until the 29th):
# Colombo's 23:30 and 00:10 on the next day are both still March 1st there.
BUSINESS = """\
apiVersion: katha.dev/v1alpha1
kind: Business
metadata:
  name: alpha
  namespace: shops
spec:
  displayName: "Alpha Stores"
  timezone: Europe/London
  whatsapp:
    phoneNumberId: "105954558954427"
    credentialsSecretRef:
      name: alpha-whatsapp
"""
WEEK = {"days": "7", "end": "2026-03-07"}


@pytest.fixture
def zoned(console: Console, tmp_path: Path) -> Iterator[Console]:
    """The same console (same store, same router) with alpha's Business on file; beta's
    is named but its file is missing, so it cannot be read."""
    (tmp_path / "alpha.yaml").write_text(BUSINESS, encoding="utf-8")
    files = {ALPHA: tmp_path / "alpha.yaml", BETA: tmp_path / "missing.yaml"}
    businesses = FileBusinesses(files, tmp_path / "refresh")
    server = ServerThread(create_app(console.settings, businesses=businesses)).start()
    try:
        yield Console(
            server.url, console.settings, console.store, console.router, console.router_server,
            console.graph, console.agents, console.inbox_url,
        )  # fmt: skip
    finally:
        server.stop()


async def record_both_sides_of_midnight(console: Console) -> None:
    await console.record(
        ev(1, at(23, 30), "c-1", language="si", text="open late?"),
        ev(2, at(0, 10, day=2), "c-2", language="en", text="open now?"),
        ev(3, at(23, 30), "x-1", tenant=BETA, text="beta late"),
        ev(4, at(0, 10, day=2), "x-2", tenant=BETA, text="beta now"),
    )


async def test_days_are_the_businesses_own_unless_asked(zoned: Console) -> None:
    await record_both_sides_of_midnight(zoned)
    api = "/api/v1/tenants/shops/alpha/insights"
    async with await zoned.sign_in({ALPHA: "owner"}, language="en") as client:
        own = (await client.get(api, params=WEEK)).json()
        asked = (await client.get(api, params=WEEK | {"tz": "Asia/Colombo"})).json()
        page = (await client.get("/b/shops/alpha/insights", params=WEEK)).text
        csv = (await client.get(f"{api}.csv", params=WEEK)).text
    assert (own["timezone"], own["timezone_fallback"]) == ("Europe/London", False)
    assert [day["messages"] for day in own["days"][:2]] == [2, 0]
    assert (asked["timezone"], [day["messages"] for day in asked["days"][:2]]) == (
        "Asia/Colombo", [1, 1],
    )  # fmt: skip
    assert 'data-timezone="Europe/London"' in page
    assert 'id="timezone-fallback"' not in page
    march_1 = page.split('data-day="2026-03-01"')[1].split("</tr>")[0]
    assert '<span data-count="messages">2</span>' in march_1
    assert csv.splitlines()[1].startswith("day,2026-03-01,2026-03-01,no,2,2,")


async def test_a_business_that_cannot_be_read_is_counted_in_colombo(zoned: Console) -> None:
    await record_both_sides_of_midnight(zoned)
    async with await zoned.sign_in({BETA: "owner"}, language="en") as client:
        report = (await client.get("/api/v1/tenants/shops/beta/insights", params=WEEK)).json()
        page = (await client.get("/b/shops/beta/insights", params=WEEK)).text
    assert (report["timezone"], report["timezone_fallback"]) == ("Asia/Colombo", True)
    assert [day["messages"] for day in report["days"][:2]] == [1, 1]
    assert 'data-timezone="Asia/Colombo"' in page
    notice = page.split('id="timezone-fallback">')[1].split("</p>")[0]
    assert notice == (
        "The Business's own time zone could not be read: these figures use Asia/Colombo."
    )


async def test_the_fallback_notice_in_sinhala_and_tamil(zoned: Console) -> None:
    notices = {}
    for language in ("si", "ta"):
        async with await zoned.sign_in({BETA: "owner"}, language=language) as client:
            page = (await client.get("/b/shops/beta/insights", params=WEEK)).text
        notices[language] = page.split('id="timezone-fallback">')[1].split("</p>")[0]
    assert notices["si"].startswith("ව්‍යාපාරයේම වේලා කලාපය")
    assert notices["ta"].startswith("வணிகத்தின் சொந்த நேர மண்டலத்தை")
    assert all("Asia/Colombo" in notice for notice in notices.values())
