"""The Answers page when things change under the owner: another owner's (or replica's,
or a double submit's) change is never dropped, an edit or delete never lands on another
item, a question joining a group between the page and the answer loses nothing, and a
part that fails is said plainly (no 500), with what the owner typed kept."""

import asyncio
import json
import re
from typing import Any

import httpx
import yaml
from knowledge_stack import Stack
from shop import TENANT

from console.answers.faq import FaqItem, question_from
from katha.api.knowledge import FAQ_QUESTION_CHARS
from katha.store.console_tables import ConsoleTables

PAGE = "/b/tenants/mihiri/answers"
GROUPS = "/api/v1/tenants/tenants/mihiri/unanswered/groups"
ANSWER = "Sorry, we do not make pizza; try our chicken buns."


def owner_faq(stack: Stack) -> list[dict[str, str]]:
    path = next(stack.refresh_dir.parents[1].glob("mihiri.yaml"))
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    faq: list[dict[str, str]] = document["spec"]["knowledge"].get("faq", [])
    return faq


async def actions(stack: Stack) -> list[tuple[str, str | None]]:
    rows = await ConsoleTables.of(stack.store).audit_log(TENANT)
    return [
        (row.action, row.target) for row in reversed(rows) if not row.action.startswith("session")
    ]


def fingerprint(q: str, a: str, language: str | None = None) -> dict[str, str]:
    return {"fingerprint": FaqItem(q, a, language).fingerprint}


async def groups(owner: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await owner.get(GROUPS)).json()["groups"]
    return found


def answer_form(group: dict[str, Any], **fields: str) -> dict[str, str]:
    """What the page's form for `group` posts (its question, its members)."""
    return {"q": group["representative"], "members": json.dumps(group["members"]), **fields}


async def test_changes_made_at_once_or_after_another_keep_every_item(stack: Stack) -> None:
    owner, other = await stack.sign_in("owner"), await stack.sign_in("owner")
    async with owner, other:
        added = await asyncio.gather(
            *(owner.post(f"{PAGE}/faq", data={"q": f"Q{n}?", "a": f"A{n}"}) for n in range(3))
        )
        assert [r.status_code for r in added] == [303, 303, 303]
        assert sorted(item["q"] for item in owner_faq(stack)) == ["Q0?", "Q1?", "Q2?"]
        first, second = owner_faq(stack)[:2]
        # The other owner deletes the first item; the owner's page still shows the second
        # one at place 1: deleting it deletes it, not whatever is at place 1 now.
        gone = await other.post(f"{PAGE}/faq/0/delete", data=fingerprint(first["q"], first["a"]))
        assert gone.status_code == 303
        deleted = await owner.post(
            f"{PAGE}/faq/1/delete", data=fingerprint(second["q"], second["a"])
        )
        assert deleted.status_code == 303
        (left,) = owner_faq(stack)
        # The other owner edits it; the owner's edit from the older page is refused, and
        # the item as it is now is shown.
        edit = {"q": left["q"], "a": "Changed by the other owner"}
        assert (
            await other.post(f"{PAGE}/faq/0", data={**edit, **fingerprint(left["q"], left["a"])})
        ).status_code == 303
        stale = await owner.post(
            f"{PAGE}/faq/0",
            data={"q": "Mine", "a": "Mine too", **fingerprint(left["q"], left["a"])},
        )
    assert stale.status_code == 409
    assert 'id="item-changed"' in stale.text
    assert "Changed by the other owner" in stale.text
    assert ">Mine too</textarea>" in stale.text  # what the owner typed is kept
    assert owner_faq(stack) == [edit]


async def test_a_question_joining_the_group_meanwhile_loses_no_answer(stack: Stack) -> None:
    stack.agent.customer_asks("pizza thiyenawada", "c-1")
    owner = await stack.sign_in("owner")
    async with owner:
        (shown,) = await groups(owner)
        stack.agent.customer_asks("pizza thiyenawada", "c-2")  # joins it: the id changes
        (now,) = await groups(owner)
        assert now["id"] != shown["id"]
        assert now["count"] == 2
        answered = await owner.post(
            f"{PAGE}/groups/{shown['id']}", data=answer_form(shown, a=ANSWER, language="")
        )
        assert answered.status_code == 303
        assert await groups(owner) == []
    # "Any language" is no language, whatever the group's was detected as.
    assert owner_faq(stack) == [{"q": shown["representative"], "a": ANSWER}]
    assert await actions(stack) == [("faq.add", None), ("unanswered.answered", now["id"])]


