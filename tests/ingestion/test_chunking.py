"""Chunks follow structure, stay within the size bound, overlap, and never split a letter."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.chunking import ChunkingPolicy, chunk_document
from ingestion.documents import Block, BlockKind, Document
from ingestion.graphemes import is_boundary

SINHALA_SENTENCE = "ශ්‍රී ලංකාවේ රසම චිකන් කොත්තු අපේ කඩේ තියෙනවා. "


def _document(*blocks: Block) -> Document:
    return Document("file:x", "page 1", "x", "si", blocks)


def _heading(text: str, level: int = 2) -> Block:
    return Block(BlockKind.HEADING, text, level)


def _paragraph(text: str) -> Block:
    return Block(BlockKind.PARAGRAPH, text)


def test_a_short_document_is_one_chunk_with_its_heading() -> None:
    chunks = chunk_document(
        _document(_heading("Delivery"), _paragraph("We deliver within 5 km.")), ChunkingPolicy()
    )
    assert chunks == ["Delivery\nWe deliver within 5 km."]


def test_a_long_section_repeats_its_heading_on_every_chunk() -> None:
    policy = ChunkingPolicy(max_chars=200, overlap=40)
    chunks = chunk_document(_document(_heading("Kottu"), _paragraph(SINHALA_SENTENCE * 12)), policy)
    assert len(chunks) > 2
    assert all(chunk.startswith("Kottu\n") and len(chunk) <= 200 for chunk in chunks)


def test_consecutive_prose_chunks_overlap() -> None:
    policy = ChunkingPolicy(max_chars=200, overlap=40)
    paragraphs = [_paragraph(f"Sentence number {n} about our rice and curry.") for n in range(12)]
    chunks = chunk_document(_document(*paragraphs), policy)
    for before, after in itertools.pairwise(chunks):
        assert after.split("\n")[0] in before


def test_table_rows_are_never_split_or_overlapped() -> None:
    rows = [Block(BlockKind.TABLE_ROW, f"Item: Dish {n} | Price: Rs. {n}00") for n in range(30)]
    chunks = chunk_document(_document(*rows), ChunkingPolicy(max_chars=200, overlap=40))
    lines = [line for chunk in chunks for line in chunk.split("\n")]
    assert lines == [row.text for row in rows]


def test_a_new_sizeable_section_starts_a_new_chunk() -> None:
    body = ("Our kitchen opens at eleven and closes at ten every day of the week. " * 2).strip()
    document = _document(
        _heading("Hours"), _paragraph(body), _heading("Delivery"), _paragraph("5 km.")
    )
    chunks = chunk_document(document, ChunkingPolicy(max_chars=400, overlap=40))
    assert chunks == [f"Hours\n{body}", "Delivery\n5 km."]


def test_tiny_sections_share_a_chunk() -> None:
    document = _document(
        _heading("Hours"), _paragraph("11 to 10."), _heading("Delivery"), _paragraph("5 km.")
    )
    assert chunk_document(document, ChunkingPolicy()) == ["Hours\n11 to 10.\nDelivery\n5 km."]


def _occurrences(text: str, piece: str) -> list[int]:
    found, start = [], text.find(piece)
    while start != -1:
        found.append(start)
        start = text.find(piece, start + 1)
    return found


_SINHALA_TEXT = st.lists(
    st.sampled_from([*"කගචජතදනපබමයරලවසහළ ාිීුූෙේොෝ්ංඃ.", "\u200d", "ශ්\u200dරී", "ක්\u200dෂ"]),
    min_size=1,
    max_size=300,
).map(lambda parts: " ".join("".join(parts).split()))


@settings(max_examples=150, deadline=None)
@given(st.lists(_SINHALA_TEXT, min_size=1, max_size=6), st.integers(60, 300))
def test_chunks_stay_in_bound_and_never_cut_a_grapheme_cluster(
    paragraphs: list[str], max_chars: int
) -> None:
    paragraphs = [text for text in paragraphs if text]
    policy = ChunkingPolicy(max_chars=max_chars, overlap=max_chars // 5)
    for chunk in chunk_document(_document(*map(_paragraph, paragraphs)), policy):
        assert len(chunk) <= max_chars
        for piece in chunk.split("\n"):
            # Each piece is a stretch of one paragraph that starts and ends between clusters
            # (somewhere: the same letters may also sit inside a longer cluster elsewhere).
            assert any(
                is_boundary(text, start) and is_boundary(text, start + len(piece))
                for text in paragraphs
                for start in _occurrences(text, piece)
            ), piece
