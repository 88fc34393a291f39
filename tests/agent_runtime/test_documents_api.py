"""The agent's /v1/documents and /v1/knowledge/sources on the bakery's real LanceDB index:
uploads land in the document store beside the index (never in the index itself), refused
files change nothing, and the writer's next run indexes what was stored."""

import uuid
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from fastapi.testclient import TestClient
from peers.object_store import S3Server

from agent_runtime.api.app import create_app
from agent_runtime.documents import DocumentRefusedError, Documents
from agent_runtime.knowledge import IndexState
from ingestion.index.location import IndexLocation, index_location
from ingestion.index.schema import TABLE, tenant_path
from ingestion.uploads import UploadStore

from .conftest import AgentFactory

SINHALA_NAME = "කේක් මිල ලැයිස්තුව.txt"
TAMIL_NAME = "விலை பட்டியல்.md"
# Sinhala written with the zero-width joiner (U+200D) its conjuncts need: ශ්‍රී, ක්‍ෂ.
JOINED_NAMES = ("ශ්\u200dරී ලංකා මෙනුව.pdf", "ක්\u200dෂ.txt")


def store_of(index_root: Path) -> Path:
    return Path(f"{tenant_path(index_root, 'tenants', 'mihiri')}.documents")


def workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Item", "Price"])
    sheet.append(["Jaggery cake", 1450])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_uploads_are_stored_listed_replaced_and_deleted(
    make_agent: AgentFactory, index_root: Path, knowledge_dir: Path
) -> None:
    with TestClient(create_app(make_agent())) as client:
        assert client.get("/v1/documents").json()["documents"] == []
        text = b"Jaggery cake 500 g: Rs. 1,450\n"
        created = client.put(f"/v1/documents/{SINHALA_NAME}", content=text)
        assert created.status_code == 201, created.text
        assert created.json()["source"] == f"upload:{SINHALA_NAME}"
        assert (
            client.put(f"/v1/documents/{TAMIL_NAME}", content="# விலை\n".encode()).status_code
            == 201
        )
        assert client.put("/v1/documents/prices.xlsx", content=workbook()).status_code == 201
        assert (
            client.put(
                "/v1/documents/menu.pdf", content=(knowledge_dir / "menu.pdf").read_bytes()
            ).status_code
            == 201
        )
        replaced = client.put(f"/v1/documents/{SINHALA_NAME}", content=text + b"Love cake\n")
        assert replaced.status_code == 200

        listed = client.get("/v1/documents").json()
        kinds = {doc["name"]: (doc["kind"], doc["size"]) for doc in listed["documents"]}
        assert kinds[SINHALA_NAME] == ("text", len(text) + len(b"Love cake\n"))
        assert kinds[TAMIL_NAME][0] == "text"
        assert kinds["prices.xlsx"][0] == "spreadsheet"
        assert kinds["menu.pdf"][0] == "pdf"
        assert all(doc["modified"] for doc in listed["documents"])
        # Beside the index, never inside it; no half-written dot-file left behind.
        store = store_of(index_root)
        assert sorted(path.name for path in store.iterdir()) == sorted(kinds)
        assert (store / SINHALA_NAME).read_bytes().endswith(b"Love cake\n")

        assert client.delete(f"/v1/documents/{TAMIL_NAME}").status_code == 204
        missing = client.delete(f"/v1/documents/{TAMIL_NAME}")
        assert missing.status_code == 404
        assert missing.json()["detail"]["code"] == "not_found"
        assert TAMIL_NAME not in {
            doc["name"] for doc in client.get("/v1/documents").json()["documents"]
        }


