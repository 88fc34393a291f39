"""Train the English/Singlish/Tanglish character n-gram model shipped in katha/lang/data.

Reads ../shared/data (Dakshina, FLoRes; see its README for licences) and our own chat
messages in scripts/langid_chat, and writes only the learned weights. Every line, lexicon
word and chat message is assigned to one split by a CRC32 of a stable key, so the bench
and the tests can evaluate on slices this script never reads:

    .venv/bin/python scripts/train_langid.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data"
sys.path.insert(0, str(REPO))

from katha.lang.detect import detect_latin  # noqa: E402
from katha.lang.latin_model import (  # noqa: E402
    CLASSES,
    WEIGHTS_FILE,
    clear_word_cache,
    latin_words,
    model_from_payload,
    word_ngrams,
)

OUTPUT = REPO / "katha" / "lang" / "data" / WEIGHTS_FILE
CHAT = REPO / "scripts" / "langid_chat"
CHAT_FILES = {
    "en": "english_chat.txt",
    "singlish": "singlish_chat.txt",
    "tanglish": "tanglish_chat.txt",
}

# Split of every line, lexicon word and chat message: 0-1 evaluation (tests, bench),
# 2 tuning, 3-9 training.
EVAL, TUNE, TRAIN = "eval", "tune", "train"
ALPHA = 0.1
MIN_COUNT = 8
QUANTUM = 0.05  # log-ratio step stored in the file
# The share of each class's n-gram distribution that comes from our chat messages, the rest
# from Wikipedia-register text: P(g|c) = share * P_chat(g|c) + (1 - share) * P_wiki(g|c).
# A few hundred messages against tens of thousands of Wikipedia words would otherwise
# barely move the model.
CHAT_SHARES = (0.1, 0.2, 0.3, 0.5)


def split_of(key: str) -> str:
    bucket = zlib.crc32(key.encode("utf-8")) % 10
    if bucket < 2:
        return EVAL
    return TUNE if bucket == 2 else TRAIN


def read_lines(relative: str) -> list[str]:
    return (DATA / relative).read_text(encoding="utf-8").splitlines()


@dataclass(frozen=True)
class Corpora:
    """Sentences, lexicon words and chat messages of one split, by language label."""

    sentences: dict[str, list[str]]
    words: dict[str, list[str]]
    chat: dict[str, list[str]]


def load_split(split: str) -> Corpora:
    """Sentences of the split for si, ta, en, singlish, tanglish and lexicon words."""
    sentences: dict[str, list[str]] = {}
    pairs = {
        "en": ("flores_v1/wikipedia.dev.si-en.en", "flores"),
        "si": ("flores_v1/wikipedia.dev.si-en.si", "flores"),
        "si_dakshina": ("dakshina/si.romanized.rejoined.test.native.txt", "dakshina-si"),
        "singlish": ("dakshina/si.romanized.rejoined.test.roman.txt", "dakshina-si"),
        "ta": ("dakshina/ta.romanized.rejoined.test.native.txt", "dakshina-ta"),
        "tanglish": ("dakshina/ta.romanized.rejoined.test.roman.txt", "dakshina-ta"),
    }
    for label, (path, corpus) in pairs.items():
        # Keyed by corpus and line number so aligned files (native/roman, si/en) split alike.
        sentences[label] = [
            line
            for number, line in enumerate(read_lines(path))
            if line.strip() and split_of(f"{corpus}:{number}") == split
        ]
    words = {
        "singlish": lexicon_romanizations("dakshina/si.translit.sampled.train.tsv", split),
        "tanglish": lexicon_romanizations("dakshina/ta.translit.sampled.train.tsv", split),
    }
    return Corpora(sentences=sentences, words=words, chat=chat_messages(split))


def chat_messages(split: str) -> dict[str, list[str]]:
    """Our own customer messages (scripts/langid_chat), split by their text.

    Keyed by the text rather than the line number, so adding a message never moves another
    one between training and evaluation.
    """
    return {
        label: [
            line
            for line in (CHAT / name).read_text(encoding="utf-8").splitlines()
            if line.strip() and split_of(f"chat-{label}:{line}") == split
        ]
        for label, name in CHAT_FILES.items()
    }


def lexicon_rows(relative: str) -> list[tuple[str, str, int]]:
    rows = []
    for line in read_lines(relative):
        native, roman, count = line.split("\t")
        rows.append((native, roman, int(count)))
    return rows


def lexicon_romanizations(relative: str, split: str) -> list[str]:
    """Each annotator's spelling of the words whose native form falls in `split`."""
    return [
        roman
        for native, roman, count in lexicon_rows(relative)
        if split_of(native) == split
        for _ in range(count)
    ]


