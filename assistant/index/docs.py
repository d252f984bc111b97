"""The document side of the index: parsed Documents in SQLite with their fingerprint and chunk ids, and the
manifest that says what the index was built with and which generation of it is current.

The manifest is written last by every ingest that changed something (a new generation), atomically, so a server
can see that an index changed without reading it all. Vectors and keywords are the other modules' business.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from assistant.chunk import CHUNKER_VERSION
from assistant.errors import IndexMismatchError
from assistant.types import Document

MANIFEST = "manifest.json"
DOCS_DB = "docs.sqlite"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class Manifest:
    """What the index was built with; a different model, dimension or encoder cannot share it."""

    model: str
    dim: int
    chunker_version: str = CHUNKER_VERSION
    collection: str = "parts"
    created: str = ""
    encoder: str = "torch"
    """How the model was run when the vectors were made (torch, onnx, onnx-int8): their vectors differ slightly."""
    generation: int = 0
    """Counts the ingests that changed the index; a server reloads when it moves."""

    @classmethod
    def read(cls, index_dir: Path) -> Manifest | None:
        path = index_dir / MANIFEST
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def write(self, index_dir: Path) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        tmp = index_dir / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        tmp.replace(index_dir / MANIFEST)

    def next_generation(self) -> Manifest:
        return replace(self, generation=self.generation + 1)

    def check(self, model: str, dim: int, index_dir: Path, encoder: str = "torch") -> None:
        """IndexMismatchError, with the command that rebuilds, unless the index was built the same way."""
        if (self.model, self.dim) != (model, dim):
            raise IndexMismatchError(
                f"The index in {index_dir} was built with {self.model} (dimension {self.dim}), not {model} "
                f"(dimension {dim}). Rebuild it: `assistant ingest PATH... --index {index_dir} --rebuild`."
            )
        if self.encoder != encoder:
            raise IndexMismatchError(
                f"The index in {index_dir} was built with the {self.encoder} encoder, not {encoder}: their vectors "
                f"differ. Set ASSISTANT_ENCODER={self.encoder}, or rebuild it: "
                f"`assistant ingest PATH... --index {index_dir} --rebuild`."
            )


class DocStore:
    """Parsed documents with their fingerprint and chunk ids; the record of what the index holds."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS docs (doc_id TEXT PRIMARY KEY, fingerprint TEXT, chunk_ids TEXT, body TEXT)"
        )
        self._db.commit()

    def fingerprints(self) -> dict[str, tuple[str, list[str]]]:
        rows = self._db.execute("SELECT doc_id, fingerprint, chunk_ids FROM docs")
        return {d: (f, json.loads(c)) for d, f, c in rows}

    def put(self, doc: Document, fp: str, chunk_ids: Sequence[str]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?)",
            (doc.doc_id, fp, json.dumps(list(chunk_ids)), json.dumps(doc.to_dict(), ensure_ascii=False)),
        )

    def commit(self) -> None:
        self._db.commit()

    def get(self, doc_id: str) -> Document | None:
        row = self._db.execute("SELECT body FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document.from_dict(json.loads(row[0])) if row else None

    def all(self) -> Iterator[Document]:
        for (body,) in self._db.execute("SELECT body FROM docs ORDER BY doc_id"):
            yield Document.from_dict(json.loads(body))

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def close(self) -> None:
        self._db.close()
