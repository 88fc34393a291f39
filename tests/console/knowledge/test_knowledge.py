"""The Knowledge page and API on the whole real path (console -> router admin -> agent ->
document store; the writer's run; FileBusinesses' re-index request): an owner uploads,
sees the upload wait and then be indexed, re-indexes, deletes; a refused file changes
nothing; staff, other owners and strangers cannot change anything; every change is an
audit row naming the file, never its content."""

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from harness import wait_for
from knowledge_stack import UPLOAD_LIMIT, Stack

from console.knowledge import actions

PAGE = "/b/tenants/mihiri/knowledge"
API = "/api/v1/tenants/tenants/mihiri/knowledge"
SINHALA = "අලුත් කේක් මිල.txt"
NEW_PRICE = "Kithul jaggery cake, 500 g: Rs. 1,450.\n"


def state_of(page: str, source: str) -> tuple[str, int] | None:
    """(state, chunks) of `source` as the page marks it up."""
    found = re.search(
        rf'data-source="{re.escape(source)}" data-state="(\w+)" data-chunks="(\d+)"', page
    )
    return (found.group(1), int(found.group(2))) if found else None


async def upload(
    client: httpx.AsyncClient, name: str, data: bytes, csrf: bool = True
) -> httpx.Response:
    form = {"csrf": client.headers["X-CSRF-Token"]} if csrf else {}
    headers = {"X-CSRF-Token": ""}
    return await client.post(
        f"{PAGE}/upload", data=form, files={"document": (name, data)}, headers=headers
    )


