"""Real files and real peers for ingestion tests: PDFs, workbooks, web sites, an embeddings API.

PDFs carry Sinhala and Tamil in a real text layer (Noto fonts from the Debian package
fonts-noto-core); web sites, the OpenAI-compatible embeddings endpoint and a Prometheus
Pushgateway are small HTTP servers on 127.0.0.1 speaking the real protocols.
"""

import base64
import hashlib
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
import yaml
from loopback_http import serve_http
from openpyxl.worksheet.worksheet import Worksheet
from prometheus_client.parser import text_string_to_metric_families
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ingestion.addresses import AddressPolicy
from ingestion.refresh import Refresh
from ingestion.settings import IngestionSettings
from ingestion.sources import Places
from katha.api import Business

FONTS = Path("/usr/share/fonts/truetype/noto")
_SCRIPT_RUNS = re.compile(
    r"[\u0d80-\u0dff\u200d]+|[\u0b80-\u0bff]+|[^\u0d80-\u0dff\u0b80-\u0bff\u200d]+"
)

# The test sites are on 127.0.0.1, which ingestion refuses unless told: these tests say so.
SITES_ON_LOOPBACK = AddressPolicy(allow_loopback=True)

# A line is a string, or a tuple of table cells drawn in columns; None is a drawn-only page.
Line = str | tuple[str, ...]


def _fonts() -> None:
    for name, file in (
        ("Sinhala", "NotoSansSinhala-Regular.ttf"),
        ("Tamil", "NotoSansTamil-Regular.ttf"),
    ):
        if not (FONTS / file).is_file():
            pytest.fail(f"{FONTS / file} is missing: apt-get install fonts-noto-core")
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(FONTS / file)))


def _draw(pdf: canvas.Canvas, x: float, y: float, text: str) -> None:
    """Each script in a font that has it, as real PDFs do."""
    for run in _SCRIPT_RUNS.findall(text):
        font = (
            "Sinhala"
            if "\u0d80" <= run[0] <= "\u0dff" or run[0] == "\u200d"
            else ("Tamil" if "\u0b80" <= run[0] <= "\u0bff" else "Helvetica")
        )
        pdf.setFont(font, 12)
        pdf.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, font, 12)


def write_pdf(path: Path, pages: list[list[Line] | None], title: str | None = None) -> Path:
    _fonts()
    pdf = canvas.Canvas(str(path))
    if title:
        pdf.setTitle(title)
    for lines in pages:
        if lines is None:  # a scanned page: pixels only, no text layer
            pdf.rect(60, 300, 400, 400, fill=1)
        for number, line in enumerate(lines or []):
            y = 780 - 18 * number
            cells = (line,) if isinstance(line, str) else line
            for column, cell in enumerate(cells):
                _draw(pdf, 60 + 190 * column, y, cell)
        pdf.showPage()
    pdf.save()
    return path


@pytest.fixture
def make_pdf() -> Callable[..., Path]:
    return write_pdf


