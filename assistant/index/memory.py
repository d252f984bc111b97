"""A vector store in memory (numpy): the same protocol as Chroma's, so retrieval and ingest tests need no Chroma.

Exact cosine search over every entry; nothing is persisted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from assistant.filters import Filters
from assistant.index.store import Entry
from assistant.types import PartKey


class MemoryVectors:
    """Entries and their unit vectors in a dict; query is a dot product over those passing the filters."""

    def __init__(self, name: str = "memory") -> None:
        self.where = f"memory:{name}"
        self._entries: dict[str, tuple[Entry, np.ndarray]] = {}

    def upsert(self, entries: Sequence[Entry], vectors: np.ndarray) -> None:
        for entry, vector in zip(entries, np.asarray(vectors, dtype=np.float32), strict=True):
            self._entries[entry.id] = (entry, vector / (np.linalg.norm(vector) or 1.0))

    def delete(self, ids: Iterable[str]) -> None:
        for i in ids:
            self._entries.pop(i, None)

    def clear(self) -> None:
        self._entries.clear()

    def count(self) -> int:
        return len(self._entries)

    def all_ids(self) -> list[str]:
        return list(self._entries)

    def query(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[PartKey, float]]:
        rows = [(e, v) for e, v in self._entries.values() if not filters or e.passes(filters)]
        if not rows:
            return []
        sims = np.stack([v for _, v in rows]) @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-sims, kind="stable")[:k]
        return [(rows[i][0].key, float(sims[i])) for i in order]

    def entries(self, ids: Sequence[str]) -> list[tuple[Entry, np.ndarray]]:
        return [self._entries[i] for i in ids if i in self._entries]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {i: self._entries[i][1] for i in ids if i in self._entries}
