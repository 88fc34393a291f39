"""Issue #18's "change the greeting and see the Business change through the real operator
and emulator", in a real browser (headless Chromium): an owner changes the greeting on the
settings page; the Business in the Kubernetes API has it under the console's own field
manager, and the real Kopf operator renders it into the agent's configuration. A change to
a field the platform team applied is refused visibly and nothing of it is saved. The page
fits a 360-pixel phone in Sinhala and Tamil, drawn in the Noto fonts.

The emulator enforces the chart's RBAC: the operator and the console sign in with their
ServiceAccounts' tokens, so a verb the chart does not grant fails the test.
"""

import asyncio
import json
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser import Person, browse_fixture, browser_fixture  # noqa: F401 - fixtures
from chart_rbac import OPERATOR_TOKEN, RELEASE_NAMESPACE, TOKENS, chart_rbac
from fastapi import Response
from k8s_tools import tool
from kopf.testing import KopfRunner
from kube_api import (
    ADMIN_TOKEN,
    PLATFORM_NAMESPACE,
    Api,
    credentials_secret,
    eventually,
    kubeconfig,
)
from kube_emulator import KubeEmulator, running_emulator
from peers.loopback import ServerThread
from playwright.sync_api import Page, expect
from rbac import Gate, Policy, service_account
from settings_under_test import NO_ROUTER, console_settings

from console.app import create_app
from console.auth.sessions import SESSION_COOKIE, start_session
from console.businesses.kubernetes import KubernetesBusinesses
from console.router_client import RouterAdmin
from console.services import ConsoleServices
from katha.store import ConversationStore, upgrade

pytestmark = pytest.mark.slow

CONSOLE_TOKEN = "katha-console-settings-token"
CHART_VALUES = {
    "store": {"enabled": True, "urlSecretRef": {"name": "katha-store", "key": "url"}},
    "console": {"enabled": True},
}
NAME = "kandy-bakehouse"
GREETING = "ආයුබෝවන්! Welcome to Kandy Bakehouse"


@dataclass
class Cluster:
    kube: KubeEmulator
    api: Api
    namespace: str
    kubectl: Callable[..., subprocess.CompletedProcess[str]]

    @property
    def tenant(self) -> str:
        return f"{self.namespace}/{NAME}"

    def business(self) -> dict[str, Any]:
        business = self.api.get("Business", self.namespace, NAME)
        assert business is not None
        return business

    def agent_business(self) -> dict[str, Any]:
        """The Business spec the operator rendered for the agent (its app-args.json)."""
        config = self.api.get("ConfigMap", self.namespace, f"{NAME}-agent-config") or {}
        args = (config.get("data") or {}).get("app-args.json")
        return dict(json.loads(args)["business"]) if args else {}


