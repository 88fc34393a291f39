"""Spreadsheets (xlsx, csv): headers found, merged header rows combined, one document per row."""

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from zipfile import BadZipFile

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from ingestion.documents import Block, BlockKind, Document, Loaded
from ingestion.errors import FailureReason, SourceError
from ingestion.text_cleaning import clean_line, language_of

# Headers are looked for in the first rows only; below that everything is data.
_HEADER_SEARCH_ROWS = 10


class Grid:
    """A sheet as text cells, with each merged range's value spread over the columns it spans."""

    def __init__(self, name: str, rows: list[list[str]], merged_across: set[int]) -> None:
        self.name = name
        self.rows = rows
        self.merged_across = merged_across  # row indexes holding a cell merged over columns


def load_spreadsheet(data: bytes, filename: str, source_uri: str, sheets: Sequence[str]) -> Loaded:
    """One document per data row, "Column: value | Column: value", under its section heading."""
    if filename.lower().endswith((".csv", ".tsv", ".txt")):
        grids = [_csv_grid(data, filename)]
        skipped: list[str] = []
    else:
        grids, skipped = _xlsx_grids(data, sheets)
    documents: list[Document] = []
    for grid in grids:
        documents.extend(_row_documents(grid, source_uri))
    return Loaded(documents, skipped)


def _xlsx_grids(data: bytes, wanted: Sequence[str]) -> tuple[list[Grid], list[str]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as error:
        message = f"not a readable xlsx workbook ({error})"
        raise SourceError(message, FailureReason.CORRUPT) from error
    names = list(wanted) or workbook.sheetnames
    missing = [f"sheet {name!r}: not in the workbook" for name in names if name not in workbook]
    grids = [
        _sheet_grid(sheet)
        for name in names
        if name in workbook and isinstance(sheet := workbook[name], Worksheet)
    ]
    return grids, missing


def _sheet_grid(sheet: Worksheet) -> Grid:
    rows = [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    merged_across: set[int] = set()
    for merged in sheet.merged_cells.ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        value = rows[top][left] if top < len(rows) and left < len(rows[top]) else ""
        if merged.max_col > merged.min_col:
            merged_across.update(range(top, merged.max_row))
        for row in range(top, min(merged.max_row, len(rows))):
            for column in range(left, min(merged.max_col, len(rows[row]))):
                rows[row][column] = value
    return Grid(sheet.title, rows, merged_across)


def _csv_grid(data: bytes, filename: str) -> Grid:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [[clean_line(cell) for cell in row] for row in csv.reader(io.StringIO(text), dialect)]
    return Grid(filename.rsplit("/", 1)[-1], rows, set())


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return clean_line(str(value))


def _row_documents(grid: Grid, source_uri: str) -> list[Document]:
    header_start, header_end = _header_rows(grid)
    if header_start is None:
        return []
    columns = _column_names(grid.rows[header_start:header_end])
    if header_end == len(grid.rows):
        # Nothing below the "header": it was a lone data row ("Delivery | Free within 5 km").
        columns, header_end = [""] * len(columns), header_start
    titles = [title for row in grid.rows[:header_start] if (title := _only_value(row))]
    title = " · ".join([grid.name, *titles])
    section = ""
    documents = []
    for index in range(header_end, len(grid.rows)):
        row = grid.rows[index]
        label = _only_value(row)
        if label is not None and len(columns) > 1:
            section = label  # "Rice & Curry": a row naming the group below it
            continue
        cells = [
            f"{name}: {value}" if name else value
            for name, value in zip(columns, row, strict=False)
            if value
        ]
        if not cells:
            continue
        text = " | ".join(cells)
        blocks = (Block(BlockKind.HEADING, section),) if section else ()
        documents.append(
            Document(
                source_uri,
                f"sheet {grid.name} row {index + 1}",
                title,
                language_of(text),
                (*blocks, Block(BlockKind.TABLE_ROW, text)),
            )
        )
    return documents


def _header_rows(grid: Grid) -> tuple[int | None, int]:
    """The header: the first row with two or more labels, plus rows under a merged label."""
    for start, row in enumerate(grid.rows[:_HEADER_SEARCH_ROWS]):
        if len({value for value in row if value}) >= 2:
            end = start + 1
            while (
                end - 1 in grid.merged_across and end < len(grid.rows) and _all_text(grid.rows[end])
            ):
                end += 1
            return start, end
    return None, 0


def _column_names(header: list[list[str]]) -> list[str]:
    width = max(len(row) for row in header)
    names = []
    for column in range(width):
        parts: list[str] = []
        for row in header:
            value = row[column] if column < len(row) else ""
            if value and value not in parts:
                parts.append(value)
        names.append(" ".join(parts))
    return names


def _only_value(row: list[str]) -> str | None:
    values = {value for value in row if value}
    return values.pop() if len(values) == 1 else None


def _all_text(row: list[str]) -> bool:
    values = [value for value in row if value]
    return bool(values) and not any(_is_number(value) for value in values)


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True