def write_price_list(path: Path) -> Path:
    """A shop's workbook: a merged title, a two-row merged header, section rows, a Sinhala row."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "Prices"
    sheet["A1"] = "Ceylon Spice Kitchen price list"
    sheet.merge_cells("A1:C1")
    sheet["A2"], sheet["B2"] = "Item", "Price (Rs.)"
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:C2")
    sheet["B3"], sheet["C3"] = "Small", "Large"
    rows: list[tuple[Any, ...]] = [
        ("Kottu",),
        ("Chicken Kottu", 1200, 1800),
        ("එළවළු කොත්තු", 900, 1400),
        ("Rice & Curry",),
        ("Fish Rice & Curry", 850, None),
    ]
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A4:C4")
    sheet.merge_cells("A7:C7")
    workbook.create_sheet("Notes").append(("Delivery", "Free within 5 km"))
    workbook.save(path)
    return path


@pytest.fixture
def make_price_list() -> Callable[[Path], Path]:
    return write_price_list


@dataclass
class Site:
    """A web site on loopback: path -> (status, content type, body); every GET is recorded."""

    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)
    base: str = ""

    def html(self, path: str, body: str, status: int = 200) -> None:
        self.pages[path] = (status, "text/html; charset=utf-8", body.encode())

    def file(self, path: str, content_type: str, body: bytes) -> None:
        self.pages[path] = (200, content_type, body)


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            time.sleep(state.delays.get(self.path, 0))
            status, content_type, body = state.pages.get(self.path, (404, "text/plain", b"no"))
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (a timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Handler) as base:
        state.base = base
        yield state


@dataclass
class EmbeddingsApi:
    """An OpenAI-compatible /v1/embeddings; vectors are hashed bags of words (deterministic)."""

    base: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False
    dimension: int = 64
    delay: float = 0.0  # seconds before answering, to catch a client half-way

    @property
    def embedded(self) -> list[str]:
        return [text for call in self.calls for text in call["input"]]


def bag_of_words(text: str, dimension: int) -> list[float]:
    vector = np.zeros(dimension, dtype=np.float32)
    for word in re.findall(r"\w+", text.casefold()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dimension] += 1.0
    norm = float(np.linalg.norm(vector)) or 1.0
    return (vector / norm).tolist()


@pytest.fixture
def embeddings_api() -> Iterator[EmbeddingsApi]:
    state = EmbeddingsApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.calls.append(request)
            if state.fail or self.path != "/v1/embeddings":
                self.send_response(503 if state.fail else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            texts = request["input"] if isinstance(request["input"], list) else [request["input"]]
            data = [
                {
                    "object": "embedding",
                    "index": index,
                    "embedding": bag_of_words(text, state.dimension),
                }
                for index, text in enumerate(texts)
            ]
            body = json.dumps(
                {
                    "object": "list",
                    "data": data,
                    "model": request["model"],
                    "usage": {"prompt_tokens": 0, "total_tokens": 0},
                }
            ).encode()
            if len(texts) > 1:  # batches of chunks, not a single probe or query
                time.sleep(state.delay)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client was killed while waiting (a crash test)

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Handler) as base:
        state.base = base
        yield state


@dataclass
class Pushgateway:
    """A Prometheus Pushgateway's push API: PUT (replace) or POST (merge) a group's metrics at
    /metrics/job/JOB{/LABEL/VALUE}, a LABEL@base64 name meaning a base64url-encoded value."""

    base: str = ""
    groups: dict[tuple[tuple[str, str], ...], str] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)

    def samples(self, **group: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """The samples of the group with these labels: (name, sorted labels) -> value."""
        text = self.groups[tuple(sorted(group.items()))]
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


@pytest.fixture
def pushgateway() -> Iterator[Pushgateway]:
    state = Pushgateway()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self._push()

        def do_POST(self) -> None:
            self._push()

        def _push(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            parts = self.path.strip("/").split("/")
            if parts[:2] != ["metrics", "job"] or len(parts) % 2 == 0:
                self.send_response(400)
            elif not self.headers["Content-Type"].startswith("text/plain"):
                self.send_response(415)
            else:
                group = {"job": parts[2]}
                for name, value in zip(parts[3::2], parts[4::2], strict=True):
                    if name.endswith("@base64"):
                        name, value = name.removesuffix("@base64"), _unbase64(value)
                    group[name] = urllib.parse.unquote_plus(value)
                text_string_to_metric_families(body)  # must parse, or the push is refused
                state.groups[tuple(sorted(group.items()))] = body
                state.methods.append(self.command)
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Handler) as base:
        state.base = base
        yield state


def _unbase64(value: str) -> str:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


def manifest(*sources: dict[str, Any], name: str = "ceylon-spice") -> dict[str, Any]:
    """A Business with these knowledge sources, as its YAML holds it (camelCase)."""
    return {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": name, "namespace": "tenants"},
        "spec": {
            "displayName": "Ceylon Spice Kitchen",
            "whatsapp": {
                "phoneNumberId": "105954558954427",
                "credentialsSecretRef": {"name": "ceylon-spice-whatsapp"},
            },
            "knowledge": {"sources": list(sources)},
        },
    }


def business(*sources: dict[str, Any], name: str = "ceylon-spice") -> Business:
    return Business.model_validate(manifest(*sources, name=name))


def business_file(folder: Path, sources: list[dict[str, Any]]) -> Path:
    """The same Business written where `katha ingest` and the index writer read it."""
    path = folder / "business.yaml"
    path.write_text(yaml.safe_dump(manifest(*sources), allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def refresh_with_api(tmp_path: Path, embeddings_api: EmbeddingsApi) -> Refresh:
    """A refresh embedding through the loopback OpenAI-compatible endpoint (fast, countable)."""
    settings = IngestionSettings(
        embedder="openai",
        embeddings_url=f"{embeddings_api.base}/v1",
        embeddings_model="bag-of-words",
        batch_size=8,
        fetch_timeout_seconds=2,
        allow_loopback=True,  # the `site` fixture serves on 127.0.0.1
    )
    (tmp_path / "knowledge").mkdir()
    return Refresh(
        index_root=tmp_path / "index",
        places=Places(tmp_path / "knowledge", tmp_path / "configmaps"),
        settings=settings,
        progress=False,
    )