def test_sinhala_names_written_with_the_zero_width_joiner_are_stored(
    make_agent: AgentFactory, index_root: Path, knowledge_dir: Path
) -> None:
    menu, text = JOINED_NAMES
    with TestClient(create_app(make_agent())) as client:
        stored = client.put(
            f"/v1/documents/{menu}", content=(knowledge_dir / "menu.pdf").read_bytes()
        )
        assert stored.status_code == 201, stored.text
        assert client.put(f"/v1/documents/{text}", content=b"Kokis: Rs. 60\n").status_code == 201
        listed = {doc["name"] for doc in client.get("/v1/documents").json()["documents"]}
        assert listed == set(JOINED_NAMES)
        assert client.delete(f"/v1/documents/{text}").status_code == 204
    assert [path.name for path in store_of(index_root).iterdir()] == [menu]


def test_refused_files_change_nothing(make_agent: AgentFactory, index_root: Path) -> None:
    agent = make_agent(settings={"max_upload_bytes": 4096})
    refusals = {
        "menu.pdf": (b"<html>not a pdf</html>", 422, "wrong_content"),
        "prices.xlsx": (b"Item,Price\nbun,120\n", 422, "wrong_content"),
        "notes.txt": (b"\x00\x01\x02binary", 422, "wrong_content"),
        "setup.exe": (b"MZ", 422, "not_allowed_type"),
        ".hidden.txt": (b"text", 422, "bad_name"),
        "a\\b.txt": (b"text", 422, "bad_name"),
        # A right-to-left override shows this as "menutxt.exe"-like text: never a name.
        "menu\u202etxt.exe.txt": (b"text", 422, "bad_name"),
        "menu\u2066.txt": (b"text", 422, "bad_name"),
        "menu\u200e.txt": (b"text", 422, "bad_name"),
        "menu\x07.txt": (b"text", 422, "bad_name"),
        "menu\ue000.txt": (b"text", 422, "bad_name"),
        f"{'ක' * 121}.txt": (b"text", 422, "name_too_long"),
        "big.txt": (b"a" * 5000, 413, "too_large"),
        "empty.txt": (b"", 422, "empty"),
    }
    with TestClient(create_app(agent)) as client:
        for name, (body, status, code) in refusals.items():
            answer = client.put(f"/v1/documents/{quote(name)}", content=body)
            assert answer.status_code == status, name
            detail = answer.json()["detail"]
            assert detail["code"] == code, name
            assert "not a pdf" not in detail["message"]  # never the file's content
        streamed = client.put("/v1/documents/big.txt", content=iter([b"a" * 3000, b"b" * 3000]))
        assert streamed.status_code == 413
        assert streamed.json()["detail"]["limit_bytes"] == 4096
        assert client.get("/v1/documents").json()["documents"] == []
    store = store_of(index_root)
    assert not store.exists() or list(store.iterdir()) == []


def test_sources_are_the_committed_index_with_their_counts(
    make_agent: AgentFactory, index_root: Path
) -> None:
    with TestClient(create_app(make_agent())) as client:
        answer = client.get("/v1/knowledge/sources").json()
    table = IndexLocation(str(tenant_path(index_root, "tenants", "mihiri"))).connect()
    rows = table.open_table(TABLE).search().select(["source"]).limit(None).to_arrow()
    expected: dict[str, int] = {}
    for source in rows.column("source").to_pylist():
        expected[source] = expected.get(source, 0) + 1
    assert {item["source"]: item["chunks"] for item in answer["sources"]} == expected
    by_source = {item["source"]: item for item in answer["sources"]}
    assert by_source["menu"]["pages"] == 2
    assert by_source["faq"]["pages"] is None
    assert answer["index_version"] >= 1
    assert answer["last_indexed"]


