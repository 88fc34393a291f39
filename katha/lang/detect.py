"""Which language a customer message is in: script first, then the Latin n-gram model."""

import math
from dataclasses import dataclass

from katha.lang.codemix import clearly_foreign_words, english_frame
from katha.lang.languages import Language
from katha.lang.latin_model import LatinModel, latin_words, load_latin_model, softmax3
from katha.lang.script import count_letters


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
# No prior towards English for short messages without a conversation. We tried one
# (English unless another language is 1.25-2x as likely, since an English reply is read by
# every customer and a Singlish one is not): once the model had learnt our chat messages,
# it changed no chat message of the tuning split ("hi", "ok", "thanks" are English on the
# model's own evidence) and cost 1-word Singlish and Tanglish 1.4-4 points.

# A minority script with fewer letters than this is a stray character, not a second language.
_MIXED_MIN_LETTERS = 2
_MIXED_MIN_SHARE = 0.1


def detect_language(text: str, previous: Language | str | None = None) -> Detection:
    """Identify the language of one message.

    Sinhala and Tamil are decided by script (Sinhala with a few English words in Latin
    letters is still `si`; Sinhala and Tamil together are `mixed`). Latin text goes to
    the n-gram model; English sentences carrying more clearly Singlish (or Tanglish) words
    than English grammar words count as Singlish, and the other way round. Short
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
    """English, Singlish or Tanglish for the lower-cased Latin words of a message.

    The model's choice, unless the English grammar words and the clearly Sinhala or Tamil
    words say otherwise: see `_code_mixed` and `_english_frame`.
    """
    singlish = tanglish = 0.0
    per_word = [model.word_scores(word) for word in words]
    for word_singlish, word_tanglish in per_word:
        singlish += word_singlish
        tanglish += word_tanglish
    scale = model.temperature
    en, singlish_p, tanglish_p = softmax3(0.0, singlish * scale, tanglish * scale)
    if max(singlish_p, tanglish_p) > en:
        singlish_p, tanglish_p = _native_split(per_word, singlish_p + tanglish_p, scale)
    probabilities = (en, singlish_p, tanglish_p)
    best = max(range(3), key=probabilities.__getitem__)
    if best == 0:
        mixed = _code_mixed(words, per_word, model)
        return mixed or Detection(Language.ENGLISH, round(en, 4))
    framed = _english_frame(words, per_word, model)
    return framed or Detection(_LATIN_CLASSES[best], round(probabilities[best], 4))


def _english_frame(
    words: list[str], per_word: list[tuple[float, float]], model: LatinModel
) -> Detection | None:
    """English when its grammar words outnumber the clearly Sinhala or Tamil words.

    A long name the model never saw ("do you deliver to Anuradhapura") can outweigh a
    whole English sentence in the n-gram sums; the grammar words cannot be outweighed.
    The confidence grows with their share, as in `_code_mixed`.
    """
    frame = english_frame(words)
    if not frame or frame <= sum(clearly_foreign_words(per_word, model.codemix_margin)):
        return None
    return Detection(Language.ENGLISH, round(0.5 + 0.5 * frame / len(words), 4))


def _native_split(
    per_word: list[tuple[float, float]], native: float, scale: float
) -> tuple[float, float]:
    """Share the Singlish + Tanglish probability out by the words that look native.

    Sinhala and Tamil speakers borrow the same English words ("order", "confirm"), so
    those say nothing about which of the two a message is; left in, they favour whichever
    corpus happened to romanise more English.
    """
    lead = sum(s - t for s, t in per_word if max(s, t) > 0.0)
    singlish = native / (1.0 + math.exp(-max(-50.0, min(50.0, lead * scale))))
    return singlish, native - singlish


def _code_mixed(
    words: list[str], per_word: list[tuple[float, float]], model: LatinModel
) -> Detection | None:
    """Singlish (or Tanglish) when enough words are clearly not English ("order eka"),
    and they outnumber the English grammar words ("how much is the kottu" stays English).

    The confidence grows with the share of such words, from 0.5 (a coin toss between
    "English with a borrowed word" and "Singlish with English nouns") upwards.
    """
    singlish_words, tanglish_words = clearly_foreign_words(per_word, model.codemix_margin)
    if singlish_words >= tanglish_words:
        count, language = singlish_words, Language.SINGLISH
    else:
        count, language = tanglish_words, Language.TANGLISH
    if not count or count < model.codemix_share * len(per_word) or count <= english_frame(words):
        return None
    return Detection(language, round(0.5 + 0.5 * count / len(per_word), 4))
