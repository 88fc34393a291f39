"""`katha up` reads a folder: every resource validated, credentials settled per Business
(Secret document, .env, environment, or generated once for the local outbox)."""

import base64
import re
import stat
from pathlib import Path

import pytest

from katha.contracts.routing import load_document
from katha.contracts.serving import AGENT_READS
from katha_cli.local.credentials import GENERATED_PREFIX, env_name, read_env_file
from katha_cli.local.router_process import graph_rules, route, write_routes
from katha_cli.local.workspace import WorkspaceError, files_digest, load_workspace

BUSINESS = """\
apiVersion: katha.dev/v1alpha1
kind: Business
metadata: {{name: {name}, namespace: demo}}
spec:
  displayName: {name} shop
  whatsapp:
    phoneNumberId: "{number}"
    credentialsSecretRef: {{name: {name}-whatsapp}}
  knowledge:
    sources:
      - {{name: notes, type: text, file: notes.md}}
"""


def business(folder: Path, name: str, number: str) -> Path:
    (folder / name).mkdir(parents=True, exist_ok=True)
    path = folder / name / "business.yaml"
    path.write_text(BUSINESS.format(name=name, number=number))
    (folder / name / "notes.md").write_text(f"# {name}\nOpen 8 to 6.\n")
    return path


def test_missing_credentials_are_generated_once_and_kept_private(tmp_path: Path) -> None:
    business(tmp_path / "shops", "tea", "100000000000001")
    state = tmp_path / "state"
    first = load_workspace(tmp_path / "shops", state)
    (tenant,) = first.tenants
    assert not tenant.live
    assert tenant.credentials.access_token.get_secret_value().startswith(GENERATED_PREFIX)
    again = load_workspace(tmp_path / "shops", state).tenants[0]
    assert again.credentials == tenant.credentials
    mode = stat.S_IMODE((state / "credentials.json").stat().st_mode)
    assert mode == 0o600


def test_a_secret_document_makes_the_tenant_live(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    token = base64.b64encode(b"EAAG-real-looking-token").decode()
    (shops / "tea" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: tea-whatsapp, namespace: demo}\n"
        f"data: {{accessToken: {token}}}\n"
        "stringData: {appSecret: app-secret-from-meta, verifyToken: my-verify-token}\n"
    )
    (tenant,) = load_workspace(shops, tmp_path / "state").tenants
    assert tenant.live
    assert tenant.credentials.access_token.get_secret_value() == "EAAG-real-looking-token"
    assert tenant.credentials.app_secret.get_secret_value() == "app-secret-from-meta"
    assert tenant.credentials_from == "Secret tea-whatsapp"


def test_env_files_and_the_environment_win_in_that_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    (shops / ".env").write_text(
        "# shared\nexport TEA_WHATSAPP_APP_SECRET='from-the-folder-env'\n"
        'TEA_WHATSAPP_VERIFY_TOKEN="verify-from-folder"\n'
    )
    (shops / "tea" / ".env").write_text("TEA_WHATSAPP_APP_SECRET=from-the-business-env\n")
    monkeypatch.setenv("TEA_WHATSAPP_VERIFY_TOKEN", "verify-from-environment")
    (tenant,) = load_workspace(shops, tmp_path / "state").tenants
    assert tenant.credentials.app_secret.get_secret_value() == "from-the-business-env"
    assert tenant.credentials.verify_token.get_secret_value() == "verify-from-environment"
    assert not tenant.live  # no access token given: replies stay local