def count_ngrams(texts: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        for word in latin_words(text):
            counts.update(word_ngrams(word))
    return counts


def train(corpora: Corpora, chat_share: float) -> dict[str, object]:
    wiki = {
        "en": count_ngrams(corpora.sentences["en"]),
        "singlish": count_ngrams(corpora.sentences["singlish"] + corpora.words["singlish"]),
        "tanglish": count_ngrams(corpora.sentences["tanglish"] + corpora.words["tanglish"]),
    }
    per_class: dict[str, defaultdict[str, float]] = {}
    for label, counts in wiki.items():
        chat = count_ngrams(corpora.chat[label])
        # Scaled so that the chat counts make up `chat_share` of the class's total.
        weight = chat_share / (1 - chat_share) * counts.total() / chat.total()
        per_class[label] = defaultdict(float, counts)
        for gram, count in chat.items():
            per_class[label][gram] += weight * count
    vocabulary = set().union(*per_class.values())
    totals = {label: sum(counts.values()) for label, counts in per_class.items()}

    def log_p(label: str, gram: str) -> float:
        denominator = totals[label] + ALPHA * len(vocabulary)
        return math.log((per_class[label].get(gram, 0.0) + ALPHA) / denominator)

    ngrams: dict[str, list[int]] = {}
    for gram in sorted(vocabulary):
        if sum(counts.get(gram, 0.0) for counts in per_class.values()) < MIN_COUNT:
            continue
        base = log_p("en", gram)
        # Kept even at [0, 0]: a missing n-gram would score `unseen`, which is not neutral.
        ngrams[gram] = [round((log_p(label, gram) - base) / QUANTUM) for label in CLASSES[1:]]
    unseen = [log_p(label, "\0") - log_p("en", "\0") for label in CLASSES[1:]]
    return {"scale": QUANTUM, "unseen": unseen, "ngrams": ngrams}


def length_slices(sentence: str) -> list[str]:
    """The full sentence and its first 1, 2 and 3 words: how long messages are in chat."""
    words = sentence.split()
    return [sentence, *(" ".join(words[:n]) for n in (1, 2, 3))]


def code_mixed_samples(corpora: Corpora) -> list[str]:
    """Singlish sentences with every other word swapped for an English one.

    Chat Singlish borrows English nouns ("mage order eka cancel karanna"); such messages
    must stay Singlish, so the code-mix rule is tuned against these as well as against
    English sentences (which carry Sri Lankan names that look Singlish).
    """
    english = [word for line in corpora.sentences["en"] for word in line.split()]
    samples = []
    for index, line in enumerate(corpora.sentences["singlish"]):
        words = line.split()
        for position in range(1, len(words), 2):
            words[position] = english[(index * 7 + position) % len(english)]
        samples.append(" ".join(words))
    return samples


def tune(payload: dict[str, object], corpora: Corpora) -> dict[str, object]:
    """Pick the per-word priors, the temperature and the code-mix rule.

    Everything is chosen on the tuning split, where the Dakshina/FLoRes messages (cut to
    chat lengths) and our chat messages count half each: there are far fewer chat messages,
    and they are the register the detector serves.
    """
    labelled, chat = sliced_samples(corpora), chat_samples(corpora)
    mixed = [(message, "singlish") for message in code_mixed_samples(corpora)]
    english = [(message, label) for message, label in labelled + chat if label == "en"]

    def objective(candidate: dict[str, object]) -> float:
        return (accuracy(candidate, labelled) + accuracy(candidate, chat)) / 2

    # The priors and temperature are fitted under the previous release's code-mix rule.
    best = dict(payload, temperature=1.0, codemix_margin=30.0, codemix_share=0.2)
    grid = [-1.0, 0.0, 1.0, 2.0, 3.0]
    scored = [(objective(dict(best, word_prior=[a, b])), a, b) for a in grid for b in grid]
    _, singlish_prior, tanglish_prior = max(scored)
    best["word_prior"] = [singlish_prior, tanglish_prior]
    best["temperature"] = fit_temperature(best, labelled + chat)
    candidates = [
        (margin, share, dict(best, codemix_margin=margin, codemix_share=share))
        for margin in (5.0, 10.0, 15.0, 20.0, 30.0, 40.0)
        for share in (0.15, 0.2, 0.25, 1 / 3, 0.5)
    ]
    english_right = [accuracy(candidate, english) for _, _, candidate in candidates]
    # The rule may not cost a single English message of the tuning split that another
    # rule in the grid gets right.
    rules = [
        (accuracy(candidate, mixed) + accuracy(candidate, chat), margin, share)
        for (margin, share, candidate), right in zip(candidates, english_right, strict=True)
        if right == max(english_right)
    ]
    # Ties go to the larger margin and share: the more cautious rule.
    _, margin, share = max(rules)
    best.update(codemix_margin=margin, codemix_share=share)
    return best


def accuracy(payload: dict[str, object], samples: list[tuple[str, str]]) -> float:
    clear_word_cache()  # the cache would keep every candidate model alive
    model = model_from_payload(payload)
    hits = sum(
        detect_latin(latin_words(message), model).language == label for message, label in samples
    )
    return hits / len(samples)


def sliced_samples(corpora: Corpora) -> list[tuple[str, str]]:
    """The split's Latin sentences whole and cut to chat lengths, with their labels."""
    return [
        (message, label)
        for label in CLASSES
        for sentence in corpora.sentences[label]
        for message in length_slices(sentence)
        if latin_words(message)
    ]


def chat_samples(corpora: Corpora) -> list[tuple[str, str]]:
    """Our chat messages of the split with their labels, as a customer sends them."""
    return [
        (message, label)
        for label in CLASSES
        for message in corpora.chat[label]
        if latin_words(message)
    ]


def fit_temperature(payload: dict[str, object], samples: list[tuple[str, str]]) -> float:
    """The softmax temperature that minimises log loss, so confidences mean something."""
    scored = summed_scores(payload, samples)
    candidates = (0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.2, 0.3, 0.5, 1.0)
    return min(candidates, key=lambda temperature: log_loss(scored, temperature))


def summed_scores(
    payload: dict[str, object], samples: list[tuple[str, str]]
) -> list[tuple[tuple[float, float, float], int]]:
    """Each message's (en, singlish, tanglish) log-scores before the temperature, and its label."""
    clear_word_cache()
    model = model_from_payload(dict(payload, temperature=1.0))
    index = {label: position for position, label in enumerate(CLASSES)}
    scored = []
    for message, label in samples:
        singlish = tanglish = 0.0
        for word in latin_words(message):
            word_singlish, word_tanglish = model.word_scores(word)
            singlish += word_singlish
            tanglish += word_tanglish
        scored.append(((0.0, singlish, tanglish), index[label]))
    return scored


def log_loss(scored: list[tuple[tuple[float, float, float], int]], temperature: float) -> float:
    """Mean negative log-probability of the right label."""
    total = 0.0
    for logits, truth in scored:
        scaled = [value * temperature for value in logits]
        top = max(scaled)
        normaliser = top + math.log(sum(math.exp(value - top) for value in scaled))
        total += normaliser - scaled[truth]
    return total / len(scored)


def tuning_loss(payload: dict[str, object], corpora: Corpora) -> float:
    """Log loss on the split's sentence cuts and on its chat messages, half each.

    Smoother than accuracy, which on a few hundred chat messages cannot tell the chat
    shares apart.
    """
    temperature = float(payload["temperature"])  # type: ignore[arg-type]
    return sum(
        log_loss(summed_scores(payload, samples), temperature) / 2
        for samples in (sliced_samples(corpora), chat_samples(corpora))
    )


def train_and_tune(chat_share: float) -> dict[str, object]:
    return tune(train(load_split(TRAIN), chat_share), load_split(TUNE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    tuning = load_split(TUNE)
    with ProcessPoolExecutor() as pool:  # one process per share; the results do not depend on it
        candidates = list(pool.map(train_and_tune, CHAT_SHARES))
    losses = [tuning_loss(candidate, tuning) for candidate in candidates]
    # Ties go to the smallest share: the least said by the few messages we wrote.
    payload = candidates[losses.index(min(losses))]
    payload["chat_share"] = CHAT_SHARES[losses.index(min(losses))]
    print("chat share → tuning log loss:", dict(zip(CHAT_SHARES, losses, strict=True)))
    args.output.write_bytes(
        gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), mtime=0)
    )
    settings = {key: value for key, value in payload.items() if key != "ngrams"}
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes): {settings}")


if __name__ == "__main__":
    main()
