"""What a vector store holds and must do, in our terms: `Entry` values in, part keys and similarities out.

Two implementations: `vectors.ChromaVectors` (the product: in-process or a `chroma run` server) and
`memory.MemoryVectors` (numpy, for tests and throwaway indexes). Neither knows about ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.chunk import Chunk
from assistant.filters import Filters, date_number
from assistant.types import Document, PartKey


@dataclass(frozen=True)
class Entry:
    """One stored vector: a chunk of a part, or (with `part` empty) a document's context."""

    id: str
    doc_id: str
    text: str
    part: str = ""
    piece: int = 0
    via_ref: str | None = None
    minister: str | None = None
    department: str | None = None
    party: str | None = None
    asker: str | None = None
    date: int | None = None
    """The document's date as a number (20170315), for range filters."""

    @classmethod
    def of_chunk(cls, doc: Document, chunk: Chunk) -> Entry:
        return cls(
            chunk.chunk_id,
            doc.doc_id,
            chunk.text,
            chunk.part,
            chunk.piece,
            chunk.via_ref,
            doc.minister or None,
            doc.department or None,
            doc.party or None,
            doc.asker or None,
            date_number(doc.date),
        )

    @classmethod
    def of_context(cls, doc: Document, text: str) -> Entry:
        return cls(doc.doc_id, doc.doc_id, text)

    @property
    def key(self) -> PartKey:
        return PartKey(self.doc_id, self.part)

    def passes(self, filters: Filters) -> bool:
        """The filters applied to what the entry carries of its document."""
        for key, values in filters.fields_set().items():
            if getattr(self, key) not in values:
                return False
        low, high = filters.date_range
        if low is None and high is None:
            return True
        return self.date is not None and (low is None or self.date >= low) and (high is None or self.date <= high)


class VectorStore(Protocol):
    """One collection of vectors (cosine space); every method may raise StoreUnavailableError."""

    where: str
    """Where it lives, for messages: a folder or a server URL."""

    def upsert(self, entries: Sequence[Entry], vectors: np.ndarray) -> None: ...

    def delete(self, ids: Iterable[str]) -> None: ...

    def clear(self) -> None:
        """Remove every entry."""
        ...

    def count(self) -> int: ...

    def all_ids(self) -> list[str]: ...

    def query(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[PartKey, float]]:
        """The k nearest entries passing the filters, as (part key, cosine similarity), nearest first."""
        ...

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those ids that exist."""
        ...

    def entries(self, ids: Sequence[str]) -> list[tuple[Entry, np.ndarray]]:
        """The stored entries of those ids that exist, with their vectors (to copy an index)."""
        ...