def test_sources_are_counted_once_per_committed_version(
    make_agent: AgentFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Knowledge page asks on every view: the same version is never read again, and
    a new one is counted afresh."""
    opened: list[str] = []
    connect = IndexLocation.connect

    def counted(location: IndexLocation) -> Any:
        opened.append(location.uri)
        return connect(location)

    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        monkeypatch.setattr(IndexLocation, "connect", counted)
        first = client.get("/v1/knowledge/sources").json()
        assert opened, "the first look reads the index"
        opened.clear()
        assert client.get("/v1/knowledge/sources").json() == first
        assert opened == []
        monkeypatch.setattr(IndexLocation, "connect", connect)

        assert (
            client.put("/v1/documents/kokis.txt", content=b"Kokis: Rs. 60 each\n").status_code
            == 201
        )
        assert agent.knowledge.refresh()
        assert agent.knowledge.wait(120) is IndexState.READY
        monkeypatch.setattr(IndexLocation, "connect", counted)
        second = client.get("/v1/knowledge/sources").json()
        assert opened, "a new version is read"
    assert second["index_version"] > first["index_version"]
    assert "upload:kokis.txt" in {item["source"] for item in second["sources"]}


def test_a_stored_upload_is_indexed_by_the_next_run(make_agent: AgentFactory) -> None:
    agent = make_agent()
    with TestClient(create_app(agent)) as client:
        text = b"Jaggery cake, 500 g: Rs. 1,450. Made with kithul jaggery.\n"
        assert client.put("/v1/documents/new-cakes.txt", content=text).status_code == 201
        before = {item["source"] for item in client.get("/v1/knowledge/sources").json()["sources"]}
        assert "upload:new-cakes.txt" not in before  # stored is not indexed
        assert agent.knowledge.refresh()
        assert agent.knowledge.wait(120) is IndexState.READY
        after = client.get("/v1/knowledge/sources").json()["sources"]
        chunks = {item["source"]: item["chunks"] for item in after}
        assert chunks["upload:new-cakes.txt"] >= 1
        assert client.delete("/v1/documents/new-cakes.txt").status_code == 204
        assert agent.knowledge.refresh()
        assert agent.knowledge.wait(120) is IndexState.READY
        final = client.get("/v1/knowledge/sources").json()["sources"]
        assert "upload:new-cakes.txt" not in {item["source"] for item in final}


def test_a_read_only_replica_still_stores_uploads_for_the_writer(
    make_agent: AgentFactory, index_root: Path, tmp_path: Path
) -> None:
    agent = make_agent(settings={"index_read_only": True, "state_dir": tmp_path / "state"})
    with TestClient(create_app(agent)) as client:
        assert (
            client.put("/v1/documents/hours.md", content=b"# Hours\nOpen 6.30 to 9\n").status_code
            == 201
        )
        assert client.post("/v1/index/refresh").status_code == 409  # the index stays read-only
        assert [item["source"] for item in client.get("/v1/knowledge/sources").json()["sources"]]
    assert (store_of(index_root) / "hours.md").is_file()


@pytest.fixture(scope="module")
def object_store() -> Iterator[S3Server]:
    with S3Server().serve() as store:
        yield store


@pytest.mark.slow  # a real S3 server process
def test_in_a_bucket_uploads_are_objects_beside_the_index_the_writer_lists(
    object_store: S3Server,
) -> None:
    """With object storage the agent stores uploads with its own S3 credentials (the
    operator gives it the index's), under the prefix the writer reads."""
    bucket = f"katha-{uuid.uuid4().hex[:12]}"
    object_store.create_bucket(bucket)
    database = index_location(f"s3://{bucket}/indexes", object_store.environment())
    store = database.child("tenants", "mihiri").documents()
    documents = Documents(store, max_bytes=4096)
    document, created = documents.put(SINHALA_NAME, b"Kithul cake: Rs. 1,450\n")
    assert created
    assert document.source == f"upload:{SINHALA_NAME}"
    assert documents.put(SINHALA_NAME, b"Kithul cake: Rs. 1,500\n")[1] is False
    with pytest.raises(DocumentRefusedError):
        documents.put("menu.pdf", b"<html>")
    assert object_store.keys(bucket) == [f"indexes/tenants/mihiri.documents/{SINHALA_NAME}"]
    writer = UploadStore(store)
    [upload] = writer.uploads()
    assert writer.read(upload, 4096) == b"Kithul cake: Rs. 1,500\n"
    documents.delete(SINHALA_NAME)
    assert writer.uploads() == []
    with pytest.raises(DocumentRefusedError):
        documents.delete(SINHALA_NAME)