def test_placeholder_credentials_are_refused(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    (shops / ".env").write_text("TEA_WHATSAPP_ACCESS_TOKEN=changeme\n")
    with pytest.raises(WorkspaceError) as error:
        load_workspace(shops, tmp_path / "state")
    assert "TEA_WHATSAPP_ACCESS_TOKEN (accessToken) for demo/tea-whatsapp" in str(error.value)
    assert "changeme" not in str(error.value)


def test_every_problem_is_reported_with_its_file(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    business(shops, "cafe", "100000000000001")
    bad = shops / "broken" / "business.yaml"
    bad.parent.mkdir()
    bad.write_text(BUSINESS.format(name="broken", number="+94 77 123 4567"))
    with pytest.raises(WorkspaceError) as error:
        load_workspace(shops, tmp_path / "state")
    problems = error.value.problems
    assert any(str(bad) in p and "spec.whatsapp.phoneNumberId" in p for p in problems)
    assert any("phone number ID 100000000000001, already used by demo/" in p for p in problems)


def test_folders_without_a_business_and_missing_folders_are_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "questions.yaml").write_text("- q: hi\n")
    with pytest.raises(WorkspaceError, match="holds no Business"):
        load_workspace(tmp_path / "empty", tmp_path / "state")
    with pytest.raises(WorkspaceError, match="no such folder"):
        load_workspace(tmp_path / "nowhere", tmp_path / "state")


def test_sites_and_hidden_folders_are_not_read(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    for skipped in ("sites", ".katha"):
        (shops / skipped).mkdir()
        (shops / skipped / "broken.yaml").write_text("kind: Business\napiVersion: katha.dev/v1\n")
    assert [t.key for t in load_workspace(shops, tmp_path / "state").tenants] == ["demo/tea"]


def test_the_files_digest_follows_the_files_contents(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    tenant = load_workspace(shops, tmp_path / "state").tenants[0]
    before = files_digest(tenant)
    assert files_digest(tenant) == before
    (shops / "tea" / "notes.md").write_text("# tea\nOpen 9 to 5.\n")
    assert files_digest(tenant) != before


def test_env_names_follow_the_secret_and_key() -> None:
    assert env_name("kandy-bakery-whatsapp", "accessToken") == (
        "KANDY_BAKERY_WHATSAPP_ACCESS_TOKEN"
    )
    assert env_name("shop.creds", "verifyToken") == "SHOP_CREDS_VERIFY_TOKEN"


def test_env_file_syntax(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\n\n# note\nexport B = 'two words'\nnot a line\nC=\"x=y\"\n")
    assert read_env_file(path) == {"A": "1", "B": "two words", "C": "x=y"}
    assert read_env_file(tmp_path / "missing") == {}


def test_config_maps_in_the_folder_are_laid_out_as_kubernetes_mounts_them(
    tmp_path: Path,
) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    (shops / "tea" / "prices.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tea-prices, namespace: demo}\n"
        'data: {prices.csv: "Item,Price\\nBOPF 400 g,1450\\n"}\n'
        "binaryData: {logo.bin: AAEC}\n"
    )
    workspace = load_workspace(shops, tmp_path / "state")
    assert set(workspace.config_maps) == {("demo", "tea-prices")}
    workspace.write_config_maps(tmp_path / "mounts")
    folder = tmp_path / "mounts" / "demo" / "tea-prices"
    assert (folder / "prices.csv").read_text() == "Item,Price\nBOPF 400 g,1450\n"
    assert (folder / "logo.bin").read_bytes() == b"\x00\x01\x02"


def test_a_live_tenant_needs_its_real_app_secret_and_verify_token(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    (shops / ".env").write_text("TEA_WHATSAPP_ACCESS_TOKEN=EAAG-real-looking-token\n")
    with pytest.raises(WorkspaceError) as error:
        load_workspace(shops, tmp_path / "state")
    (problem,) = error.value.problems
    assert "appSecret (TEA_WHATSAPP_APP_SECRET), verifyToken (TEA_WHATSAPP_VERIFY_TOKEN)" in problem
    assert "EAAG" not in problem


def test_broken_secret_data_and_a_corrupt_credentials_file_are_explained(
    tmp_path: Path,
) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    secret = shops / "tea" / "secret.yaml"
    secret.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: tea-whatsapp}\ndata: {accessToken: '%%'}\n"
    )
    with pytest.raises(WorkspaceError, match=re.escape(f"{secret}: Secret data must be base64")):
        load_workspace(shops, tmp_path / "state")
    secret.unlink()
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "credentials.json").write_text("{not json")
    with pytest.raises(WorkspaceError, match=r"credentials\.json is not valid JSON: delete it"):
        load_workspace(shops, tmp_path / "state")


ESCAPING_CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}, namespace: {namespace}}}
data: {{"{key}": "Item,Price\\nBOPF 400 g,1450\\n"}}
"""


@pytest.mark.parametrize(
    ("name", "namespace", "key", "named"),
    [
        ("tea-prices", "demo", "../../../escaped.csv", "key"),
        ("tea-prices", "demo", "/tmp/escaped.csv", "key"),
        ("tea-prices", "demo", "..", "key"),
        ("tea-prices", "../../..", "prices.csv", "namespace"),
        ("../../escaped", "demo", "prices.csv", "name"),
    ],
)
def test_a_config_map_cannot_write_outside_the_state_folder(
    tmp_path: Path, name: str, namespace: str, key: str, named: str
) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    (shops / "tea" / "prices.yaml").write_text(
        ESCAPING_CONFIG_MAP.format(name=name, namespace=namespace, key=key)
    )
    with pytest.raises(WorkspaceError) as refused:
        load_workspace(shops, tmp_path / "state")
    assert f"ConfigMap {named}" in str(refused.value)
    assert not list(tmp_path.rglob("escaped*"))


def test_a_file_source_outside_the_folder_is_refused_before_anything_reads_it(
    tmp_path: Path,
) -> None:
    shops = tmp_path / "shops"
    path = business(shops, "tea", "100000000000001")
    path.write_text(path.read_text().replace("file: notes.md", "file: /etc"))
    with pytest.raises(WorkspaceError) as refused:
        load_workspace(shops, tmp_path / "state")
    assert "spec.knowledge.sources[0].file" in str(refused.value)
    assert "relative path" in str(refused.value)


def test_a_symlink_out_of_the_folder_is_refused_and_never_read(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "id_rsa").write_text("not knowledge")
    (shops / "tea" / "notes.md").unlink()
    (shops / "tea" / "notes.md").symlink_to(tmp_path / "private" / "id_rsa")
    with pytest.raises(WorkspaceError) as refused:
        load_workspace(shops, tmp_path / "state")
    assert "leads outside" in str(refused.value)


def test_a_folder_source_digests_only_what_lies_inside(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    path = business(shops, "tea", "100000000000001")
    (shops / "tea" / "notes").mkdir()
    (shops / "tea" / "notes" / "menu.md").write_text("Tea 100")
    path.write_text(path.read_text().replace("file: notes.md", "file: notes"))
    tenant = load_workspace(shops, tmp_path / "state").tenants[0]
    before = files_digest(tenant)
    # A link planted later (after validation) is still not followed out of the folder.
    (shops / "tea" / "notes" / "passwd").symlink_to("/etc/passwd")
    assert files_digest(tenant) == before


def test_katha_ups_routes_tell_the_router_every_type_the_agent_reads(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    business(shops, "tea", "100000000000001")
    tenant = load_workspace(shops, tmp_path / "state").tenants[0]
    assert route(tenant, "http://127.0.0.1:9").accepts == list(AGENT_READS)


def test_katha_ups_routes_carry_the_account_templates_and_names(tmp_path: Path) -> None:
    # The router reads the routes file as it reads the cluster's Secret: account-wide
    # webhooks find the Business by its account ID, templates fill in the names.
    shops = tmp_path / "shops"
    path = business(shops, "tea", "100000000000001")
    path.write_text(
        path.read_text()
        .replace(
            "    credentialsSecretRef",
            '    businessAccountId: "102290129340398"\n'
            "    templates:\n"
            "      handoffNotice: {name: katha_handoff, languages: [si, en]}\n"
            "      reopen: {name: katha_reopen, languages: [en_US], category: MARKETING}\n"
            "    credentialsSecretRef",
        )
        .replace("  knowledge:", "  persona: {name: Nila}\n  knowledge:")
    )
    workspace = load_workspace(shops, tmp_path / "state")
    routes_file = tmp_path / "state" / "routes.json"
    write_routes(workspace, {"demo/tea": "http://127.0.0.1:9/demo/tea"}, routes_file)
    loaded = load_document(routes_file.read_text())
    assert loaded.dropped == ()
    (written,) = loaded.table.routes
    assert written.business_account_id == "102290129340398"
    assert written.templates.handoff_notice is not None
    assert written.templates.handoff_notice.name == "katha_handoff"
    assert written.templates.handoff_notice.languages == ["si", "en"]
    assert written.templates.reopen is not None
    assert written.templates.reopen.category == "MARKETING"
    assert written.templates.handoff_ended is None
    assert (written.display_name, written.assistant_name) == ("tea shop", "Nila")
    assert written.endpoint == "http://127.0.0.1:9/demo/tea"
    rules = graph_rules(workspace, window_seconds=90)
    assert rules.templates == {"100000000000001": written.templates}
    assert rules.window_seconds == 90
