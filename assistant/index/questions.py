"""The sub-question vectors of an index: one per part, its own question with the document's title
(chunk.question_text) embedded as a query, for ordering the parts within a document (retrieve.py).

One file in the index folder, written whole by ingest and swapped in with one rename, so a reader sees either the
old file or the new one. Each vector carries a digest of the text it was embedded from: a part whose text did not
change keeps its vector, and a vector for a text that changed is never used.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.types import PartKey

QUESTIONS_FILE = "questions.npz"


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class QuestionVectors:
    """Row i of `vectors` is the embedding of the text whose digest is `digests[i]`, for part `keys[i]`."""

    keys: tuple[PartKey, ...]
    digests: tuple[str, ...]
    vectors: np.ndarray

    @classmethod
    def empty(cls, dim: int = 0) -> QuestionVectors:
        return cls((), (), np.zeros((0, dim), dtype=np.float32))

    @classmethod
    def load(cls, folder: Path) -> QuestionVectors:
        """The file in an index folder; empty when there is none (an index from before it existed)."""
        path = folder / QUESTIONS_FILE
        if not path.exists():
            return cls.empty()
        with np.load(path, allow_pickle=False) as data:
            keys = tuple(PartKey.parse(str(k)) for k in data["keys"])
            return cls(keys, tuple(str(d) for d in data["digests"]), np.asarray(data["vectors"], dtype=np.float32))

    def save(self, folder: Path) -> None:
        tmp = folder / (QUESTIONS_FILE + ".tmp.npz")
        np.savez(
            tmp,
            keys=np.array([str(k) for k in self.keys], dtype=str),
            digests=np.array(self.digests, dtype=str),
            vectors=self.vectors.astype(np.float32),
        )
        os.replace(tmp, folder / QUESTIONS_FILE)

    def by_key(self) -> dict[PartKey, np.ndarray]:
        """Every stored vector by its part (ingest keeps the file current with the documents)."""
        return dict(zip(self.keys, self.vectors, strict=True))

    def current(self, texts: Mapping[PartKey, str]) -> dict[PartKey, np.ndarray]:
        """The stored vector of each part whose text is still the one it was embedded from."""
        digests = dict(zip(self.keys, self.digests, strict=True))
        stored = self.by_key()
        return {k: stored[k] for k, t in texts.items() if k in digests and digests[k] == digest(t)}

    @classmethod
    def of(cls, texts: Mapping[PartKey, str], vectors: Mapping[PartKey, np.ndarray], dim: int) -> QuestionVectors:
        keys = tuple(texts)
        stacked = np.vstack([vectors[k] for k in keys]) if keys else np.zeros((0, dim), dtype=np.float32)
        return cls(keys, tuple(digest(texts[k]) for k in keys), stacked.astype(np.float32))
