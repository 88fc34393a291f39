"""Everyday shop words across English, Sinhala, Singlish and Tamil, and Tamil grammar words."""

from katha.lang.concepts import concept_of, join_phrases, same_meaning
from katha.lang.function_words import content_words


def test_a_singlish_word_meets_the_formal_sinhala_and_english_words() -> None:
    assert concept_of("arinne") == concept_of("විවෘත") == concept_of("open")
    assert concept_of("ඩිලිවරි") == concept_of("delivery") == concept_of("டெலிவரி")
    assert "deliver" in same_meaning("டெலிவரி")


def test_two_words_can_be_one_meaning_where_each_alone_is_not() -> None:
    # "gedarata genath" is "bring it home": delivery; "gedarata" alone is "to the house".
    assert join_phrases(["gedarata", "genath"]) == ["gedarata_genath"]
    assert join_phrases(["ගෙදරට", "ගෙනත්"]) == ["ගෙදරට_ගෙනත්"]
    assert concept_of("gedarata_genath") == concept_of("delivery")
    assert concept_of("gedarata") is None
    assert join_phrases(["minum", "gedarata"]) == ["minum", "gedarata"]


def test_days_and_words_for_time_meet_in_every_language() -> None:
    assert concept_of("irida") == concept_of("Sunday") == concept_of("ඉරිදා") == concept_of("ஞாயிறு")
    assert concept_of("senasurada") == concept_of("saturday")
    assert concept_of("peya") == concept_of("පැය") == concept_of("hour")
    assert concept_of("dawas") == concept_of("days")
    assert concept_of("sunday") != concept_of("monday")


def test_inflected_forms_meet_their_stem_but_unrelated_words_do_not() -> None:
    assert concept_of("ඩිලිවරිය") == concept_of("delivery")
    assert concept_of("arinawada") == concept_of("open")
    assert concept_of("cake") is None
    assert concept_of("wahana") is None  # "vehicle", not "close"
    assert same_meaning("pizza") == ()


def test_tamil_questions_keep_only_what_they_ask_about() -> None:
    assert content_words("நீங்கள் டெலிவரி செய்கிறீர்களா?", "ta") == "டெலிவரி"
    assert content_words("டெலிவரி கட்டணம் எவ்வளவு?", "ta") == "டெலிவரி கட்டணம்"
    assert content_words("உங்கள் முகவரி என்ன?", "ta") == "முகவரி"
    assert content_words("எவ்வளவு?", "ta") == "எவ்வளவு?"  # a question word alone stays
