"""Which language a customer message is in: script first, then the Latin n-gram model."""

from dataclasses import dataclass
from enum import StrEnum

from katha.lang.latin_model import LatinModel, latin_words, load_latin_model, softmax3
from katha.lang.script import count_letters


class Language(StrEnum):
    """The language of a message, as the router, agent and index record it."""

    SINHALA = "si"
    TAMIL = "ta"
    ENGLISH = "en"
    SINGLISH = "singlish"
    TANGLISH = "tanglish"
    MIXED = "mixed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Detection:
    """A language and how sure the detector is of it, from 0 to 1."""

    language: Language
    confidence: float


_LATIN_CLASSES = (Language.ENGLISH, Language.SINGLISH, Language.TANGLISH)
# Up to this many words a message ("ok", "epa", "kiyada?") says too little on its own.
SHORT_MESSAGE_WORDS = 2
# Below this confidence a short message keeps the conversation's language. On the tuning
# split, 0.8 keeps 98.8 % of 1-2-word messages in the right conversation language and
# still follows 86 % of switches; 0.9 trades switches for staying (99.4 % / 77 %).
SHORT_MESSAGE_CONFIDENCE = 0.8
# What a message that says nothing by itself inherits from the conversation.
CARRIED_CONFIDENCE = 0.5
# A minority script with fewer letters than this is a stray character, not a second language.
_MIXED_MIN_LETTERS = 2
_MIXED_MIN_SHARE = 0.1


def detect_language(text: str, previous: Language | str | None = None) -> Detection:
    """Identify the language of one message.

    Sinhala and Tamil are decided by script (Sinhala with a few English words in Latin
    letters is still `si`; Sinhala and Tamil together are `mixed`). Latin text goes to
    the n-gram model; English sentences carrying Singlish words count as Singlish. Short
    or letterless messages keep `previous`, the conversation's language, when the
    evidence is weak; without it they get the best guess at its honest confidence.
    `previous` must be a `Language` or one of its values (ValueError otherwise).
    """
    prior = Language(previous) if previous is not None else None
    letters = count_letters(text)
    if letters.sinhala or letters.tamil:
        return _by_script(letters.sinhala, letters.tamil, letters.latin)
    words = latin_words(text) if letters.latin else []
    if not words:
        if prior is not None and prior is not Language.UNKNOWN:
            return Detection(prior, CARRIED_CONFIDENCE)
        return Detection(Language.UNKNOWN, 1.0 if not letters.other else 0.5)
    detection = detect_latin(words, load_latin_model())
    if (
        prior is not None
        and prior is not Language.UNKNOWN
        and len(text.split()) <= SHORT_MESSAGE_WORDS
        and detection.confidence < SHORT_MESSAGE_CONFIDENCE
    ):
        return Detection(prior, CARRIED_CONFIDENCE)
    return detection


def _by_script(sinhala: int, tamil: int, latin: int) -> Detection:
    minority, majority = sorted((sinhala, tamil))
    if minority >= _MIXED_MIN_LETTERS and minority >= _MIXED_MIN_SHARE * majority:
        return Detection(Language.MIXED, 1.0)
    language = Language.SINHALA if sinhala > tamil else Language.TAMIL
    native_share = majority / (majority + minority + latin)
    # English words inside native-script text are routine ("order එක cancel කරන්න").
    return Detection(language, round(0.5 + 0.5 * min(1.0, 2 * native_share), 4))


def detect_latin(words: list[str], model: LatinModel) -> Detection:
    """English, Singlish or Tanglish for the lower-cased Latin words of a message."""
    singlish = tanglish = 0.0
    per_word = [model.word_scores(word) for word in words]
    for word_singlish, word_tanglish in per_word:
        singlish += word_singlish
        tanglish += word_tanglish
    scale = model.temperature
    probabilities = softmax3(0.0, singlish * scale, tanglish * scale)
    best = max(range(3), key=probabilities.__getitem__)
    if best == 0:
        mixed = _code_mixed(per_word, model)
        if mixed is not None:
            return mixed
    return Detection(_LATIN_CLASSES[best], round(probabilities[best], 4))


def _code_mixed(per_word: list[tuple[float, float]], model: LatinModel) -> Detection | None:
    """Singlish (or Tanglish) when enough words are clearly not English ("order eka").

    The confidence grows with the share of such words, from 0.5 (a coin toss between
    "English with a borrowed word" and "Singlish with English nouns") upwards.
    """
    singlish_words = sum(1 for s, t in per_word if s > model.codemix_margin and s >= t)
    tanglish_words = sum(1 for s, t in per_word if t > model.codemix_margin and t > s)
    if singlish_words >= tanglish_words:
        count, language = singlish_words, Language.SINGLISH
    else:
        count, language = tanglish_words, Language.TANGLISH
    if not count or count < model.codemix_share * len(per_word):
        return None
    return Detection(language, round(0.5 + 0.5 * count / len(per_word), 4))
