"""The console's Customer data over HTTP, with the real router and the shop's real agent
behind it: the export is a download holding the store's, the router's and the agent's
parts; only an owner deletes, with the CSRF token; a deletion leaves an audit row naming
the conversation, never the number, takes the customer off the list, leaves everyone else
as they were, and a second deletion finds no such customer; with the router down nothing
is deleted (503)."""

from typing import Any

from shop_katha import ELSEWHERE, GONE, KEPT, OTHER, SHOP, Katha

API = f"/api/v1/tenants/{SHOP}/customers"
PAGES = f"/b/{SHOP}/customers"


def test_an_owner_downloads_everything_katha_keeps_about_a_customer(katha: Katha) -> None:
    gone = katha.write(GONE)
    katha.write(KEPT)
    with katha.client() as owner:
        response = owner.get(f"{API}/{gone}")
        page_download = owner.get(f"{PAGES}/{gone}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    assert page_download.headers["content-disposition"] == response.headers["content-disposition"]
    exported: dict[str, Any] = response.json()
    stored = exported["conversation_store"]
    assert stored["conversation"]["customer_handle"] == GONE.number
    assert stored["conversation"]["customer_name"] == GONE.name
    texts = [event["text"] for event in stored["events"]]
    assert all(words in texts for words in GONE.texts)
    assert GONE.number in exported["router"]["records"][f"customer:{gone}"]
    remembered = [turn["text"] for turn in exported["agent"]["memory"]["history"]]
    assert GONE.texts[0] in remembered
    assert GONE.texts[1] in [item["text"] for item in exported["agent"]["unanswered"]]
    assert KEPT.number not in response.text
    assert KEPT.name not in response.text
    assert [row.action for row in katha.audit(SHOP)][:1] == ["customer_exported"]


def test_only_an_owner_deletes_and_only_with_the_csrf_token(katha: Katha) -> None:
    gone = katha.write(GONE)
    with katha.client("staff") as staff:
        assert staff.delete(f"{API}/{gone}").status_code == 404
        page = staff.get(f"{PAGES}/{gone}")
        assert page.status_code == 200
        assert 'id="delete"' not in page.text
        form = staff.post(f"{PAGES}/{gone}/delete", data={"confirmed": "yes"})
        assert form.status_code in (403, 404)
    with katha.client(csrf=False) as owner:
        assert owner.delete(f"{API}/{gone}").status_code == 403
    assert katha.stored(SHOP, gone) > 0


def test_a_deleted_customer_leaves_the_list_and_everyone_else_stays(katha: Katha) -> None:
    gone, kept, elsewhere = katha.write(GONE), katha.write(KEPT), katha.write(ELSEWHERE)
    with katha.client() as owner:
        deleted = owner.delete(f"{API}/{gone}")
        assert deleted.status_code == 200, deleted.text
        counts = deleted.json()
        assert counts["conversation_store"]["events"] >= 4
        assert counts["router"]["records"] >= 1
        assert counts["agent"]["checkpoints"] >= 1
        assert counts["agent"]["unanswered"] >= 1
        listed = owner.get(f"/api/v1/tenants/{SHOP}/conversations").json()
        assert [row["conversation_id"] for row in listed["conversations"]] == [kept]
        assert owner.get(f"{API}/{gone}").status_code == 404
        assert owner.get(f"/b/{SHOP}/c/{gone}").status_code == 404
        # Deleted: no customer of this Business any more, so nothing is asked again.
        assert owner.delete(f"{API}/{gone}").status_code == 404
        # The other Business cannot be reached through this one, nor the other way round.
        assert owner.delete(f"{API}/{elsewhere}").status_code == 404
    assert katha.stored(OTHER, elsewhere) > 0
    assert katha.stored(SHOP, kept) > 0
    audit = [row for row in katha.audit(SHOP) if row.action == "customer_deleted"]
    assert [row.target for row in audit] == [gone]
    assert all(GONE.number not in str(row) for row in katha.audit(SHOP))


def test_with_the_router_down_nothing_is_deleted(katha: Katha) -> None:
    gone = katha.write(GONE)
    katha.router.server.stop()
    with katha.client() as owner:
        assert owner.delete(f"{API}/{gone}").status_code == 503
        page = owner.post(f"{PAGES}/{gone}/delete", data={"confirmed": "yes"})
        assert page.status_code == 303
        assert page.headers["location"].endswith("?failed=true")
        shown = owner.get(page.headers["location"])
        assert 'id="failed"' in shown.text
    assert katha.stored(SHOP, gone) > 0
