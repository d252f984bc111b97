"""Files in, index out: parse, chunk, embed what changed, store, and rebuild the keyword side.

Idempotent by fingerprint: an unchanged document is not embedded again; a changed one replaces its chunks and
leaves none stale. A document is recorded as ingested only after all its chunks are stored, so an interrupted
run resumes cleanly. Bad files are reported in the result and never stop the others.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from assistant.chunk import Chunk, chunk_document, context_text, fingerprint
from assistant.embed import Embedder
from assistant.errors import ParseError
from assistant.index import Index, Manifest, VectorStore, chunk_metadata, context_collection, now_iso
from assistant.parse import FieldMap, read_paths
from assistant.types import Document

BATCH_CHUNKS = 64


@dataclass
class IngestReport:
    """What one ingest run did, with its timings."""

    docs_seen: int = 0
    docs_new: int = 0
    docs_changed: int = 0
    docs_unchanged: int = 0
    parts_embedded: int = 0
    chunks_embedded: int = 0
    contexts_embedded: int = 0
    stale_removed: int = 0
    failures: list[ParseError] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    parse_seconds: float = 0.0

    @property
    def docs_embedded(self) -> int:
        return self.docs_new + self.docs_changed

    def summary(self) -> str:
        rate = ""
        if self.docs_embedded and self.seconds > 0:
            rate = (
                f"; {self.docs_embedded / self.seconds:.1f} docs/s, {self.parts_embedded / self.seconds:.1f} parts/s, "
                f"{self.chunks_embedded / max(self.embed_seconds, 1e-9):.1f} chunks/s while embedding, "
                f"{100 * (self.seconds - self.embed_seconds) / max(self.embed_seconds, 1e-9):.0f}% spent outside "
                f"embedding"
            )
        return (
            f"{self.docs_seen} documents: {self.docs_new} new, {self.docs_changed} changed, "
            f"{self.docs_unchanged} unchanged; {self.chunks_embedded} chunks and {self.contexts_embedded} document "
            f"contexts embedded, "
            f"{self.stale_removed} stale removed; "
            f"{len(self.failures)} file(s) or record(s) failed; {self.seconds:.1f} s{rate}"
        )


def clear_index(index_dir: Path) -> None:
    """Remove what `ingest` writes in index_dir (leaves other files, such as a README, alone)."""
    for name in ("bm25", "bm25.tmp", "docs.sqlite", "docs.sqlite-wal", "docs.sqlite-shm", "manifest.json"):
        path = index_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def ingest(
    paths: Iterable[Path],
    index_dir: Path,
    embedder_factory: Callable[[], Embedder],
    *,
    model_name: str,
    chroma_url: str | None = None,
    collection: str = "parts",
    rebuild: bool = False,
    mapping: FieldMap | None = None,
    progress: bool = True,
) -> IngestReport:
    """Bring the index up to date with the documents under `paths`."""
    start = time.perf_counter()
    report = IngestReport()
    manifest = Manifest.read(index_dir)
    if rebuild:
        # through the client, not by removing files: Chroma keeps one shared client per path in a process
        name = manifest.collection if manifest else collection
        VectorStore.drop(index_dir, chroma_url, name, context_collection(name))
        clear_index(index_dir)
        manifest = None
    if manifest is not None and manifest.model != model_name:
        manifest.check(model_name, manifest.dim, index_dir)  # raises with the rebuild hint

    docs: dict[str, Document] = {}
    for item in read_paths(paths, mapping):
        if isinstance(item, ParseError):
            report.failures.append(item)
        else:
            docs[item.doc_id] = item  # a later copy of the same id wins
    report.docs_seen = len(docs)
    report.parse_seconds = time.perf_counter() - start

    index = Index(index_dir, manifest.collection if manifest else collection, chroma_url)
    try:
        known = index.docs.fingerprints()
        todo: list[tuple[Document, str, list[Chunk]]] = []
        for doc in docs.values():
            chunks = chunk_document(doc)
            fp = fingerprint(doc, chunks)
            if doc.doc_id in known and known[doc.doc_id][0] == fp:
                report.docs_unchanged += 1
                continue
            report.docs_changed += doc.doc_id in known
            report.docs_new += doc.doc_id not in known
            todo.append((doc, fp, chunks))

        # a changed document gets a new context; an index from before contexts existed gets them all, once
        contexts = [doc for doc, _, _ in todo]
        if index.contexts.count() < index.docs.count():
            have = set(index.contexts.all_ids()) | {doc.doc_id for doc in contexts}
            contexts += [doc for doc in index.docs.all() if doc.doc_id not in have]
        if todo or contexts:
            embedder = embedder_factory()
            if manifest is None:
                manifest = Manifest(model=model_name, dim=embedder.dim, collection=collection, created=now_iso())
                manifest.write(index_dir)
            manifest.check(model_name, embedder.dim, index_dir)
            _embed_and_store(index, todo, known, embedder, report, progress)
            _embed_contexts(index, contexts, embedder, report, progress)
        elif manifest is None:
            Manifest(model=model_name, dim=0, collection=collection, created=now_iso()).write(index_dir)

        report.stale_removed += _reconcile(index)
        if todo or not index.keywords_current():
            index.write_keywords(index.docs.all())
    finally:
        index.close()
    report.seconds = time.perf_counter() - start
    return report


def _embed_and_store(
    index: Index,
    todo: list[tuple[Document, str, list[Chunk]]],
    known: dict[str, tuple[str, list[str]]],
    embedder: Embedder,
    report: IngestReport,
    progress: bool,
) -> None:
    total = sum(len(chunks) for _, _, chunks in todo)
    bar = tqdm(total=total, unit="chunk", desc="embedding", disable=not progress, dynamic_ncols=True)
    pending: list[tuple[Document, Chunk]] = []
    remaining: dict[str, int] = {}
    by_id = {doc.doc_id: (doc, fp, chunks) for doc, fp, chunks in todo}
    docs_done = 0

    def flush() -> None:
        nonlocal docs_done
        if not pending:
            return
        t = time.perf_counter()
        vectors = embedder.embed_passages([c.text for _, c in pending])
        report.embed_seconds += time.perf_counter() - t
        index.vectors.upsert(
            [c.chunk_id for _, c in pending],
            vectors,
            [c.text for _, c in pending],
            [chunk_metadata(d, c) for d, c in pending],
        )
        report.chunks_embedded += len(pending)
        for doc, _ in pending:
            remaining[doc.doc_id] -= 1
            if remaining[doc.doc_id] == 0:
                _, fp, chunks = by_id[doc.doc_id]
                new_ids = [c.chunk_id for c in chunks]
                old_ids = known.get(doc.doc_id, ("", []))[1]
                stale = set(old_ids) - set(new_ids)
                index.vectors.delete(stale)
                report.stale_removed += len(stale)
                index.docs.put(doc, fp, new_ids)
                report.parts_embedded += len(doc.parts)
                docs_done += 1
        index.docs.commit()
        bar.update(len(pending))
        bar.set_postfix(docs=f"{docs_done}/{len(todo)}", parts=report.parts_embedded, refresh=False)
        pending.clear()

    for doc, _fp, chunks in todo:
        remaining[doc.doc_id] = len(chunks)
        if not chunks:
            index.docs.put(doc, _fp, [])
            continue
        for chunk in chunks:
            pending.append((doc, chunk))
            if len(pending) >= BATCH_CHUNKS:
                flush()
    flush()
    index.docs.commit()
    bar.close()


def _embed_contexts(
    index: Index, docs: list[Document], embedder: Embedder, report: IngestReport, progress: bool
) -> None:
    """One vector per document for its context (title and introduction)."""
    bar = tqdm(total=len(docs), unit="doc", desc="document contexts", disable=not progress, dynamic_ncols=True)
    for start in range(0, len(docs), BATCH_CHUNKS):
        batch = docs[start : start + BATCH_CHUNKS]
        texts = [context_text(d) for d in batch]
        t = time.perf_counter()
        vectors = embedder.embed_passages(texts)
        report.embed_seconds += time.perf_counter() - t
        index.contexts.upsert([d.doc_id for d in batch], vectors, texts, [{"doc_id": d.doc_id} for d in batch])
        report.contexts_embedded += len(batch)
        bar.update(len(batch))
    bar.close()


def _reconcile(index: Index) -> int:
    """Delete vectors no recorded document owns (left by an interrupted run); returns how many."""
    fingerprints = index.docs.fingerprints()
    expected = {cid for _, ids in fingerprints.values() for cid in ids}
    orphans: set[str] = set()
    if index.vectors.count() != len(expected):
        orphans = set(index.vectors.all_ids()) - expected
        index.vectors.delete(orphans)
    if index.contexts.count() != len(fingerprints):
        gone = set(index.contexts.all_ids()) - set(fingerprints)
        index.contexts.delete(gone)
        orphans |= gone
    return len(orphans)
