"""Real files and real peers for ingestion tests: PDFs, workbooks, web sites, an embeddings API.

PDFs carry Sinhala and Tamil in a real text layer (Noto fonts from the Debian package
fonts-noto-core); web sites, the OpenAI-compatible embeddings endpoint and a Prometheus
Pushgateway are the peers in tests/support/peers, served on 127.0.0.1 per test.
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from openpyxl.worksheet.worksheet import Worksheet
from peers.openai_compatible import EmbeddingsApi
from peers.pushgateway import Pushgateway
from peers.web_site import Site
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


@pytest.fixture
def site() -> Iterator[Site]:
    with Site().serve() as served:
        yield served


@pytest.fixture
def embeddings_api() -> Iterator[EmbeddingsApi]:
    with EmbeddingsApi().serve() as served:
        yield served


@pytest.fixture
def pushgateway() -> Iterator[Pushgateway]:
    with Pushgateway().serve() as served:
        yield served


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