def platform_manifest(namespace: str) -> str:
    """The Business as the platform team applies it (server-side, as `platform-team`)."""
    manifest = {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": NAME, "namespace": namespace},
        "spec": {
            "displayName": "Kandy Bakehouse",
            "whatsapp": {
                "phoneNumberId": "105954558954427",
                "credentialsSecretRef": {"name": f"{NAME}-whatsapp"},
            },
            "persona": {"name": "Kandy Bot", "tone": "warm"},
            "knowledge": {"sources": [{"type": "faq", "items": [{"q": "Open?", "a": "7-8"}]}]},
        },
    }
    return json.dumps(manifest, ensure_ascii=False)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The emulator with the chart's RBAC, the real operator, and one Business in it."""
    tokens = {**TOKENS, CONSOLE_TOKEN: service_account(RELEASE_NAMESPACE, "katha-console")}
    gate = Gate(Policy.from_manifests(chart_rbac(CHART_VALUES)), tokens)
    folder = tmp_path_factory.mktemp("settings-cluster")
    with running_emulator(kuberay=False, gate=gate, tls_folder=folder) as (kube, _):
        assert kube.https_url is not None
        admin = folder / "admin-kubeconfig"
        namespace = f"t-{uuid.uuid4().hex[:8]}"
        certificate = kube.certificate
        admin.write_text(kubeconfig(kube.https_url, ADMIN_TOKEN, "admin", namespace, certificate))

        def kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
            command = [tool("kubectl"), "--kubeconfig", str(admin), *args]
            return subprocess.run(
                command, input=stdin, capture_output=True, text=True, timeout=60, check=False
            )

        operator_config = folder / "operator-kubeconfig"
        operator_config.write_text(kubeconfig(kube.http_url, OPERATOR_TOKEN, "katha-operator"))
        with running_operator(operator_config):
            api = Api(kube.http_url)
            api.create(credentials_secret(namespace, f"{NAME}-whatsapp"))
            api.create(json.loads(platform_manifest(namespace)))  # then applied, as it was
            applied = kubectl(
                "apply", "--server-side", "--field-manager=platform-team", "--validate=false",
                "-f", "-", stdin=platform_manifest(namespace),
            )  # fmt: skip
            assert applied.returncode == 0, applied.stderr
            found = Cluster(kube, api, namespace, kubectl)
            eventually(found.agent_business, timeout=60)
            yield found
            assert kube.refusals == [], "the chart's RBAC refused:\n" + "\n".join(kube.refusals)


@pytest.fixture(scope="module")
def running_console(
    cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The console with KubernetesBusinesses as the chart's console ServiceAccount; its URL
    and its store's URL."""
    store_url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'store.db'}"
    upgrade(store_url)
    businesses = KubernetesBusinesses.connect(cluster.kube.http_url, CONSOLE_TOKEN)
    server = ServerThread(create_app(console_settings(store_url), businesses=businesses)).start()
    try:
        yield server.url, store_url
    finally:
        server.stop()


class running_operator:  # noqa: N801 - used as a context manager, like a function
    """The real Kopf operator, as `kopf run` runs it outside a pod."""

    def __init__(self, config: Path) -> None:
        self.patch = pytest.MonkeyPatch()
        self.settings = {
            "KUBECONFIG": str(config),
            "KATHA_OPERATOR_PLATFORM_NAMESPACE": PLATFORM_NAMESPACE,
            "KATHA_OPERATOR_RECONCILE_INTERVAL_SECONDS": "2",
            "KATHA_OPERATOR_LOG_FORMAT": "json",
        }
        args = ["run", "--all-namespaces", "--standalone", "-m", "business_operator.main"]
        self.runner = KopfRunner(args, timeout=60)

    def __enter__(self) -> KopfRunner:
        self.patch.delenv("KATHA_OPERATOR_KUBE_API_URL", raising=False)
        for key, value in self.settings.items():
            self.patch.setenv(key, value)
        return self.runner.__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            self.runner.__exit__(None, None, None)
        finally:
            self.patch.undo()
        assert self.runner.exception is None, self.runner.output


def session_token(settings_store: str, tenant: str) -> str:
    """An owner's live session, started in another thread (Playwright's loop runs here)."""

    async def start() -> str:
        store = ConversationStore.from_url(settings_store)
        router = RouterAdmin.connect(NO_ROUTER, "unused-admin-token")
        services = ConsoleServices(console_settings(settings_store), store, router)
        try:
            return await start_session(
                services, Response(), subject="test:owner", display="Sunil",
                tenants={tenant: "owner"},
            )  # fmt: skip
        finally:
            await router.aclose()
            await store.close()

    with ThreadPoolExecutor(1) as worker:
        return worker.submit(asyncio.run, start()).result()


def owner_page(
    console: tuple[str, str], cluster: Cluster, browse: Callable[[], Person], lang: str = "en"
) -> Page:
    url, store = console
    person = browse()
    cookies = [
        {"name": SESSION_COOKIE, "value": session_token(store, cluster.tenant), "url": url},
        {"name": "lang", "value": lang, "url": url},
    ]
    person.context.add_cookies(cookies)  # type: ignore[arg-type]
    person.page.goto(f"{url}/b/{cluster.tenant}/settings")
    return person.page


