"""On one machine the owner's settings written into the Business YAML take effect too: a
paused Business is paused in the local routing table, and an edited FAQ changes the digest
that makes `katha up` index again."""

from pathlib import Path

import yaml

from katha_cli.local.indexing import config_digest
from katha_cli.local.router_process import route
from katha_cli.local.workspace import Workspace, load_workspace

from .test_workspace import business


def _load(shops: Path, tmp_path: Path, faq: object = None, **spec: object) -> Workspace:
    path = shops / "bakery" / "business.yaml"
    document = yaml.safe_load(path.read_text())
    document["spec"].update(spec)
    if faq is not None:  # beside the sources, as the console writes it
        document["spec"]["knowledge"]["faq"] = faq
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    return load_workspace(shops, tmp_path / "state")


def test_pause_and_faq_reach_the_router_and_the_indexer(tmp_path: Path) -> None:
    shops = tmp_path / "shops"
    business(shops, "bakery", "105954558954427")
    plain = _load(shops, tmp_path)
    (tenant,) = plain.tenants
    assert route(tenant, "http://127.0.0.1:9").paused is False
    before = config_digest(plain, tenant)

    paused = _load(shops, tmp_path, paused=True)
    (tenant,) = paused.tenants
    assert route(tenant, "http://127.0.0.1:9").paused is True
    assert config_digest(paused, tenant) == before  # pausing re-indexes nothing

    digests = {before}
    for faq in (
        [{"q": "Open on Poya?", "a": "Until noon."}],
        [{"q": "Open on Poya?", "a": "Until noon.", "language": "en"}],
        [{"q": "Open on Poya?", "a": "Until 1pm."}],
    ):
        workspace = _load(shops, tmp_path, faq=faq)
        digests.add(config_digest(workspace, workspace.tenants[0]))
    assert len(digests) == 4
