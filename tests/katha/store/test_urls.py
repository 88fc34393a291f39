"""Store URLs as people write them, and the drivers the store reaches them with."""

import re

import pytest

from katha.store.urls import StoreUrlError, store_url


@pytest.mark.parametrize(
    ("url", "for_store", "for_migrations"),
    [
        ("sqlite:////var/lib/katha/store.db", "sqlite+aiosqlite", "sqlite"),
        ("sqlite+aiosqlite:///store.db", "sqlite+aiosqlite", "sqlite"),
        ("postgresql://katha@db/katha", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgresql+psycopg://katha@db/katha", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgres://katha@db:5432/katha", "postgresql+psycopg", "postgresql+psycopg"),
    ],
)
def test_each_database_gets_its_driver(url: str, for_store: str, for_migrations: str) -> None:
    assert store_url(url).drivername == for_store
    assert store_url(url, mode="sync").drivername == for_migrations
    assert store_url(url).database == store_url(url, mode="sync").database


def test_the_password_survives_normalising() -> None:
    url = store_url("postgresql://katha:p%40ss@db/katha")
    assert url.password == "p@ss"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "KATHA_STORE_URL"),
        ("not a url", "not a database URL"),
        ("mysql://katha@db/katha", "'mysql'"),
        ("postgresql+asyncpg://katha@db/katha", "'postgresql+asyncpg'"),
        ("sqlite://", "needs a file"),
        ("sqlite:///:memory:", "needs a file"),
    ],
)
def test_a_url_the_store_cannot_use_says_why(url: str, says: str) -> None:
    with pytest.raises(StoreUrlError, match=re.escape(says)):
        store_url(url)


def test_the_refusal_never_repeats_a_password() -> None:
    with pytest.raises(StoreUrlError) as refused:
        store_url("mysql://katha:hunter2@db/katha")
    assert "hunter2" not in str(refused.value)
