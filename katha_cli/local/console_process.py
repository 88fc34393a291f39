"""The owner console of `katha up`: the cluster's console app, served in this process on
loopback, reading the SQLite store `katha up` migrated and acting through its router's
admin API with a token the two share.

A cluster gives the console the same things through KATHA_CONSOLE_* (charts/katha): here
cookies are not `Secure` (the console is plain http://127.0.0.1), the session secret is a
file in the state folder, so owners stay signed in across restarts, and each sign-in code
the router sends to a local tenant's owner is also printed, since that "WhatsApp" is the
outbox. Owners' changes to a Business (settings, FAQ items, a request to re-index) are
written to its YAML file and the state folder (console.businesses.files); `katha up`
follows both (katha_cli.local.follow).
"""

import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from console.router_client import RouterAdmin
from katha_cli.local import Say
from katha_cli.local.servers import BackgroundServer
from katha_cli.local.state import write_private

if TYPE_CHECKING:
    from console.businesses import Businesses
    from console.settings import ConsoleSettings
    from katha_cli.local.workspace import Workspace

DEFAULT_CONSOLE_PORT = 8791
SESSION_SECRET_FILE = "console-session.key"  # noqa: S105 - a file name, not a secret
# Addresses a server listens on for every interface; a client reaches it on loopback.
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - compared, never bound


def new_admin_token() -> str:
    """A fresh token for the router's /admin calls, shared by the router and the console of
    one `katha up` run (both hold it in memory only)."""
    return secrets.token_urlsafe(32)


def session_secret(state_dir: Path) -> str:
    """The console's session secret: kept in the state folder (mode 0600), created once."""
    path = state_dir / SESSION_SECRET_FILE
    if path.is_file():
        kept = path.read_text(encoding="utf-8").strip()
        if len(kept) >= 32:
            return kept
    secret = secrets.token_urlsafe(48)
    write_private(path, secret + "\n")
    return secret


def reachable_url(server_url: str, host: str, port: int) -> str:
    """Where this process reaches a server of its own: loopback for one bound everywhere."""
    return f"http://127.0.0.1:{port}" if host in ANY_ADDRESS else server_url


def console_settings(
    port: int,
    *,
    store_url: str,
    router_url: str,
    admin_token: str,
    secret: str,
    log_level: str,
) -> "ConsoleSettings":
    """The console's settings on one machine (KATHA_CONSOLE_* in a cluster)."""
    from console.settings import ConsoleSettings

    return ConsoleSettings(
        host="127.0.0.1",
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        store_url=SecretStr(store_url),
        router_url=router_url,
        router_admin_token=SecretStr(admin_token),
        session_secret=SecretStr(secret),
        secure_cookies=False,  # plain http on loopback: a Secure cookie would never come back
        metrics_port=0,
        log_level=log_level,
    )


@dataclass
class TerminalRouterAdmin(RouterAdmin):
    """The router's admin API, printing each sign-in code the router sent to a local
    tenant's owner: on one machine that owner's "WhatsApp" is the outbox, and the terminal
    is where the person running `katha up` reads it. Codes for live tenants went to a real
    phone and are never printed."""

    say: Say
    local_tenants: frozenset[str] = field(default_factory=frozenset)

    async def send_login_code(self, owner_number: str, code: str, minutes: float) -> list[str]:
        tenants = await super().send_login_code(owner_number, code, minutes)
        for tenant in tenants:
            if tenant in self.local_tenants:
                self.say(f"  sign-in code for {tenant}: {code}")
            else:
                self.say(f"  sign-in code for {tenant} sent to the owner's WhatsApp")
        return tenants


def file_businesses(workspace: "Workspace", refresh_dir: Path) -> "Businesses":
    """The Businesses as the console changes them on one machine: each tenant's own YAML
    file, and a request to re-index as a file in `refresh_dir`."""
    from console.businesses.files import FileBusinesses

    return FileBusinesses({tenant.key: tenant.file for tenant in workspace.tenants}, refresh_dir)


def start_console(
    sock: socket.socket,
    settings: "ConsoleSettings",
    *,
    say: Say,
    local_tenants: frozenset[str],
    businesses: "Businesses | None" = None,
) -> BackgroundServer:
    """Serve the console on `sock` (bound up front, on loopback) with `settings` from
    `console_settings`, changing Businesses through `businesses` (`file_businesses`)."""
    from console.app import create_app

    token = settings.router_admin_token
    connected = RouterAdmin.connect(settings.router_url, token.get_secret_value() if token else "")
    router = TerminalRouterAdmin(connected.client, say=say, local_tenants=local_tenants)
    app = create_app(settings, router=router, businesses=businesses)
    return BackgroundServer(app, sock, "console").start()
