"""The settings page and API over a real Business YAML: each section saves just its fields,
a refused save shows `katha validate`'s words next to the field and leaves the file as it
was, staff see the page read-only, and another Business is 404."""

import html
import re
from typing import Any

import yaml
from settings_under_test import SettingsConsole

from console.businesses import CONSOLE_FIELDS
from console.setup.pages import outcome_of
from console.setup.saving import Refusal
from console.setup.sections import SECTION_PATHS
from katha.store.console_tables import ConsoleTables

ALPHA, BETA = "shops/alpha", "shops/beta"
PAGE = "/b/shops/alpha/settings"
API = "/api/v1/tenants/shops/alpha/settings"
PERSONA = {
    "name": "Nila",
    "tone": "friendly",
    "greeting": "ආයුබෝවන්! Mihiri Bakery here.",
    "languages": ["si", "singlish"],
    "singlish_replies": "sinhala",
}


def spec_of(settings: SettingsConsole) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(settings.business_file.read_text())["spec"]
    return spec


def field_problems(page: str, name: str) -> list[str]:
    return re.findall(rf'<p class="error problem" data-field="{re.escape(name)}">([^<]*)</p>', page)


async def test_each_section_saves_its_own_fields(settings_console: SettingsConsole) -> None:
    async with await settings_console.sign_in({ALPHA: "owner"}) as owner:
        saved = await owner.post(f"{PAGE}/persona", data=PERSONA)
        assert saved.status_code == 303
        assert saved.headers["location"] == f"{PAGE}?saved=persona#persona"
        hours = {
            "hours_stated": "on", "monday.open1": "09:00", "monday.close1": "13:00",
            "monday.open2": "15:00", "monday.close2": "00:00", "sunday.closed": "on",
            "sunday.open1": "09:00", "sunday.close1": "12:00", "add_day": "2026-12-25",
            "note": "Closed on Poya days",
        }  # fmt: skip
        assert (await owner.post(f"{PAGE}/hours", data=hours)).status_code == 303
        handoff = {"enabled": "on", "owner_number": "+94 77 123-4567"}
        assert (await owner.post(f"{PAGE}/handoff", data=handoff)).status_code == 303
        assert (await owner.post(f"{PAGE}/pause", data={"paused": "on"})).status_code == 303
        page = (await owner.get(PAGE, params={"saved": "pause"})).text
    spec = spec_of(settings_console)
    assert spec["persona"] == {
        "name": "Nila", "tone": "friendly", "greeting": "ආයුබෝවන්! Mihiri Bakery here.",
        "languages": ["si", "singlish"], "singlishReplies": "sinhala",
    }  # fmt: skip
    assert spec["hours"] == {
        "weekly": {"monday": [{"open": "09:00", "close": "13:00"},
                              {"open": "15:00", "close": "24:00"}]},
        "closedDays": ["2026-12-25"], "note": "Closed on Poya days",
    }  # fmt: skip
    assert spec["handoff"] == {"enabled": True, "ownerNumber": "+94771234567"}
    assert spec["paused"] is True
    assert spec["displayName"] == "Alpha Stores"  # not the console's: left alone
    assert "# the name customers know" in settings_console.business_file.read_text()
    assert 'id="pause-state"><strong>The agent is paused.' in page
    assert 'value="ආයුබෝවන්! Mihiri Bakery here.' not in page  # a textarea, not a value
    assert "ආයුබෝවන්! Mihiri Bakery here.</textarea>" in page
    assert '<time datetime="2026-12-25">' in page
    rows = await ConsoleTables.of(settings_console.store).audit_log(ALPHA)
    assert sorted((row.action, row.target) for row in rows) == [
        ("settings.handoff", "handoff"), ("settings.hours", "hours"),
        ("settings.pause", "pause"), ("settings.persona", "persona"),
    ]  # fmt: skip
    assert "771234567" not in repr(rows)


async def test_closed_days_are_added_and_removed_and_hours_turned_off(
    settings_console: SettingsConsole,
) -> None:
    base = {"hours_stated": "on", "friday.open1": "08:00", "friday.close1": "17:00"}
    async with await settings_console.sign_in({ALPHA: "owner"}) as owner:
        for day in ("2026-12-25", "2026-05-01"):
            days = spec_of(settings_console).get("hours", {}).get("closedDays", [])
            form = base | {"closed_days": days, "add_day": day}
            assert (await owner.post(f"{PAGE}/hours", data=form)).status_code == 303
        assert spec_of(settings_console)["hours"]["closedDays"] == ["2026-05-01", "2026-12-25"]
        form = base | {"closed_days": ["2026-05-01", "2026-12-25"], "remove_day": "2026-12-25"}
        assert (await owner.post(f"{PAGE}/hours", data=form)).status_code == 303
        assert spec_of(settings_console)["hours"]["closedDays"] == ["2026-05-01"]
        assert (await owner.post(f"{PAGE}/hours", data={})).status_code == 303
    assert "hours" not in spec_of(settings_console)


