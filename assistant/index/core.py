"""One index folder behind one domain interface: documents (SQLite), part vectors and document contexts (a
VectorStore), keywords (BM25), sub-question vectors (a file) and the manifest. Speaks in Documents, Chunks, part
keys and Filters.

Writes are what ingest needs (store chunks, record a document, remove stale vectors); reads are what retrieval
needs (dense search under filters, similarities of given parts, context similarities, keyword index, documents).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from assistant.chunk import Chunk, part_search_text
from assistant.errors import IndexMissingError
from assistant.filters import Filters
from assistant.index.docs import DOCS_DB, DocStore, Manifest
from assistant.index.keywords import KeywordIndex
from assistant.index.questions import QUESTIONS_FILE, QuestionVectors
from assistant.index.store import Entry, VectorStore
from assistant.types import Document, PartKey

KEYWORDS_DIR = "bm25"


def context_collection(collection: str) -> str:
    return f"{collection}-context"


class Index:
    """Everything in one index folder, opened for reading and writing."""

    def __init__(self, index_dir: Path, parts: VectorStore, contexts: VectorStore, collection: str = "parts") -> None:
        self.dir = index_dir
        self.collection = collection
        self.parts = parts
        self.contexts = contexts
        """One vector per document (chunk.context_text), keyed by doc_id."""
        self._docs = DocStore(index_dir / DOCS_DB)

    @classmethod
    def open(cls, index_dir: Path, chroma_url: str | None = None, collection: str | None = None) -> Index:
        """The index in `index_dir` (created when missing), its vectors in Chroma there or on `chroma_url`."""
        from assistant.index.vectors import open_collections

        manifest = Manifest.read(index_dir)
        name = manifest.collection if manifest else (collection or "parts")
        parts, contexts = open_collections(index_dir, chroma_url, name, context_collection(name))
        return cls(index_dir, parts, contexts, name)

    @classmethod
    def open_existing(cls, index_dir: Path, chroma_url: str | None = None) -> Index:
        """The index in `index_dir`; IndexMissingError with the command to make one when there is none."""
        if Manifest.read(index_dir) is None:
            raise IndexMissingError(
                f"No index in {index_dir}/ - run `assistant ingest corpus/ --index {index_dir}` first."
            )
        return cls.open(index_dir, chroma_url)

    @classmethod
    def in_memory(cls, index_dir: Path) -> Index:
        """Documents and keywords in `index_dir`, vectors in memory (tests, throwaway indexes)."""
        from assistant.index.memory import MemoryVectors

        return cls(index_dir, MemoryVectors("parts"), MemoryVectors("contexts"))

    @property
    def manifest(self) -> Manifest | None:
        return Manifest.read(self.dir)

    # -- documents

    def document(self, doc_id: str) -> Document | None:
        return self._docs.get(doc_id)

    def documents(self) -> Iterator[Document]:
        return self._docs.all()

    def document_count(self) -> int:
        return self._docs.count()

    def fingerprints(self) -> dict[str, tuple[str, list[str]]]:
        """doc_id -> (fingerprint, chunk ids) of every recorded document."""
        return self._docs.fingerprints()

    # -- writing (ingest)

    def store_chunks(self, pairs: Sequence[tuple[Document, Chunk]], vectors: np.ndarray) -> None:
        """Store the chunks' vectors, each with what filters need of its document."""
        self.parts.upsert([Entry.of_chunk(doc, chunk) for doc, chunk in pairs], vectors)

    def record(self, doc: Document, fingerprint: str, chunk_ids: Sequence[str], old_ids: Iterable[str] = ()) -> int:
        """Record a document as ingested (after all its chunks are stored); removes the chunks of its older version
        that it no longer has and returns how many. Call `commit()` to make it durable."""
        stale = set(old_ids) - set(chunk_ids)
        self.parts.delete(stale)
        self._docs.put(doc, fingerprint, chunk_ids)
        return len(stale)

    def commit(self) -> None:
        self._docs.commit()

    def store_contexts(self, docs: Sequence[Document], texts: Sequence[str], vectors: np.ndarray) -> None:
        self.contexts.upsert([Entry.of_context(d, t) for d, t in zip(docs, texts, strict=True)], vectors)

    def documents_without_context(self) -> list[Document]:
        """Recorded documents with no context vector (an index from before contexts existed)."""
        if self.contexts.count() >= self._docs.count():
            return []
        have = set(self.contexts.all_ids())
        return [d for d in self._docs.all() if d.doc_id not in have]

    def reconcile(self) -> int:
        """Delete vectors no recorded document owns (left by an interrupted run); returns how many."""
        fingerprints = self._docs.fingerprints()
        expected = {cid for _, ids in fingerprints.values() for cid in ids}
        orphans: set[str] = set()
        if self.parts.count() != len(expected):
            orphans = set(self.parts.all_ids()) - expected
            self.parts.delete(orphans)
        if self.contexts.count() != len(fingerprints):
            gone = set(self.contexts.all_ids()) - set(fingerprints)
            self.contexts.delete(gone)
            orphans |= gone
        return len(orphans)

    def write_keywords(self) -> KeywordIndex:
        keys, texts = [], []
        for doc in self._docs.all():
            for part in doc.parts:
                keys.append(PartKey(doc.doc_id, part.label))
                texts.append(part_search_text(doc, part))
        kw = KeywordIndex.build(keys, texts)
        kw.save(self.dir / KEYWORDS_DIR)
        return kw

    def keywords_current(self) -> bool:
        return KeywordIndex.current(self.dir / KEYWORDS_DIR)

    def write_questions(self, questions: QuestionVectors) -> None:
        questions.save(self.dir)

    def clear(self) -> None:
        """Empty the index (for --rebuild): both collections, the documents, keywords and manifest. Other files in
        the folder, such as a README, stay."""
        for store in (self.parts, self.contexts):
            store.clear()
        self._docs.close()
        for name in (
            KEYWORDS_DIR,
            KEYWORDS_DIR + ".tmp",
            QUESTIONS_FILE,
            DOCS_DB,
            DOCS_DB + "-wal",
            DOCS_DB + "-shm",
            "manifest.json",
        ):
            path = self.dir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        self._docs = DocStore(self.dir / DOCS_DB)

    # -- reading (retrieval)

    def read_keywords(self) -> KeywordIndex:
        return KeywordIndex.load(self.dir / KEYWORDS_DIR)

    def read_questions(self) -> QuestionVectors:
        """The parts' sub-question vectors (empty for an index ingested before they existed)."""
        return QuestionVectors.load(self.dir)

    def dense(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[PartKey, float]]:
        """The parts nearest to `vector` under the filters, each with its best chunk's similarity, nearest first."""
        best: dict[PartKey, float] = {}
        for key, sim in self.parts.query(vector, k, filters):
            if sim > best.get(key, -1.0):
                best[key] = sim
        return sorted(best.items(), key=lambda kv: -kv[1])

    def part_vectors(self, keys: Sequence[PartKey]) -> dict[PartKey, np.ndarray]:
        """The stored vectors of given parts (their first chunk), for those that have one."""
        return {PartKey.parse(i): v for i, v in self.parts.vectors([str(k) for k in keys]).items()}

    def context_vectors(self, doc_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored context vectors of given documents, for those that have one."""
        return self.contexts.vectors(list(doc_ids))

    def close(self) -> None:
        self._docs.close()
