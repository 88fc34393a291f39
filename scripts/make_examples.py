"""Rebuild the binary files of the bundled examples: the bakery's menu PDF and price sheet.

Senkadagala Bakery (examples/kandy-bakery) hands over what a real shop has: a menu PDF with
an English and a Sinhala page per section (a real text layer, Sinhala in Noto Sans Sinhala
from the Debian package fonts-noto-core) and a workbook of daily prices with a merged title
and a two-row merged header. All the text lives below; the output is byte-for-byte the same
on every run (fixed PDF dates and ids, fixed workbook properties and zip timestamps):

    .venv/bin/python scripts/make_examples.py           # write the files
    .venv/bin/python scripts/make_examples.py --check   # exit 1 when a committed file differs
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

REPO = Path(__file__).resolve().parents[1]
BAKERY = REPO / "examples" / "kandy-bakery"
FONTS = Path("/usr/share/fonts/truetype/noto")
# Everything dated in the files is this moment, so rebuilding gives the same bytes.
FIXED_TIME = datetime(2025, 6, 1, 0, 0, 0)

_SCRIPT_RUNS = re.compile(
    r"[\u0d80-\u0dff\u200d]+|[\u0b80-\u0bff]+|[^\u0d80-\u0dff\u0b80-\u0bff\u200d]+"
)

# A page is a heading, a note, and (item, price) rows drawn in two columns as menus are.
# Each section has an English page and a Sinhala page of a few items, so that one page is
# one short chunk whose meaning is that section's (a long page answers nothing well).
MenuPage = tuple[str, str, list[tuple[str, str]]]
MENU_TITLE = "Senkadagala Bakery menu"
MENU_PAGES: list[MenuPage] = [
    (
        "Senkadagala Bakery, Kandy - Everyday cakes",
        "Baked every morning. Prices per whole cake.",
        [
            ("Butter cake, 1 kg", "Rs. 2,800"),
            ("Chocolate cake, 1 kg", "Rs. 5,200"),
            ("Coffee cake, 1 kg", "Rs. 3,600"),
            ("Love cake, 500 g", "Rs. 2,400"),
        ],
    ),
    (
        "සෙංකඩගල බේකරිය, මහනුවර - දිනපතා කේක්",
        "සෑම උදෑසනකම පුළුස්සනවා. මිල සම්පූර්ණ කේක් එකකට.",
        [
            ("බටර් කේක් කිලෝ 1", "රු. 2,800"),
            ("චොකලට් කේක් කිලෝ 1", "රු. 5,200"),
            ("කෝපි කේක් කිලෝ 1", "රු. 3,600"),
            ("ලව් කේක් ග්‍රෑම් 500", "රු. 2,400"),
        ],
    ),
    (
        "Senkadagala Bakery, Kandy - Celebration cakes",
        "Made to order for birthdays and weddings.",
        [
            ("Eggless chocolate cake, 1 kg", "Rs. 4,500"),
            ("Photo birthday cake, 1.5 kg", "Rs. 7,900"),
            ("Wedding cake pieces, box of 100", "Rs. 16,500"),
            ("Name or message written on a cake", "Rs. 250"),
            ("Candles and a cake knife", "free with any cake"),
        ],
    ),
    (
        "සෙංකඩගල බේකරිය, මහනුවර - උත්සව කේක්",
        "උපන්දින සහ මංගල උත්සව සඳහා ඇණවුමට හදනවා.",
        [
            ("බිත්තර නැති චොකලට් කේක් කිලෝ 1", "රු. 4,500"),
            ("ඡායාරූප උපන්දින කේක් කිලෝ 1.5", "රු. 7,900"),
            ("මංගල කේක් කෑලි 100ක පෙට්ටිය", "රු. 16,500"),
            ("කේක් එකේ නමක් හෝ පණිවිඩයක් ලිවීම", "රු. 250"),
            ("ඉටිපන්දම් සහ කේක් පිහිය", "ඕනෑම කේක් එකක් සමඟ නොමිලේ"),
        ],
    ),
    (
        "Senkadagala Bakery, Kandy - Sweets",
        "Traditional sweets, made in small batches.",
        [
            ("Pol toffee (coconut toffee), 10 pieces", "Rs. 650"),
            ("Kavum, 5 pieces", "Rs. 500"),
            ("Kokis, 250 g packet", "Rs. 450"),
            ("Kalu dodol, 250 g", "Rs. 700"),
            ("Avurudu sweet box (kavum, kokis, aluwa)", "Rs. 2,950"),
        ],
    ),
    (
        "සෙංකඩගල බේකරිය, මහනුවර - රසකැවිලි",
        "සාම්ප්‍රදායික රසකැවිලි, ටික ටික හදනවා.",
        [
            ("පොල් ටොෆි කෑලි 10", "රු. 650"),
            ("කැවුම් 5ක්", "රු. 500"),
            ("කොකිස් ග්‍රෑම් 250 පැකට්ටුව", "රු. 450"),
            ("කළු දොදොල් ග්‍රෑම් 250", "රු. 700"),
            ("අවුරුදු රසකැවිලි පෙට්ටිය (කැවුම්, කොකිස්, අළුවා)", "රු. 2,950"),
        ],
    ),
]

# The daily price sheet: (English name, Sinhala name, each, pack of 10) under sections.
PRICE_TITLE = "Senkadagala Bakery - daily prices from 1 June 2025"
PRICE_SECTIONS: list[tuple[str, list[tuple[str, str, int, int | None]]]] = [
    (
        "Short eats / කෙටි කෑම",
        [
            ("Fish bun (maalu paan)", "මාළු පාන්", 130, 1200),
            ("Chicken roll", "චිකන් රෝල්ස්", 160, 1500),
            ("Chicken pastry", "චිකන් පේස්ට්‍රි", 190, 1800),
            ("Fish cutlet", "මාළු කට්ලට්", 90, 850),
            ("Vegetable roti", "එළවළු රොටී", 110, 1000),
            ("Vegetable patty", "එළවළු පැටිස්", 100, 950),
            ("Seeni sambol bun", "සීනි සම්බෝල පාන්", 120, 1100),
        ],
    ),
    (
        "Bread / පාන්",
        [
            ("Sandwich bread loaf, 450 g", "සැන්ඩ්විච් පාන් ගෙඩිය", 240, None),
            ("Roast bread (roast paan)", "රෝස් පාන්", 60, None),
            ("Tea bun", "ටී බනිස්", 80, 750),
            ("Kimbula bun", "කිඹුලා බනිස්", 100, 950),
        ],
    ),
    (
        "Drinks / බීම",
        [
            ("Plain tea", "කහට", 70, None),
            ("Milk tea", "කිරි තේ", 120, None),
            ("Iced Milo", "අයිස් මයිලෝ", 380, None),
            ("Wood apple juice", "දිවුල් ජූස්", 350, None),
            ("Faluda", "ෆලූඩා", 450, None),
        ],
    ),
]


def _fonts() -> None:
    for name, file in (
        ("Sinhala", "NotoSansSinhala-Regular.ttf"),
        ("Tamil", "NotoSansTamil-Regular.ttf"),
    ):
        if not (FONTS / file).is_file():
            sys.exit(f"{FONTS / file} is missing: apt-get install fonts-noto-core")
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(FONTS / file)))


def _draw(pdf: canvas.Canvas, x: float, y: float, text: str, size: float) -> None:
    """Each script in a font that has it, as real PDFs do."""
    for run in _SCRIPT_RUNS.findall(text):
        first = run[0]
        if "\u0d80" <= first <= "\u0dff" or first == "\u200d":
            font = "Sinhala"
        elif "\u0b80" <= first <= "\u0bff":
            font = "Tamil"
        else:
            font = "Helvetica-Bold" if size > 12 else "Helvetica"
        pdf.setFont(font, size)
        pdf.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, font, size)


def menu_pdf() -> bytes:
    """The menu: one A4 page per section and language, item and price in two columns."""
    _fonts()
    buffer = io.BytesIO()
    # invariant: a fixed creation date and document id, so the same input gives the same bytes
    pdf = canvas.Canvas(buffer, invariant=True)
    pdf.setTitle(MENU_TITLE)
    pdf.setAuthor("Senkadagala Bakery")
    pdf.setSubject("Cakes, sweets and extras, in English and Sinhala")
    pdf.setCreator("scripts/make_examples.py")
    for heading, note, rows in MENU_PAGES:
        _draw(pdf, 60, 780, heading, 16)
        _draw(pdf, 60, 756, note, 10)
        for number, (item, price) in enumerate(rows):
            y = 720 - 22 * number
            _draw(pdf, 60, y, item, 12)
            _draw(pdf, 400, y, price, 12)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def prices_xlsx() -> bytes:
    """The price sheet: merged title, merged two-row header, a merged row per section."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):
        raise TypeError("a new workbook's active sheet is a worksheet")
    sheet.title = "Daily prices"
    sheet["A1"] = PRICE_TITLE
    sheet.merge_cells("A1:D1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"], sheet["B2"], sheet["C2"] = "Item", "සිංහල නම", "Price (Rs.)"
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    sheet.merge_cells("C2:D2")
    sheet["C3"], sheet["D3"] = "Each", "Pack of 10"
    for cell in ("A2", "B2", "C2", "C3", "D3"):
        sheet[cell].font = Font(bold=True)
        sheet[cell].alignment = Alignment(horizontal="center")
    for section, rows in PRICE_SECTIONS:
        sheet.append((section,))
        sheet.merge_cells(
            start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=4
        )
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        for row in rows:
            sheet.append(row)
    for column, width in zip("ABCD", (30, 24, 12, 18), strict=True):
        sheet.column_dimensions[column].width = width
    workbook.properties.creator = "Senkadagala Bakery"
    workbook.properties.lastModifiedBy = "Senkadagala Bakery"
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed timestamps (and the modified date openpyxl sets on save)."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp,
                                 content)  # fmt: skip
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, content)
    return out.getvalue()


def build() -> dict[Path, bytes]:
    return {BAKERY / "menu.pdf": menu_pdf(), BAKERY / "prices.xlsx": prices_xlsx()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    stale = []
    for path, data in build().items():
        shown = path.relative_to(REPO)
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(str(shown))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {shown} ({len(data):,} bytes)")
    if stale:
        print(f"stale: {', '.join(stale)} (run scripts/make_examples.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
