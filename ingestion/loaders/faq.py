"""FAQ items, inline or as YAML/JSON: one document, and so one chunk, per question and answer."""

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from ingestion.documents import Block, BlockKind, Document, Loaded
from ingestion.errors import FailureReason, SourceError
from ingestion.text_cleaning import clean_line, clean_text, language_of
from katha.api.knowledge import FaqItem

_ITEMS = TypeAdapter(list[FaqItem])


def load_faq(items: Sequence[FaqItem], source_uri: str) -> Loaded:
    """Question as heading, answer as body; the language is the answer's and question's."""
    documents = []
    for number, item in enumerate(items, start=1):
        question, answer = clean_line(item.q), clean_text(item.a)
        documents.append(
            Document(
                source_uri,
                f"faq {number}",
                question,
                language_of(f"{question}\n{answer}"),
                (Block(BlockKind.HEADING, question, 1), Block(BlockKind.PARAGRAPH, answer)),
            )
        )
    return Loaded(documents)


def parse_faq_file(data: bytes) -> list[FaqItem]:
    """A YAML or JSON list of {q, a}, or a mapping with such a list under `items`."""
    try:
        parsed: Any = yaml.safe_load(data.decode("utf-8-sig"))
        if isinstance(parsed, dict):
            parsed = parsed.get("items")
        return _ITEMS.validate_python(parsed)
    except (yaml.YAMLError, UnicodeDecodeError, ValidationError) as error:
        message = f"not a list of FAQ items with q and a ({error})"
        raise SourceError(message, FailureReason.CORRUPT) from error
