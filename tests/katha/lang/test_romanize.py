import pytest
from hypothesis import given
from hypothesis import strategies as st

from katha.lang import fold_romanized, normalize, romanize


@pytest.mark.parametrize(
    ("native", "typed"),
    [
        ("කොහොමද", "kohomada"),
        ("තියෙනවා", "thiyenawa"),
        ("එකක්", "ekak"),
        ("කරන්න", "karanna"),
        ("මගේ", "mage"),
        ("කීයද", "kiyada"),
        ("ඔබේ කඩේ කීයටද අරින්නේ?", "obe kade kiyatada arinne?"),
        ("ශ්\u200dරී ලංකාව", "shri lankawa"),
        ("ප්\u200dරමාණය", "pramanaya"),
        ("வணக்கம்", "vanakkam"),
        ("நன்றி", "nandri"),
        ("தங்கம்", "thangam"),
    ],
)
def test_romanize_spells_as_people_type(native: str, typed: str) -> None:
    assert romanize(native) == typed


def test_romanize_keeps_latin_digits_and_emoji() -> None:
    assert romanize("order එක 2ක් 👍") == "order eka 2k 👍"


@pytest.mark.parametrize(
    "variants",
    [
        ("thiyenawa", "tiyenava", "thiyennawa", "Thiyenawaa"),
        ("kohomada", "kohomadha"),
        ("vanakkam", "wanakam"),
        ("keeyada", "kiyada"),
    ],
)
def test_fold_makes_spelling_variants_meet(variants: tuple[str, ...]) -> None:
    assert len({fold_romanized(variant) for variant in variants}) == 1


def test_fold_keeps_different_words_apart() -> None:
    assert fold_romanized("gaha") != fold_romanized("kaha")
    assert fold_romanized("mage order eka") == "mage order eka"


@given(st.text(max_size=40))
def test_fold_is_idempotent(text: str) -> None:
    once = fold_romanized(text)
    assert fold_romanized(once) == once


sinhala_characters = st.characters(
    min_codepoint=0x0D80, max_codepoint=0x0DFF, exclude_categories=["Cn"]
)


@given(st.text(alphabet=st.one_of(sinhala_characters, st.sampled_from(" \u200d")), max_size=30))
def test_romanized_sinhala_is_all_latin(text: str) -> None:
    assert all(not ("\u0d80" <= char <= "\u0dff") for char in romanize(normalize(text)))


def test_romanization_agrees_with_annotators_on_held_out_words(bench, training) -> None:
    agreement = bench.romanize_agreement(training)
    sinhala_words, sinhala_top, _ = agreement["si"]
    tamil_words, _, tamil_any = agreement["ta"]
    assert sinhala_words > 2000
    assert sinhala_top >= 93.0
    assert tamil_words > 2000
    assert tamil_any >= 80.0


def test_singlish_questions_find_their_sinhala_passage(bench, training) -> None:
    recall, queries, _ = bench.recall_at_5(training, training.EVAL)
    assert queries > 500
    assert recall >= 95.0
