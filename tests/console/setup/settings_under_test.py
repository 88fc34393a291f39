"""What the settings tests share: the console with its settings pages over a real
Business YAML (FileBusinesses, as on one machine), on loopback over a SQLite
conversation store migrated to head.

The settings pages never call the router, so no router runs here: the console is given
an address where nothing listens, and a test that reached the router would fail."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import Response
from peers.loopback import ServerThread
from pydantic import SecretStr

from console.app import create_app
from console.auth.principal import Role
from console.auth.sessions import SESSION_COOKIE, csrf_for, start_session
from console.businesses import Businesses
from console.businesses.files import FileBusinesses
from console.router_client import RouterAdmin
from console.services import ConsoleServices
from console.settings import ConsoleSettings
from katha.store import ConversationStore, upgrade

ALPHA_YAML = """\
# Alpha Stores, as its developer wrote it.
apiVersion: katha.dev/v1alpha1
kind: Business
metadata:
  name: alpha
  namespace: shops
spec:
  displayName: Alpha Stores
  whatsapp:
    phoneNumberId: "105954558954427"
    credentialsSecretRef:
      name: alpha-whatsapp
  persona:
    name: Nila  # the name customers know
    tone: warm
  handoff:
    enabled: false
"""
NO_ROUTER = "http://127.0.0.1:9"  # the discard port: nothing answers there


@dataclass
class SettingsConsole:
    url: str
    settings: ConsoleSettings
    store: ConversationStore  # the test's own connection: sign-ins and the audit log
    business_file: Path  # shops/alpha's YAML

    async def sign_in(
        self, tenants: dict[str, Role], display: str = "Nimal", language: str | None = None
    ) -> httpx.AsyncClient:
        """A client holding a live session's cookie, sending its CSRF token."""
        router = RouterAdmin.connect(NO_ROUTER, "unused-admin-token")
        services = ConsoleServices(settings=self.settings, store=self.store, router=router)
        try:
            token = await start_session(
                services, Response(), subject=f"test:{display}", display=display, tenants=tenants
            )
        finally:
            await router.aclose()
        cookies = {SESSION_COOKIE: token} | ({"lang": language} if language else {})
        headers = {"X-CSRF-Token": csrf_for(self.settings, token)}
        return httpx.AsyncClient(base_url=self.url, cookies=cookies, headers=headers)


def console_settings(store_url: str) -> ConsoleSettings:
    return ConsoleSettings(
        store_url=SecretStr(store_url),
        router_url=NO_ROUTER,
        router_admin_token=SecretStr("unused-admin-token"),
        session_secret=SecretStr("console-settings-tests-secret-91c3e7"),
        secure_cookies=False,
    )


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    return url


async def serve_console(
    store_url: str, businesses: Businesses, business_file: Path
) -> AsyncIterator[SettingsConsole]:
    settings = console_settings(store_url)
    server = ServerThread(create_app(settings, businesses=businesses)).start()
    store = ConversationStore.from_url(store_url)
    try:
        yield SettingsConsole(server.url, settings, store, business_file)
    finally:
        await store.close()
        server.stop()


@pytest.fixture
async def settings_console(store_url: str, tmp_path: Path) -> AsyncIterator[SettingsConsole]:
    business_file = tmp_path / "alpha.yaml"
    business_file.write_text(ALPHA_YAML, encoding="utf-8")
    # shops/gamma: a Business the principal may have whose file is not there.
    files = {"shops/alpha": business_file, "shops/gamma": tmp_path / "gamma.yaml"}
    businesses = FileBusinesses(files, tmp_path / "refresh")
    async for console in serve_console(store_url, businesses, business_file):
        yield console