async def test_a_group_answered_meanwhile_keeps_the_owners_answer(stack: Stack) -> None:
    stack.agent.customer_asks("pizza thiyenawada", "c-1")
    owner = await stack.sign_in("owner")
    async with owner:
        (shown,) = await groups(owner)
        form = answer_form(shown, a=ANSWER)
        assert (await owner.post(f"{PAGE}/groups/{shown['id']}", data=form)).status_code == 303
        again = await owner.post(f"{PAGE}/groups/{shown['id']}", data=form)  # a double submit
    assert again.status_code == 409
    assert 'id="group-gone"' in again.text
    assert f">{ANSWER}</textarea>" in again.text
    assert len(owner_faq(stack)) == 1


async def test_the_groups_question_is_the_owners_to_edit_and_fits_an_faq_item(
    stack: Stack,
) -> None:
    long_question = "පීසා තියෙනවද? " * 290  # ~4060 characters: WhatsApp's limit, not FAQ's
    stack.agent.customer_asks(long_question, "c-1")
    owner = await stack.sign_in("owner")
    async with owner:
        page = await owner.get(PAGE)
        (group,) = await groups(owner)
        # The form starts from the customer's question, cut to what an FAQ item holds.
        (prefilled, _add_form) = re.findall(r'name="q"[^>]*>([^<]*)</textarea>', page.text)
        assert prefilled == question_from(group["representative"])
        assert len(group["representative"]) > FAQ_QUESTION_CHARS >= len(prefilled)
        answered = await owner.post(
            f"{PAGE}/groups/{group['id']}",
            data=answer_form(group, q="Do you sell pizza?", a=ANSWER, language="en"),
        )
    assert answered.status_code == 303
    assert owner_faq(stack) == [{"q": "Do you sell pizza?", "a": ANSWER, "language": "en"}]


def test_a_long_question_is_cut_where_a_letter_ends() -> None:
    vowel_sign = "ක" * 2000 + "ෝ"  # the limit falls between a consonant and its vowel sign
    assert question_from(vowel_sign, 2000) == "ක" * 1999
    conjunct = "a" * 1998 + "ක්‍ෂ"  # ...or inside a virama-ZWJ conjunct
    assert question_from(conjunct, 2000) == "a" * 1998
    assert question_from("short") == "short"
    emoji = "a" * 1999 + "👩\u200d🍳"  # a ZWJ sequence across the limit
    assert question_from(emoji, 2000) == "a" * 1999


async def test_a_failed_re_index_request_says_the_answer_was_saved(stack: Stack) -> None:
    stack.refresh_dir.parent.mkdir(parents=True, exist_ok=True)
    stack.refresh_dir.write_text("not a folder")  # the request cannot be written
    owner = await stack.sign_in("owner")
    async with owner:
        added = await owner.post(f"{PAGE}/faq", data={"q": "Open on Poya?", "a": "No."})
    assert added.status_code == 200
    assert 'id="refresh-pending"' in added.text
    assert owner_faq(stack) == [{"q": "Open on Poya?", "a": "No."}]
    assert await actions(stack) == [("faq.add", None)]


async def test_a_business_file_that_cannot_be_rewritten_is_said_not_a_500(stack: Stack) -> None:
    path = next(stack.refresh_dir.parents[1].glob("mihiri.yaml"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("spec:\n", "spec:\n  displayName: Twice\n", 1), "utf-8")
    before = path.read_bytes()
    owner = await stack.sign_in("owner")
    async with owner:
        refused = await owner.post(f"{PAGE}/faq", data={"q": "Open on Poya?", "a": "No."})
    assert refused.status_code == 503
    assert "Open on Poya?</textarea>" in refused.text
    assert path.read_bytes() == before
    assert await actions(stack) == []


async def test_an_agent_that_is_down_keeps_the_typed_answer(stack: Stack) -> None:
    stack.agent.customer_asks("pizza thiyenawada", "c-1")
    owner = await stack.sign_in("owner")
    async with owner:
        (group,) = await groups(owner)
        stack.agent.server.stop()
        answered = await owner.post(
            f"{PAGE}/groups/{group['id']}", data=answer_form(group, a=ANSWER)
        )
    assert answered.status_code == 503
    assert f">{ANSWER}</textarea>" in answered.text
    assert owner_faq(stack) == []
