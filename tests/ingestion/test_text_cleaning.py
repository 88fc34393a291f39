"""Every indexed text is normalised; Sinhala and Tamil ones also get a romanised copy."""

from ingestion.text_cleaning import clean_text, language_of, romanized_copy


def test_legacy_sinhala_spellings_and_invisible_characters_are_repaired() -> None:
    text = "ශ් රී\u200b ලංකාව\x07\r\n\r\n\r\nකොත්තු   රසයි"
    assert clean_text(text) == "ශ්\u200dරී ලංකාව\n\nකොත්තු රසයි"


def test_sinhala_and_tamil_chunks_get_a_folded_romanised_copy() -> None:
    assert romanized_copy("චිකන් කොත්තු", language_of("චිකන් කොත්තු")) == "kikan kotu"
    assert romanized_copy("டெலிவரி உண்டு", "ta") == "deliwari undu"


def test_singlish_chunks_get_their_spelling_folded() -> None:
    text = "Ow, Havelock Road idan km 5k athulata deliver karanawa."
    assert language_of(text) == "singlish"
    assert romanized_copy(text, "singlish") == "ow hawelok road idan km 5k atulata deliwer karanawa"


def test_english_chunks_get_no_romanised_copy() -> None:
    text = "Chicken kottu is Rs. 1,200."
    assert language_of(text) == "en"
    assert romanized_copy(text, language_of(text)) == ""
