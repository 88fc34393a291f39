"""Full-text and vector indexes on the chunks table, created once and kept fresh by optimize()."""

from typing import Any

from lancedb.index import FTS, IvfPq

# The default "simple" tokenizer splits Sinhala and Tamil words at the virama (්, ்), so
# "කොත්තු" became "කොත" + "තු"; ICU word segmentation keeps such words whole.
TEXT_FTS = FTS(
    base_tokenizer="icu", lower_case=True, stem=False, remove_stop_words=False, ascii_folding=False
)
# The romanised column is folded ASCII already (katha.lang.fold_romanized); stemming or
# stop words meant for English would only damage Singlish words.
ROMANIZED_FTS = FTS(base_tokenizer="simple", lower_case=True, stem=False, remove_stop_words=False)
# Below this many rows a flat vector scan is faster than an approximate index is useful.
VECTOR_INDEX_MIN_ROWS = 10_000


def maintain_indexes(table: Any, vector_index_min_rows: int = VECTOR_INDEX_MIN_ROWS) -> None:
    """Create the missing indexes, then fold new rows into them and compact (optimize)."""
    rows = table.count_rows()
    if rows == 0:
        return
    indexed = {column for index in table.list_indices() for column in index.columns}
    for column, config in (("text", TEXT_FTS), ("romanized", ROMANIZED_FTS)):
        if column not in indexed:
            table.create_index(column, config=config)
    if "vector" not in indexed and rows >= vector_index_min_rows:
        # e5 and bge vectors are compared by cosine; ~sqrt(rows) partitions is the usual start.
        partitions = max(1, int(rows**0.5))
        table.create_index(
            "vector", config=IvfPq(distance_type="cosine", num_partitions=partitions)
        )
    table.optimize()