async def test_invalid_values_show_the_problems_and_leave_the_file_as_it_was(
    settings_console: SettingsConsole,
) -> None:
    before = settings_console.business_file.read_bytes()
    async with await settings_console.sign_in({ALPHA: "owner"}, language="si") as owner:
        greeting = await owner.post(f"{PAGE}/persona", data=PERSONA | {"greeting": "x" * 501})
        hours = await owner.post(
            f"{PAGE}/hours",
            data={"hours_stated": "on", "monday.open1": "18:00", "monday.close1": "09:00"},
        )
        handoff = await owner.post(f"{PAGE}/handoff", data={"enabled": "on"})
    assert settings_console.business_file.read_bytes() == before
    assert (greeting.status_code, hours.status_code, handoff.status_code) == (422, 422, 422)
    assert field_problems(greeting.text, "persona.greeting") == [
        "සුරැකුණේ නැත: spec.persona.greeting: String should have at most 500 characters"
    ]
    assert "x" * 501 + "</textarea>" in greeting.text  # the owner's text, kept to correct
    (problem,) = field_problems(hours.text, "hours.weekly.monday")
    assert problem.startswith("සුරැකුණේ නැත: spec.hours.weekly.monday[0]: open (18:00) must be")
    assert 'name="monday.open1" value="18:00"' in hours.text
    (number,) = field_problems(handoff.text, "handoff.ownerNumber")
    assert "handoff is enabled, so ownerNumber (e.g. +94771234567) is required" in number
    assert "කිසිවක් සුරැකුණේ නැත" in handoff.text


async def test_staff_see_the_settings_but_cannot_change_them(
    settings_console: SettingsConsole,
) -> None:
    before = settings_console.business_file.read_bytes()
    async with await settings_console.sign_in({ALPHA: "staff"}) as staff:
        page = await staff.get(PAGE)
        posted = await staff.post(f"{PAGE}/persona", data=PERSONA)
        put = await staff.put(API, json={"paused": True})
        read = await staff.get(API)
    assert page.status_code == 200
    assert "Only the owner can change these settings." in page.text
    assert page.text.count("<fieldset disabled>") == 3
    assert "Save persona" not in page.text
    assert 'id="pause-switch"' not in page.text
    assert 'value="Nila"' in page.text
    assert (posted.status_code, put.status_code, read.status_code) == (404, 404, 200)
    assert settings_console.business_file.read_bytes() == before


async def test_another_business_is_not_found(settings_console: SettingsConsole) -> None:
    async with await settings_console.sign_in({ALPHA: "owner"}) as owner:
        other_page = await owner.get("/b/shops/beta/settings")
        other_api = await owner.get("/api/v1/tenants/shops/beta/settings")
        other_put = await owner.put("/api/v1/tenants/shops/beta/settings", json={"paused": True})
        other_post = await owner.post("/b/shops/beta/settings/pause", data={"paused": "on"})
    assert [r.status_code for r in (other_page, other_api, other_put, other_post)] == [404] * 4
    async with await settings_console.sign_in({"shops/gamma": "owner"}) as gamma:
        assert (await gamma.get("/b/shops/gamma/settings")).status_code == 404  # no file
        assert (await gamma.get("/api/v1/tenants/shops/gamma/settings")).status_code == 404


async def test_the_api_reads_and_changes_sections_at_once(
    settings_console: SettingsConsole,
) -> None:
    async with await settings_console.sign_in({ALPHA: "owner"}) as owner:
        read = (await owner.get(API)).json()
        sunday = {"sunday": [{"open": "09:00", "close": "12:00"}]}
        hours = {"weekly": sunday, "note": "Poya: closed"}
        changed = await owner.put(API, json={"hours": hours, "paused": True})
        invalid = await owner.put(API, json={"handoff": {"enabled": True}, "paused": False})
        no_csrf = await owner.put(API, json={"paused": False}, headers={"X-CSRF-Token": ""})
    assert read == {
        "tenant": ALPHA,
        "persona": {"name": "Nila", "tone": "warm", "greeting": None, "languages": [],
                    "singlishReplies": "singlish"},
        "hours": None, "handoff": {"enabled": False, "ownerNumber": None}, "paused": False,
    }  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["hours"] == {
        "weekly": {"sunday": [{"open": "09:00", "close": "12:00"}]}, "holidays": [],
        "closedDays": [], "note": "Poya: closed",
    }  # fmt: skip
    assert invalid.status_code == 422
    assert invalid.json()["problems"] == [
        "spec.handoff: handoff is enabled, so ownerNumber (e.g. +94771234567) is required"
    ]
    assert no_csrf.status_code == 403
    spec = spec_of(settings_console)
    assert spec["paused"] is True
    assert "enabled" in spec["handoff"]
    assert spec["handoff"]["enabled"] is False


