"""The console app builds KubernetesBusinesses when its settings say so (the chart's
`KATHA_CONSOLE_BUSINESSES=kubernetes`), uses it, and closes it when it stops; otherwise it
uses what it is given (`katha up` gives it FileBusinesses) or none."""

from pathlib import Path

from kube_emulator import KubeEmulator
from pydantic import SecretStr

from console.app import create_app
from console.businesses.files import FileBusinesses
from console.businesses.kubernetes import KubernetesBusinesses
from console.services import ConsoleServices
from console.settings import ConsoleSettings


def settings_for(tmp_path: Path, **more: str) -> ConsoleSettings:
    return ConsoleSettings(
        store_url=SecretStr(f"sqlite:///{tmp_path / 'store.db'}"),
        router_url="http://127.0.0.1:9",
        router_admin_token=SecretStr("an-admin-token"),
        session_secret=SecretStr("console-tests-session-secret-5d8a1f"),
        **more,  # type: ignore[arg-type]
    )


async def test_the_chart_setting_builds_the_kubernetes_businesses_and_closes_them(
    kube: KubeEmulator, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, businesses="kubernetes", kubernetes_api_url=kube.http_url)
    app = create_app(settings)
    services: ConsoleServices = app.state.services
    businesses = services.businesses
    assert isinstance(businesses, KubernetesBusinesses)
    client = businesses._client
    assert str(client.base_url).rstrip("/") == kube.http_url
    async with app.router.lifespan_context(app):
        assert not client.is_closed
    assert client.is_closed


def test_without_the_setting_the_console_uses_what_it_is_given(tmp_path: Path) -> None:
    assert create_app(settings_for(tmp_path)).state.services.businesses is None
    files = FileBusinesses({}, tmp_path / "refresh")
    app = create_app(settings_for(tmp_path, businesses="kubernetes"), businesses=files)
    assert app.state.services.businesses is files
