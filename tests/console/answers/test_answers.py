"""The Answers page end to end on real parts: the owner's FAQ edited and written to the
Business's YAML; a group of unanswered questions answered becomes an FAQ item, leaves the
list, asks for a re-index, and once the writer has run the next customer is answered; a
trial question is answered with its sources and kept nowhere; staff read and try only."""

import json
from typing import Any

import yaml
from knowledge_stack import Stack
from shop import TENANT, shop_spec

from console.answers.faq import FaqItem
from ingestion.refresh import Refresh, refresh_business
from ingestion.settings import IngestionSettings
from ingestion.sources import Places
from katha.api import Business
from katha.store.console_tables import ConsoleTables

PAGE = "/b/tenants/mihiri/answers"
PIZZA_ANSWER = "Sorry, we do not make pizza; try our chicken buns."


def business_yaml(stack: Stack) -> dict[str, Any]:
    path = next(stack.refresh_dir.parents[1].glob("mihiri.yaml"))
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def owner_faq(stack: Stack) -> list[dict[str, str]]:
    faq: list[dict[str, str]] = business_yaml(stack)["spec"]["knowledge"].get("faq", [])
    return faq


async def actions(stack: Stack) -> list[tuple[str, str | None]]:
    rows = await ConsoleTables.of(stack.store).audit_log(TENANT)
    return [
        (row.action, row.target) for row in reversed(rows) if not row.action.startswith("session")
    ]


async def test_the_owners_faq_round_trips_through_the_business_yaml(stack: Stack) -> None:
    owner = await stack.sign_in("owner")
    async with owner:
        added = await owner.post(
            f"{PAGE}/faq", data={"q": "ඔබ ඉරිදා විවෘතද?", "a": "ඔව්, උදේ 8 සිට.", "language": "si"}
        )
        assert added.status_code == 303
        assert owner_faq(stack) == [{"q": "ඔබ ඉරිදා විවෘතද?", "a": "ඔව්, උදේ 8 සිට.", "language": "si"}]
        shown = FaqItem("ඔබ ඉරිදා විවෘතද?", "ඔව්, උදේ 8 සිට.", "si").fingerprint
        assert f'name="fingerprint" value="{shown}"' in (await owner.get(PAGE)).text
        edit = {
            "q": "Open on Sunday?",
            "a": "Yes, from 8 am.",
            "language": "",
            "fingerprint": shown,
        }
        edited = await owner.post(f"{PAGE}/faq/0", data=edit)
        assert edited.status_code == 303
        assert owner_faq(stack) == [{"q": "Open on Sunday?", "a": "Yes, from 8 am."}]
        page = await owner.get(PAGE)
        assert "Open on Sunday?" in page.text
        assert "How much is a fish bun?" in page.text  # the platform's FAQ, shown read-only
        assert 'action="/b/tenants/mihiri/answers/faq/1"' not in page.text
        too_long = await owner.post(f"{PAGE}/faq", data={"q": "q" * 2500, "a": "a"})
        assert too_long.status_code == 422
        assert 'id="problems"' in too_long.text
        assert "at most 2000 characters" in too_long.text  # as `katha validate` says it
        now = FaqItem("Open on Sunday?", "Yes, from 8 am.").fingerprint
        deleted = await owner.post(f"{PAGE}/faq/0/delete", data={"fingerprint": now})
        assert deleted.status_code == 303
        assert owner_faq(stack) == []
        gone = await owner.post(f"{PAGE}/faq/5/delete", data={"fingerprint": now})
        assert gone.status_code == 409
        assert 'id="item-changed"' in gone.text
    assert await actions(stack) == [("faq.add", None), ("faq.edit", None), ("faq.delete", None)]
    assert (stack.refresh_dir / "tenants.mihiri").is_file()


async def test_staff_read_and_try_but_do_not_edit(stack: Stack) -> None:
    staff = await stack.sign_in("staff")
    async with staff:
        page = await staff.get(PAGE)
        assert page.status_code == 200
        assert 'id="faq-add"' not in page.text
        refused = await staff.post(f"{PAGE}/faq", data={"q": "x?", "a": "y"})
        assert refused.status_code == 404
        tried = await staff.post(f"{PAGE}/try", data={"text": "How much is a fish bun?"})
        assert tried.status_code == 200
        assert "Rs. 120" in tried.text
    assert owner_faq(stack) == []


async def test_a_form_without_the_csrf_token_is_refused(stack: Stack) -> None:
    owner = await stack.sign_in("owner")
    owner.headers.pop("X-CSRF-Token")
    async with owner:
        refused = await owner.post(f"{PAGE}/faq", data={"q": "x?", "a": "y"})
    assert refused.status_code == 403
    assert owner_faq(stack) == []


async def test_answering_a_group_teaches_the_next_customer(stack: Stack) -> None:
    assert stack.agent.customer_asks("pizza thiyenawada", "c-1")["confidence"] == 0.0
    stack.agent.customer_asks("පීසා තියෙනවද?", "c-2")
    owner = await stack.sign_in("owner")
    async with owner:
        page = await owner.get(PAGE)
        assert "පීසා තියෙනවද?" in page.text
        assert "pizza thiyenawada" in page.text
        groups = (await owner.get("/api/v1/tenants/tenants/mihiri/unanswered/groups")).json()
        assert [g["count"] for g in groups["groups"]] == [2]
        group = groups["groups"][0]
        shown = {"q": group["representative"], "members": json.dumps(group["members"])}
        answered = await owner.post(
            f"{PAGE}/groups/{group['id']}", data={**shown, "a": PIZZA_ANSWER, "language": "en"}
        )
        assert answered.status_code == 303
        after = (await owner.get("/api/v1/tenants/tenants/mihiri/unanswered/groups")).json()
    assert after == {"groups": []}
    assert owner_faq(stack) == [{"q": group["representative"], "a": PIZZA_ANSWER, "language": "en"}]
    assert (stack.refresh_dir / "tenants.mihiri").is_file()
    assert await actions(stack) == [("faq.add", None), ("unanswered.answered", group["id"])]
    reindex_from_the_yaml(stack)
    reply = stack.agent.customer_asks("pizza thiyenawada", "c-3")
    assert reply["confidence"] > 0
    assert "pizza" in (reply["text"] or "").lower()


def reindex_from_the_yaml(stack: Stack) -> None:
    """The one writer's run for the refresh request, from the Business as the YAML now has
    it (what `katha up` does); the read-only agent follows the new index version."""
    business = Business.model_validate(business_yaml(stack))
    refresh = Refresh(
        stack.agent.index_root, Places(stack.knowledge_dir), IngestionSettings(),
        embedder=stack.embedder, progress=False,
    )  # fmt: skip
    report = refresh_business(business, refresh)
    assert report.error is None
    stack.agent.agent.knowledge.poll()  # the follower would, within its poll period


async def test_try_it_shows_the_answer_and_its_sources_and_keeps_nothing(stack: Stack) -> None:
    owner = await stack.sign_in("owner")
    async with owner:
        tried = await owner.post(f"{PAGE}/try", data={"text": "How much is a fish bun?"})
        api = await owner.post(
            "/api/v1/tenants/tenants/mihiri/try", json={"text": "How much is a fish bun?"}
        )
    assert tried.status_code == 200
    assert "Rs. 120" in tried.text
    assert 'data-trial="sources"' in tried.text
    assert api.json()["sources"]
    assert list(stack.agent.agent.saver.list(None)) == []
    assert stack.agent.agent.unanswered.all() == []
    assert shop_spec()["knowledge"]["sources"][0]["items"][1]["q"] == "How much is a fish bun?"
