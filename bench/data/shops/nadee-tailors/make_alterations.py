"""Writes alterations.xlsx, Nadee Tailors' alterations price sheet, as the owner keeps it in
Excel: a merged title row over the header, English and Sinhala names, prices as numbers.

    .venv/bin/python bench/data/shops/nadee-tailors/make_alterations.py

Edit the rows here, not the binary file; the labelled questions cite its rows by number
(the title is row 1, the header row 2, the first alteration row 3).
"""

from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

TITLE = "Nadee Tailors - Alterations and repairs / වෙනස් කිරීම් සහ අලුත්වැඩියා"
HEADER = ("Alteration", "සිංහලෙන්", "Price (Rs.)", "Ready in")
ROWS: list[tuple[str, str, int, str]] = [
    ("Trouser hem shortening", "කලිසම කොට කිරීම", 400, "1 day"),
    ("Waist take in or let out", "ඉණ තද හෝ ලිහිල් කිරීම", 600, "2 days"),
    ("Zip replacement", "සිප් එක මාරු කිරීම", 500, "1 day"),
    ("Shirt sleeve shortening", "ෂර්ට් අත කොට කිරීම", 450, "1 day"),
    ("Saree fall and pico", "සාරි ෆෝල් සහ පිකෝ", 700, "2 days"),
    ("Blouse fitting", "බ්ලවුස් එක හැඩ කිරීම", 650, "2 days"),
]


def write(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "Alterations"
    sheet.append((TITLE,))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    workbook.save(path)
    return path


if __name__ == "__main__":
    write(Path(__file__).with_name("alterations.xlsx"))
