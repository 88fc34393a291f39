from dataclasses import FrozenInstanceError

import pytest

from katha.lang import Detection, Language, detect_language
from katha.lang.script import count_letters

SENTENCE_TARGETS = {"si": 99.0, "ta": 99.0, "en": 99.0, "singlish": 97.0}
SHORT_TARGET = 90.0


def accuracy(messages: list[str], truth: str, previous: str | None = None) -> float:
    hits = sum(
        detect_language(message, previous=previous).language == truth for message in messages
    )
    return 100 * hits / len(messages)


def first_words(sentences: list[str], count: int) -> list[str]:
    """The first `count` words of each sentence, where they hold any letters."""
    cuts = (" ".join(sentence.split()[:count]) for sentence in sentences)
    return [cut for cut in cuts if sum(count_letters(cut)[:3])]


@pytest.fixture(scope="module")
def sentences(held_out) -> dict[str, list[str]]:
    by_language = dict(held_out.sentences)
    by_language["si"] = by_language["si"] + by_language.pop("si_dakshina")
    return by_language


@pytest.mark.parametrize(("language", "target"), SENTENCE_TARGETS.items())
def test_held_out_sentences_meet_the_target(sentences, language: str, target: float) -> None:
    assert len(sentences[language]) > 500
    assert accuracy(sentences[language], language) >= target


def test_held_out_tanglish_sentences_are_recognised(sentences) -> None:
    assert accuracy(sentences["tanglish"], "tanglish") >= 97.0


@pytest.mark.parametrize("words", [1, 2])
def test_short_messages_without_history_meet_the_target(sentences, words: int) -> None:
    per_language = [
        accuracy(first_words(sentences[language], words), language)
        for language in ("si", "ta", "en", "singlish", "tanglish")
    ]
    assert sum(per_language) / len(per_language) >= SHORT_TARGET


@pytest.mark.parametrize("words", [1, 2])
@pytest.mark.parametrize("language", ["si", "ta", "en", "singlish", "tanglish"])
def test_short_messages_in_a_conversation_meet_the_target_per_language(
    sentences, language: str, words: int
) -> None:
    messages = first_words(sentences[language], words)
    assert accuracy(messages, language, previous=language) >= SHORT_TARGET


def test_sinhala_script_is_sinhala() -> None:
    assert detect_language("ඔබේ කඩේ කීයටද අරින්නේ?") == Detection(Language.SINHALA, 1.0)


def test_sinhala_with_english_words_is_sinhala() -> None:
    detection = detect_language("මට order එක cancel කරන්න")
    assert detection.language is Language.SINHALA
    assert 0.5 < detection.confidence < 1.0


def test_tamil_script_is_tamil() -> None:
    assert detect_language("உங்கள் கடை எப்போது திறக்கும்?").language is Language.TAMIL


def test_sinhala_and_tamil_together_are_mixed() -> None:
    assert detect_language("ස්තූතියි நன்றி").language is Language.MIXED


@pytest.mark.parametrize(
    "text",
    [
        "oyage kade kiyatada arinne",
        "mage order eka cancel karanna",
        "delivery charges kiyada?",
        "bus eka enne kiyatada",
    ],
)
def test_romanised_and_code_mixed_sinhala_is_singlish(text: str) -> None:
    assert detect_language(text).language is Language.SINGLISH


@pytest.mark.parametrize("text", ["unga kadai eppo thirakkum?", "enna vilai?", "vanakkam"])
def test_romanised_tamil_is_tanglish(text: str) -> None:
    assert detect_language(text).language is Language.TANGLISH


@pytest.mark.parametrize(
    "text", ["What time do you open tomorrow?", "Can I get a refund for my order"]
)
def test_english_is_english(text: str) -> None:
    detection = detect_language(text)
    assert detection.language is Language.ENGLISH
    assert detection.confidence > 0.9


@pytest.mark.parametrize("text", ["👍", "🙏🙏", "123", "?!", ""])
def test_messages_without_letters_are_unknown_without_history(text: str) -> None:
    assert detect_language(text).language is Language.UNKNOWN


@pytest.mark.parametrize("previous", list(Language)[:-1])
def test_messages_without_letters_keep_the_conversation_language(previous: Language) -> None:
    assert detect_language("👍", previous=previous).language is previous


def test_unsure_short_message_keeps_the_conversation_language() -> None:
    alone = detect_language("ok")
    assert alone.confidence < 0.9
    assert detect_language("ok", previous="singlish").language is Language.SINGLISH
    assert detect_language("ok", previous=Language.ENGLISH).language is Language.ENGLISH


def test_long_message_does_not_follow_the_conversation_language() -> None:
    text = "mage order eka cancel karanna puluwanda"
    assert detect_language(text, previous="en").language is Language.SINGLISH


def test_detection_is_immutable() -> None:
    detection = detect_language("hello there")
    with pytest.raises(FrozenInstanceError):
        detection.language = Language.SINHALA  # type: ignore[misc]


def test_language_values_are_the_wire_codes() -> None:
    assert [language.value for language in Language] == [
        "si", "ta", "en", "singlish", "tanglish", "mixed", "unknown"
    ]  # fmt: skip
