"""PDF text layers become page documents; tables stay readable; scans are reported, not indexed."""

from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.documents import BlockKind
from ingestion.errors import SourceError
from ingestion.loaders.pdf import load_pdf

MENU = [
    [
        "Ceylon Spice Kitchen",
        "චිකන් කොත්තු අපේ විශේෂ කෑමයි. ශ්‍රී ලංකාවේ රසම කොත්තු.",
        ("Item", "Price"),
        ("Chicken Kottu", "Rs. 1,200"),
        ("එළවළු කොත්තු", "Rs. 900"),
    ],
    None,
    ["நாங்கள் ஐந்து கிலோமீட்டருக்குள் டெலிவரி செய்கிறோம்."],
]


def test_pages_come_in_order_with_their_page_numbers(
    tmp_path: Path, make_pdf: Callable[..., Path]
) -> None:
    loaded = load_pdf(make_pdf(tmp_path / "menu.pdf", MENU, title="Menu").read_bytes(), "file:m")
    assert [document.locator for document in loaded.documents] == ["page 1", "page 3"]
    assert [document.language for document in loaded.documents] == ["si", "ta"]
    assert loaded.documents[0].title == "Menu"


def test_sinhala_conjuncts_survive_the_text_layer(
    tmp_path: Path, make_pdf: Callable[..., Path]
) -> None:
    loaded = load_pdf(make_pdf(tmp_path / "menu.pdf", MENU).read_bytes(), "file:m")
    assert "ශ්\u200dරී ලංකාවේ රසම කොත්තු" in loaded.documents[0].text


def test_table_rows_keep_their_columns_apart(tmp_path: Path, make_pdf: Callable[..., Path]) -> None:
    loaded = load_pdf(make_pdf(tmp_path / "menu.pdf", MENU).read_bytes(), "file:m")
    rows = [block.text for block in loaded.documents[0].blocks if block.kind is BlockKind.TABLE_ROW]
    assert rows == ["Item | Price", "Chicken Kottu | Rs. 1,200", "එළවළු කොත්තු | Rs. 900"]


def test_a_page_without_text_layer_is_reported_as_needing_ocr(
    tmp_path: Path, make_pdf: Callable[..., Path]
) -> None:
    loaded = load_pdf(make_pdf(tmp_path / "menu.pdf", MENU).read_bytes(), "file:m")
    assert loaded.skipped == ["page 2: no text layer, needs OCR"]


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n garbage", b"PK\x03\x04 not a pdf"])
def test_a_corrupt_pdf_is_a_source_error(data: bytes) -> None:
    with pytest.raises(SourceError, match="not a readable PDF"):
        load_pdf(data, "file:broken.pdf")


# Vowel signs ෝ ො ් ෙ ේ ෛ ු ූ and the ් + ZWJ + ර conjunct, each line ending in a Latin
# run drawn as a separate text object: wide signs (ෝ) reach into that neighbour's box.
VOWEL_SIGN_LINES = [
    "කිලෝ 1",
    "එළවළු බෝංචි 2",
    "කොත්තු 3",
    "කෙසෙල් 4",
    "ගෙදර යන්නේ 5",
    "සෛලය 6",
    "ශ්\u200dරී ලංකා 7",
    "ප්\u200dරමාණය 8",
    "කුකුළු 9",
    "සූප් 10",
    "කෝපි Kg",
]


def test_sinhala_vowel_signs_come_out_once_and_in_order(
    tmp_path: Path, make_pdf: Callable[..., Path]
) -> None:
    pdf = make_pdf(tmp_path / "words.pdf", [[*VOWEL_SIGN_LINES, ("බෝතලය", "Rs. 350")]])
    loaded = load_pdf(pdf.read_bytes(), "file:words.pdf")
    blocks = [(block.kind, block.text) for block in loaded.documents[0].blocks]
    assert blocks == [
        (BlockKind.PARAGRAPH, " ".join(VOWEL_SIGN_LINES)),
        (BlockKind.TABLE_ROW, "බෝතලය | Rs. 350"),
    ]


def test_runs_split_by_a_font_change_are_joined_without_a_stray_space() -> None:
    """The bundled bakery menu sets Sinhala in Noto Sans Sinhala and its full stops, commas
    and digits in a Latin font: one word, several text objects."""
    menu = Path(__file__).resolve().parents[2] / "examples" / "kandy-bakery" / "menu.pdf"
    loaded = load_pdf(menu.read_bytes(), menu.as_uri())
    texts = [block.text for document in loaded.documents for block in document.blocks]
    assert "බටර් කේක් කිලෝ 1 | රු. 2,800" in texts
    assert any(text.startswith("සෙංකඩගල බේකරිය, මහනුවර - ") for text in texts)
    assert "Butter cake, 1 kg | Rs. 2,800" in texts
    assert not any(" ." in text or " ," in text for text in texts)
