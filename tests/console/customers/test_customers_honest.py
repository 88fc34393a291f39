"""The console's Customer data deletion says what really happened: an id not of the
router's form, or one the store holds nothing for, reaches nothing (422, 404); a store
that fails after the router and the agent deleted their parts leaves an audited partial
deletion that the owner's retry finishes; and when the agent's replicas each keep their
own memory, the page says that others may still hold it until retention."""

import sqlite3
from pathlib import Path

import pytest
from shop_katha import ELSEWHERE, GONE, KEPT, OTHER, SHOP, Katha, hits

API = f"/api/v1/tenants/{SHOP}/customers"
PAGES = f"/b/{SHOP}/customers"
# A real trigger in the store refuses to delete events: the store fails as a database
# does (here on its own, while the audit table and everything else still write).
HOLD = "CREATE TRIGGER held BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'held'); END"


def _store(katha: Katha) -> Path:
    return katha.stores()["store"]


def _execute(path: Path, statement: str) -> None:
    with sqlite3.connect(path, timeout=10) as db:
        db.execute(statement)


def test_an_id_not_of_the_routers_form_or_unknown_deletes_nothing(katha: Katha) -> None:
    gone, kept, elsewhere = katha.write(GONE), katha.write(KEPT), katha.write(ELSEWHERE)
    with katha.client() as owner:
        for wrong in ("c-", gone[:6], gone + "0"):
            assert owner.delete(f"{API}/{wrong}").status_code == 422, wrong
            assert owner.get(f"{API}/{wrong}").status_code == 422, wrong
            form = owner.post(f"{PAGES}/{wrong}/delete", data={"confirmed": "yes"})
            assert form.status_code == 422, wrong
        # Of the router's form, but no customer of this Business in the store.
        unknown = "c-" + "0" * 30
        assert owner.delete(f"{API}/{unknown}").status_code == 404
        assert owner.delete(f"{API}/{elsewhere}").status_code == 404
    inbox = katha.stores()["inbox"]
    for conversation in (gone, kept, elsewhere):
        assert hits(inbox, f"customer:{conversation}"), conversation
    assert katha.stored(SHOP, gone) > 0
    assert katha.stored(OTHER, elsewhere) > 0
    assert not [row for row in katha.audit(SHOP) if row.action.startswith("customer_delete")]


def test_a_store_that_fails_after_the_router_is_audited_and_the_retry_finishes(
    katha: Katha,
) -> None:
    gone = katha.write(GONE)
    _execute(_store(katha), HOLD)
    with katha.client() as owner:
        page = owner.post(f"{PAGES}/{gone}/delete", data={"confirmed": "yes"})
        assert page.status_code == 303
        assert page.headers["location"].endswith("?failed=true&partial=true")
        shown = owner.get(page.headers["location"])
        assert 'id="partial"' in shown.text
        assert 'id="failed"' not in shown.text  # it is not true that nothing changed
        assert [row.action for row in katha.audit(SHOP)][:1] == ["customer_delete_partial"]
        # The router's and the agent's parts are gone; the store still holds the rest.
        assert hits(katha.stores()["inbox"], gone) == []
        assert hits(katha.stores()["memory"], gone) == []
        assert katha.stored(SHOP, gone) > 0
        assert owner.delete(f"{API}/{gone}").status_code == 503
        _execute(_store(katha), "DROP TRIGGER held")
        retry = owner.post(f"{PAGES}/{gone}/delete", data={"confirmed": "yes"})
        assert retry.status_code == 303
        assert retry.headers["location"].endswith("?deleted=true")
    assert katha.stored(SHOP, gone) == 0
    actions = [row.action for row in katha.audit(SHOP) if row.target == gone]
    assert actions[:3] == ["customer_deleted", "customer_delete_partial", "customer_delete_partial"]
    assert all(GONE.number not in str(row) for row in katha.audit(SHOP))


@pytest.mark.parametrize("pod_name", [None, "mihiri-agent-7c9d-x2kq"])
def test_after_a_deletion_the_page_says_whether_other_replicas_may_remember(
    katha: Katha, monkeypatch: pytest.MonkeyPatch, pod_name: str | None
) -> None:
    # The shop's agent runs in this process: the operator's signal that each replica
    # keeps its own state folder (KATHA_POD_NAME) is set here as the operator sets it.
    if pod_name is None:
        monkeypatch.delenv("KATHA_POD_NAME", raising=False)
    else:
        monkeypatch.setenv("KATHA_POD_NAME", pod_name)
    gone = katha.write(GONE)
    with katha.client() as owner:
        page = owner.post(f"{PAGES}/{gone}/delete", data={"confirmed": "yes"})
        assert page.status_code == 303
        shown = owner.get(page.headers["location"]).text
    if pod_name is None:
        assert page.headers["location"].endswith("?deleted=true")
        assert 'id="deleted"' in shown
        assert 'id="deleted-replicas"' not in shown
    else:
        assert page.headers["location"].endswith("?deleted=true&replicas=true")
        assert 'id="deleted-replicas"' in shown
        assert "spec.memory.postgres" in shown
        assert 'id="deleted"' not in shown
