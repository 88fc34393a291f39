"""Replies longer than WhatsApp's 4,096 characters go out in parts cut at sentence ends."""

from router.split import MAX_TEXT, split_text


def test_short_text_is_one_part() -> None:
    assert split_text("  Hello there.  ") == ["Hello there."]
    assert split_text("") == []


def test_long_text_is_cut_at_sentence_ends() -> None:
    text = " ".join(f"Sentence number {n} ends here." for n in range(400))
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(part) <= MAX_TEXT for part in parts)
    assert all(part.endswith("ends here.") for part in parts)
    assert " ".join(parts) == text


def test_sinhala_and_question_marks_are_sentence_ends() -> None:
    text = "කොත්තු තියෙනවද? " * 400
    parts = split_text(text, limit=1000)
    assert all(len(part) <= 1000 and part.endswith("?") for part in parts)


def test_a_sentence_longer_than_the_limit_is_cut_at_spaces_or_hard() -> None:
    words = "word " * 3000
    assert all(len(part) <= MAX_TEXT for part in split_text(words))
    assert [len(part) for part in split_text("x" * 9000)] == [4096, 4096, 808]