def test_a_new_greeting_reaches_the_business_and_the_agent(
    cluster: Cluster, running_console: tuple[str, str], browse: Callable[[], Person]
) -> None:
    page = owner_page(running_console, cluster, browse)
    expect(page.locator("#name")).to_have_value("Kandy Bot")
    page.locator("#greeting").fill(GREETING)
    page.get_by_role("button", name="Save persona").click()
    expect(page.locator("#persona .saved")).to_have_text("Saved.")
    expect(page.locator("#greeting")).to_have_value(GREETING)

    business = cluster.business()
    assert business["spec"]["persona"]["greeting"] == GREETING
    owned = {
        entry["manager"]: entry["fieldsV1"]["f:spec"]
        for entry in business["metadata"]["managedFields"]
        if entry["operation"] == "Apply"
    }
    assert "f:greeting" in owned["katha-console"]["f:persona"]
    assert "f:displayName" in owned["platform-team"]  # the platform team keeps the rest
    shown = cluster.kubectl("get", "biz", NAME, "-o", "yaml", "--show-managed-fields")
    assert yaml.safe_load(shown.stdout)["spec"]["persona"]["greeting"] == GREETING
    assert "manager: katha-console" in shown.stdout
    greeting = eventually(
        lambda: cluster.agent_business().get("persona", {}).get("greeting") == GREETING,
        timeout=60,
    )
    assert greeting is True


def test_a_field_the_platform_team_applied_is_refused_and_nothing_is_saved(
    cluster: Cluster, running_console: tuple[str, str], browse: Callable[[], Person]
) -> None:
    before = cluster.business()["spec"]["persona"]
    page = owner_page(running_console, cluster, browse)
    page.locator("#name").fill("Nila")
    page.locator("#greeting").fill("A greeting that must not be saved")
    page.get_by_role("button", name="Save persona").click()
    # Whoever holds the field: the platform team's apply, and the creator (the test's
    # client, named by its User-Agent as the API server does).
    expect(page.locator("#persona .refusal")).to_contain_text(
        re.compile(
            r"Your platform team manages spec\.persona\.name \([^)]*platform-team[^)]*\); "
            r"ask them to change it\."
        )
    )
    expect(page.locator("#name")).to_have_value("Nila")  # the owner's words, kept on the page
    assert cluster.business()["spec"]["persona"] == before


# The heading of the persona section, which the page must draw in the script's Noto font.
SECTION_HEADINGS = {"si": ("චරිතය", "Noto Sans Sinhala"), "ta": ("ஆளுமை", "Noto Sans Tamil")}


@pytest.mark.parametrize("language", ["si", "ta"])
def test_the_page_fits_a_phone_in_sinhala_and_tamil(
    cluster: Cluster,
    running_console: tuple[str, str],
    browse: Callable[[], Person],
    language: str,
    tmp_path: Path,
) -> None:
    page = owner_page(running_console, cluster, browse, language)
    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    heading, font = SECTION_HEADINGS[language]
    expect(page.locator("#persona h2")).to_have_text(heading)
    assert page.locator("html").get_attribute("lang") == language
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert set(rendered_fonts(page, "#persona h2")) == {font}
    # A long paragraph, wrapped: its letters in the script's font (punctuation may not be).
    assert rendered_fonts(page, "#pause p.muted").get(font, 0) > 60
    shot = tmp_path / f"settings-{language}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def rendered_fonts(page: Page, selector: str) -> dict[str, int]:
    """The fonts Chromium drew the element's text with, and how many glyphs each (DevTools'
    "Rendered Fonts"): a glyph the script's Noto font lacks is drawn by another font."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts}