async def overview(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get(API)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_an_owner_uploads_sees_it_indexed_and_deletes_it(stack: Stack) -> None:
    owner = await stack.sign_in("owner")
    page = (await owner.get(PAGE)).text
    assert state_of(page, "faq") == ("indexed", 2)
    assert 'id="upload"' in page
    assert 'id="reindex"' in page
    assert f'data-max-bytes="{UPLOAD_LIMIT}"' in page

    sent = await upload(owner, SINHALA, NEW_PRICE.encode())
    assert sent.status_code == 303, sent.text
    assert (stack.agent.documents / SINHALA).read_text() == NEW_PRICE
    page = (await owner.get(sent.headers["location"])).text
    assert 'data-notice="uploaded"' in page
    assert SINHALA in page
    assert state_of(page, f"upload:{SINHALA}") == ("pending", 0)

    reindex = await owner.post(f"{PAGE}/reindex", data={"csrf": owner.headers["X-CSRF-Token"]})
    assert reindex.status_code == 303
    request = stack.refresh_dir / "tenants.mihiri"
    assert request.is_file()  # what `katha up` acts on
    stack.reindex_as_the_writer()

    def indexed() -> bool:
        listed = httpx.get(f"{stack.url}{API}", cookies=owner.cookies).json()
        states = {item["key"]: item for item in listed["sources"]}
        item = states.get(f"upload:{SINHALA}")
        return item is not None and item["state"] == "indexed" and item["chunks"] >= 1

    wait_for(indexed, timeout=30, what="the agent to follow the new version")
    body = await overview(owner)
    assert body["last_run"]
    assert body["last_run_succeeded"] is True
    assert {item["key"]: item["origin"] for item in body["sources"]}[
        f"upload:{SINHALA}"
    ] == "upload"

    deleted = await owner.post(
        f"{PAGE}/delete", data={"csrf": owner.headers["X-CSRF-Token"], "file": SINHALA}
    )
    assert deleted.status_code == 303
    assert not (stack.agent.documents / SINHALA).exists()
    page = (await owner.get(deleted.headers["location"])).text
    # Still in the committed index until the writer's next run drops it.
    assert state_of(page, f"upload:{SINHALA}")[0] == "removed"  # type: ignore[index]

    assert [(row.action, row.target, row.subject) for row in await stack.audit()] == [
        ("knowledge.upload", SINHALA, "test:owner"),
        ("knowledge.reindex", None, "test:owner"),
        ("knowledge.delete", SINHALA, "test:owner"),
    ]
    await owner.aclose()


@pytest.mark.parametrize(
    ("name", "data", "status", "refusal"),
    [
        ("menu.pdf", b"<html>Secret recipe</html>", 422, "wrong_content"),
        ("prices.xlsx", b"Item,Price\nbun,120\n", 422, "wrong_content"),
        ("photo.jpg", b"\xff\xd8\xff\xe0", 422, "not_allowed_type"),
        (".hidden.txt", b"text", 422, "bad_name"),
        ("big.txt", b"a" * (UPLOAD_LIMIT + 1), 413, "too_large"),
        ("empty.txt", b"", 422, "empty"),
    ],
)
async def test_a_refused_file_changes_nothing_and_says_why(
    stack: Stack, name: str, data: bytes, status: int, refusal: str
) -> None:
    owner = await stack.sign_in("owner")
    for language in ("si", "ta", "en"):
        owner.cookies.set("lang", language)
        answer = await upload(owner, name, data)
        assert answer.status_code == status
        assert f'data-refusal="{refusal}"' in answer.text
        assert "Secret recipe" not in answer.text
    assert not stack.agent.documents.exists() or list(stack.agent.documents.iterdir()) == []
    assert [row.action for row in await stack.audit()] == ["knowledge.upload_refused"] * 3
    api = await owner.put(f"{API}/documents/{name}", content=data)
    assert api.status_code == status
    assert api.json()["detail"]["code"] == refusal
    await owner.aclose()


async def test_the_limit_is_said_in_each_language(stack: Stack) -> None:
    owner = await stack.sign_in("owner")
    words = {"si": "ඉතා විශාලයි", "ta": "மிகப் பெரியது", "en": "is too large"}
    for language, text in words.items():
        owner.cookies.set("lang", language)
        answer = await upload(owner, "big.txt", b"a" * (UPLOAD_LIMIT + 1))
        assert text in answer.text
        assert "64 KB" in answer.text
    await owner.aclose()


async def test_the_console_never_reads_a_body_past_its_bound(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "MAX_BODY_BYTES", 1024)
    monkeypatch.setattr(actions, "FORM_OVERHEAD_BYTES", 0)
    owner = await stack.sign_in("owner")
    answer = await upload(owner, "big.txt", b"a" * 4096)
    assert answer.status_code == 413
    api = await owner.put(f"{API}/documents/big.txt", content=b"a" * 4096)
    assert api.status_code == 413
    assert not stack.agent.documents.exists()
    await owner.aclose()


async def test_only_owners_change_knowledge(stack: Stack, tmp_path: Path) -> None:
    staff = await stack.sign_in("staff")
    page = await staff.get(PAGE)
    assert page.status_code == 200
    assert 'id="upload"' not in page.text
    assert 'id="reindex"' not in page.text
    assert (await upload(staff, "notes.txt", b"hello")).status_code == 404
    assert (await staff.put(f"{API}/documents/notes.txt", content=b"hello")).status_code == 404
    assert (await staff.post(f"{API}/reindex")).status_code == 404
    token = await stack.api_token()  # an API token is staff: it reads, never manages
    assert (await token.get(API)).status_code == 200
    assert (await token.put(f"{API}/documents/notes.txt", content=b"hello")).status_code == 404

    other = await stack.sign_in("owner", tenant="tenants/someone-else")
    assert (await other.get(PAGE)).status_code == 404
    assert (await other.get(API)).status_code == 404
    assert (await upload(other, "notes.txt", b"hello")).status_code == 404
    anonymous = httpx.AsyncClient(base_url=stack.url)
    assert (await anonymous.get(API)).status_code == 401
    assert (await anonymous.put(f"{API}/documents/notes.txt", content=b"x")).status_code == 401
    assert (await anonymous.get(PAGE)).status_code == 303

    owner = await stack.sign_in("owner")
    assert (await upload(owner, "notes.txt", b"hello", csrf=False)).status_code == 403
    assert (
        await owner.post(f"{API}/reindex", headers={"X-CSRF-Token": "wrong"})
    ).status_code == 403
    assert not stack.agent.documents.exists()
    assert not stack.refresh_dir.exists()
    assert await stack.audit() == []
    for client in (staff, token, other, anonymous, owner):
        await client.aclose()


async def test_the_api_mirrors_the_page(stack: Stack) -> None:
    owner = await stack.sign_in("owner")
    created = await owner.put(f"{API}/documents/hours.md", content=b"# Hours\nOpen 7 to 9\n")
    assert created.status_code == 201
    assert created.json()["kind"] == "text"
    assert (
        await owner.put(f"{API}/documents/hours.md", content=b"# Hours\n7-10\n")
    ).status_code == 200
    body = await overview(owner)
    by_key = {item["key"]: item for item in body["sources"]}
    assert by_key["upload:hours.md"]["state"] == "pending"
    assert by_key["upload:hours.md"]["deletable"] is True
    assert by_key["faq"]["origin"] == "spec"
    assert by_key["faq"]["deletable"] is False
    assert by_key["price-list"]["origin"] == "spec"
    assert body["max_upload_bytes"] == UPLOAD_LIMIT
    assert (await owner.post(f"{API}/reindex")).status_code == 202
    assert (stack.refresh_dir / "tenants.mihiri").is_file()
    assert (await owner.delete(f"{API}/documents/hours.md")).status_code == 204
    missing = await owner.delete(f"{API}/documents/hours.md")
    assert missing.status_code == 404
    assert missing.json()["detail"]["code"] == "not_found"
    assert [row.action for row in await stack.audit()] == [
        "knowledge.upload", "knowledge.upload", "knowledge.reindex", "knowledge.delete",
    ]  # fmt: skip
    await owner.aclose()


async def test_an_agent_that_does_not_answer_is_said_plainly(stack: Stack) -> None:
    owner = await stack.sign_in("owner")
    stack.agent.server.stop()
    page = await owner.get(PAGE)
    assert page.status_code == 200
    assert 'id="agent-unavailable"' in page.text
    assert state_of(page.text, "faq") == ("unknown", 0)  # nothing counted: nothing claimed
    sent = await upload(owner, "notes.txt", b"hello")
    assert sent.status_code == 503
    assert 'data-refusal="unavailable"' in sent.text
    assert (await owner.put(f"{API}/documents/notes.txt", content=b"hello")).status_code == 503
    await owner.aclose()


async def test_a_store_that_fails_says_so_without_its_paths(stack: Stack) -> None:
    """FileBusinesses' OS error names the console's own folders: never in the answer."""
    stack.refresh_dir.parent.mkdir(parents=True, exist_ok=True)
    stack.refresh_dir.write_text("not a folder")  # the re-index request cannot be written
    owner = await stack.sign_in("owner")
    answer = await owner.post(f"{API}/reindex")
    assert answer.status_code == 503
    assert "try again later" in answer.json()["detail"]
    assert str(stack.refresh_dir.parent) not in answer.text
    assert "refresh-requests" not in answer.text
    assert "Errno" not in answer.text
    page = await owner.post(
        f"{PAGE}/reindex",
        data={"csrf": owner.headers["X-CSRF-Token"]},
        headers={"X-CSRF-Token": ""},
    )
    assert str(stack.refresh_dir.parent) not in page.text
    assert await stack.audit() == []  # nothing was asked for
    await owner.aclose()


async def test_sinhala_names_with_the_zero_width_joiner_pass_every_hop(stack: Stack) -> None:
    """ශ්‍රී needs U+200D: the console, the router and the agent all let it through; a
    right-to-left override, which makes a name read as another, is refused."""
    owner = await stack.sign_in("owner")
    joined = "ශ්\u200dරී ලංකා කෑම.txt"
    sent = await owner.put(f"{API}/documents/{quote(joined)}", content=b"Kiribath: Rs. 200\n")
    assert sent.status_code == 201, sent.text
    assert (stack.agent.documents / joined).read_bytes() == b"Kiribath: Rs. 200\n"
    page = await upload(owner, "ක්\u200dෂ.txt", b"Kokis: Rs. 60\n")
    assert page.status_code == 303, page.text
    assert (stack.agent.documents / "ක්\u200dෂ.txt").is_file()
    override = quote("menu\u202etxt.exe.txt")
    bidi = await owner.put(f"{API}/documents/{override}", content=b"x")
    assert bidi.status_code == 422
    assert bidi.json()["detail"]["code"] == "bad_name"
    await owner.aclose()
