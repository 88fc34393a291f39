"""The character n-gram naive Bayes model that tells English, Singlish and Tanglish apart."""

import gzip
import json
import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any, Final

WEIGHTS_FILE: Final = "latin_ngrams.json.gz"
CLASSES: Final = ("en", "singlish", "tanglish")
MAX_ORDER: Final = 5
_WORD = re.compile(r"[a-z]+")


def latin_words(text: str) -> list[str]:
    """Lower-cased runs of ASCII letters: the units the model scores."""
    return _WORD.findall(text.lower())


def word_ngrams(word: str) -> list[str]:
    """Character 1..MAX_ORDER-grams of a word padded with spaces, so edges are features."""
    padded = f" {word} "
    grams = list(word)
    for order in range(2, MAX_ORDER + 1):
        grams.extend(padded[i : i + order] for i in range(len(padded) - order + 1))
    return grams


@dataclass(frozen=True, eq=False)
class LatinModel:
    """Per-class log-probabilities of character n-grams, relative to English.

    `weights[g]` holds (log P(g|singlish) - log P(g|en), log P(g|tanglish) - log P(g|en));
    n-grams pruned at training time score `unseen`. Keeping only differences halves the
    file and the arithmetic, and the decision needs nothing else. Compared by identity
    (eq=False), which makes it hashable as the key of the per-word score cache.
    """

    weights: dict[str, tuple[float, float]]
    unseen: tuple[float, float]
    word_prior: tuple[float, float]
    temperature: float
    codemix_margin: float
    codemix_share: float

    def word_scores(self, word: str) -> tuple[float, float]:
        """Log-likelihood ratios (singlish vs en, tanglish vs en) of one word."""
        return _cached_word_scores(self, word)

    def _score(self, word: str) -> tuple[float, float]:
        singlish, tanglish = self.word_prior
        weights, unseen = self.weights, self.unseen
        for gram in word_ngrams(word):
            pair = weights.get(gram, unseen)
            singlish += pair[0]
            tanglish += pair[1]
        return singlish, tanglish


@lru_cache(maxsize=65536)
def _cached_word_scores(model: LatinModel, word: str) -> tuple[float, float]:
    # Customers reuse a small vocabulary, so most words are scored once per process.
    return model._score(word)


def clear_word_cache() -> None:
    """Forget scored words (for benchmarks that must not profit from earlier runs)."""
    _cached_word_scores.cache_clear()


@cache
def load_latin_model() -> LatinModel:
    """Read the shipped weights once, on first use."""
    raw = files("katha.lang").joinpath("data").joinpath(WEIGHTS_FILE).read_bytes()
    return model_from_payload(json.loads(gzip.decompress(raw)))


def model_from_payload(payload: dict[str, Any]) -> LatinModel:
    """Build the model from the JSON document that scripts/train_langid.py writes."""
    scale = float(payload["scale"])
    weights = {
        gram: (singlish * scale, tanglish * scale)
        for gram, (singlish, tanglish) in payload["ngrams"].items()
    }
    unseen, prior = payload["unseen"], payload["word_prior"]
    return LatinModel(
        weights=weights,
        unseen=(float(unseen[0]), float(unseen[1])),
        word_prior=(float(prior[0]), float(prior[1])),
        temperature=float(payload["temperature"]),
        codemix_margin=float(payload["codemix_margin"]),
        codemix_share=float(payload["codemix_share"]),
    )


def softmax3(en: float, singlish: float, tanglish: float) -> tuple[float, float, float]:
    top = max(en, singlish, tanglish)
    exps = (math.exp(en - top), math.exp(singlish - top), math.exp(tanglish - top))
    total = sum(exps)
    return exps[0] / total, exps[1] / total, exps[2] / total
