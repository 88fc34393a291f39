"""Price lists: headers found under titles, merged header rows combined, one row per document."""

from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.errors import SourceError
from ingestion.loaders.spreadsheet import load_spreadsheet


def test_each_row_keeps_its_column_names_from_merged_headers(
    tmp_path: Path, make_price_list: Callable[[Path], Path]
) -> None:
    data = make_price_list(tmp_path / "prices.xlsx").read_bytes()
    loaded = load_spreadsheet(data, "prices.xlsx", "file:prices.xlsx", ["Prices"])
    assert [document.text for document in loaded.documents] == [
        "Kottu\n\nItem: Chicken Kottu | Price (Rs.) Small: 1200 | Price (Rs.) Large: 1800",
        "Kottu\n\nItem: එළවළු කොත්තු | Price (Rs.) Small: 900 | Price (Rs.) Large: 1400",
        "Rice & Curry\n\nItem: Fish Rice & Curry | Price (Rs.) Small: 850",
    ]


def test_rows_are_located_by_sheet_and_row_and_titled_by_the_sheet(
    tmp_path: Path, make_price_list: Callable[[Path], Path]
) -> None:
    data = make_price_list(tmp_path / "prices.xlsx").read_bytes()
    loaded = load_spreadsheet(data, "prices.xlsx", "file:prices.xlsx", [])
    first = loaded.documents[0]
    assert first.locator == "sheet Prices row 5"
    assert first.title == "Prices · Ceylon Spice Kitchen price list"
    assert loaded.documents[1].language == "si"
    assert loaded.documents[-1].locator == "sheet Notes row 1"
    assert loaded.documents[-1].text == "Delivery | Free within 5 km"


def test_a_missing_sheet_is_noted_and_the_others_still_load(
    tmp_path: Path, make_price_list: Callable[[Path], Path]
) -> None:
    data = make_price_list(tmp_path / "prices.xlsx").read_bytes()
    loaded = load_spreadsheet(data, "prices.xlsx", "file:p", ["Prices", "Stock"])
    assert loaded.skipped == ["sheet 'Stock': not in the workbook"]
    assert len(loaded.documents) == 3


def test_csv_rows_keep_their_column_names() -> None:
    data = 'Item,Price\nChicken Kottu,"Rs. 1,200"\nකිරි තේ,Rs. 150\n'.encode()
    loaded = load_spreadsheet(data, "prices.csv", "file:prices.csv", [])
    assert [document.text for document in loaded.documents] == [
        "Item: Chicken Kottu | Price: Rs. 1,200",
        "Item: කිරි තේ | Price: Rs. 150",
    ]
    assert loaded.documents[1].locator == "sheet prices.csv row 3"


def test_a_corrupt_workbook_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="not a readable xlsx"):
        load_spreadsheet(b"PK\x03\x04broken", "prices.xlsx", "file:p", [])
