"""Function words: what full-text search leaves out of a question, per language."""

import pytest

from katha.lang.function_words import content_words, is_function_word


@pytest.mark.parametrize(
    ("question", "language", "content"),
    [
        ("butter cake eka kiyada?", "singlish", "butter cake"),
        ("Butter cake ekak thiyanawada", "singlish", "Butter cake"),
        ("card eken gewanna puluwanda?", "singlish", "card gewanna"),
        ("Is there parking for my car?", "en", "parking car?"),
        ("How much is the delivery charge?", "en", "delivery charge?"),
        ("බටර් කේක් එකක් කීයද?", "si", "බටර් කේක්"),
    ],
)
def test_a_question_keeps_only_the_words_that_say_what_it_is_about(
    question: str, language: str, content: str
) -> None:
    assert content_words(question, language) == content


def test_spelling_variants_of_a_singlish_particle_are_all_grammar() -> None:
    for typed in ("thiyenawada", "tiyenavada", "thiyanawada?", "Puluwanda", "kiyada?"):
        assert is_function_word(typed, "singlish")
    assert not is_function_word("delivery", "singlish")
    assert not is_function_word("welawa", "singlish")  # "time": a topic, not grammar


def test_english_grammar_is_a_topic_word_in_a_sinhala_message() -> None:
    # Only Singlish borrows English grammar words into the lists it is read against.
    assert is_function_word("the", "en")
    assert not is_function_word("the", "si")


def test_a_question_of_nothing_but_grammar_keeps_its_question_word() -> None:
    assert content_words("oyala koheda thiyenne", "singlish") == "koheda"
    assert content_words("where is it?", "en") == "where"


def test_languages_without_a_list_are_left_as_they_are() -> None:
    assert content_words("kadai eppo thirakkum?", "tanglish") == "kadai eppo thirakkum?"