async def test_poya_and_public_holidays_are_set_on_the_page_and_other_rules_kept(
    settings_console: SettingsConsole,
) -> None:
    base = {"hours_stated": "on", "friday.open1": "08:00", "friday.close1": "17:00"}
    async with await settings_console.sign_in({ALPHA: "owner"}) as owner:
        vesak = {"weekly": {}, "holidays": [{"rule": "vesak", "usual": True}]}
        assert (await owner.put(API, json={"hours": vesak})).status_code == 200
        assert spec_of(settings_console)["hours"]["holidays"] == [{"rule": "vesak", "usual": True}]
        page = (await owner.get(PAGE)).text
        (kept,) = re.findall(r'name="holiday_kept" value="([^"]*)"', page)
        form = base | {
            "holiday.poya": "hours", "holiday.poya.open1": "06:30",
            "holiday.poya.close1": "12:00", "holiday.public-holidays": "closed",
            "holiday_kept": html.unescape(kept),
        }  # fmt: skip
        assert (await owner.post(f"{PAGE}/hours", data=form)).status_code == 303
        page = (await owner.get(PAGE)).text
        no_times = await owner.post(f"{PAGE}/hours", data=base | {"holiday.poya": "hours"})
        api = (await owner.get(API)).json()
    assert spec_of(settings_console)["hours"]["holidays"] == [
        {"rule": "poya", "hours": [{"open": "06:30", "close": "12:00"}]},
        {"rule": "public-holidays"},
        {"rule": "vesak", "usual": True},
    ]
    assert 'name="holiday.poya" value="hours" checked' in page
    assert 'name="holiday.public-holidays" value="closed" checked' in page
    assert 'name="holiday.poya.open1" value="06:30"' in page
    assert "Also set through the API: vesak" in page
    assert "Sri Lankan holiday calendar (2026, 2027)" in page
    assert no_times.status_code == 422  # "open these hours" with none is not "closed"
    assert field_problems(no_times.text, "hours.holidays")
    assert api["hours"]["holidays"][0] == {
        "rule": "poya", "hours": [{"open": "06:30", "close": "12:00"}], "usual": False,
    }  # fmt: skip
    async with await settings_console.sign_in({ALPHA: "owner"}) as owner:
        assert (await owner.post(f"{PAGE}/hours", data=base)).status_code == 303
    # Both usual and no rule carried along (as a browser would): no holiday rules at all.
    assert "holidays" not in spec_of(settings_console)["hours"]


async def test_a_business_file_that_cannot_be_read_says_try_again(
    settings_console: SettingsConsole,
) -> None:
    settings_console.business_file.write_text("spec: [unclosed\n")
    async with await settings_console.sign_in({ALPHA: "owner"}, language="ta") as owner:
        page = await owner.get(PAGE)
        api = await owner.get(API)
    assert (page.status_code, api.status_code) == (503, 503)
    assert "மீண்டும் முயற்சிக்கவும்" in page.text


def test_the_sections_change_the_console_fields_but_the_faq() -> None:
    paths = [path for section in SECTION_PATHS.values() for path in section]
    assert sorted(paths) == sorted(set(CONSOLE_FIELDS) - {("knowledge", "faq")})


def test_a_problem_with_no_field_on_the_page_is_shown_at_its_section() -> None:
    problems = [
        "spec.persona.greeting: String should have at least 1 character",
        "spec.persona.instructions: String should have at most 4000 characters",
        "spec.whatsapp.phoneNumberId: is required",
        "spec.hours.weekly.monday[1]: open (09:00) must be before close (08:00)",
    ]
    outcome = outcome_of("persona", Refusal(422, problems=problems))
    assert outcome.by_field == {
        "persona.greeting": [problems[0]], "hours.weekly.monday": [problems[3]],
    }  # fmt: skip
    assert outcome.by_section == {"persona": [problems[1], problems[2]]}
