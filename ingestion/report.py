"""What one refresh did, per source: documents, chunks added/kept/removed, failures and why."""

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class SourceStatus(StrEnum):
    INDEXED = "indexed"  # read, and its chunks changed
    UNCHANGED = "unchanged"  # read, nothing to write
    FAILED = "failed"  # not read: its earlier chunks stay in the index
    REMOVED = "removed"  # no longer in the Business: its chunks are gone


@dataclass
class SourceReport:
    source: str
    type: str
    status: SourceStatus
    uri: str = ""
    pages: int = 0  # PDF or web pages parsed
    documents: int = 0
    added: int = 0
    kept: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)  # why it failed, or parts skipped
    reason: str = ""  # why it failed, as an ingestion.errors.FailureReason


@dataclass
class Report:
    tenant: str
    index_path: str
    version: int = 0
    chunks: int = 0
    embedded: int = 0
    embedding_seconds: float = 0.0
    rebuilt: bool = False
    error: str | None = None  # the index itself could not be written
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceReport]:
        return [source for source in self.sources if source.status is SourceStatus.FAILED]

    @property
    def documents(self) -> int:
        return sum(source.documents for source in self.sources)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "documents": self.documents}

    def render(self) -> str:
        """A plain-text table for terminals and Job logs."""
        header = ("source", "status", "docs", "added", "kept", "removed", "notes")
        rows = [header] + [
            (
                source.source,
                str(source.status),
                str(source.documents),
                str(source.added),
                str(source.kept),
                str(source.removed),
                "; ".join(source.failures),
            )
            for source in self.sources
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + f"  {row[-1]}"
            for row in rows
        ]
        summary = (
            f"{self.tenant}: version {self.version}, {self.chunks} chunks, "
            f"{self.embedded} embedded{' (rebuilt for a new model)' if self.rebuilt else ''}"
        )
        if self.error:
            summary += f"; index NOT written: {self.error}"
        return "\n".join([*lines, summary])
