"""Files in, index out: parse, chunk, embed what changed, store, and rebuild the keyword side.

Idempotent by fingerprint: an unchanged document is not embedded again; a changed one replaces its chunks and
leaves none stale, and a chunk (or document context) whose text did not change keeps its stored vector, so a
parser change that only adds fields to the parts re-embeds nothing. A document is recorded as ingested only after
all its chunks are stored, so an interrupted run resumes cleanly. Bad files are reported in the result and never
stop the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.chunk import Chunk, chunk_document, context_text, fingerprint, question_text
from assistant.embed import Embedder, encoder_of
from assistant.errors import NothingToIngestError, ParseError
from assistant.index import Index, Manifest, VectorStore
from assistant.index.docs import now_iso
from assistant.index.questions import QuestionVectors
from assistant.parse import FieldMap, read_paths
from assistant.types import Document, PartKey

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
    chunks_reused: int = 0
    """Chunks of changed documents whose text was unchanged: stored again with their old vector."""
    contexts_embedded: int = 0
    questions_embedded: int = 0
    """Sub-questions embedded for ordering the parts within a document (index.questions)."""
    questions_seconds: float = 0.0
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
            outside = max(0.0, self.seconds - self.embed_seconds - self.questions_seconds)
            rate = (
                f"; {self.docs_embedded / self.seconds:.1f} docs/s, {self.parts_embedded / self.seconds:.1f} parts/s, "
                f"{self.chunks_embedded / max(self.embed_seconds, 1e-9):.1f} chunks/s while embedding, "
                f"{100 * outside / self.seconds:.0f}% of the time spent outside embedding"
            )
        return (
            f"{self.docs_seen} documents: {self.docs_new} new, {self.docs_changed} changed, "
            f"{self.docs_unchanged} unchanged; {self.chunks_embedded} chunks, {self.contexts_embedded} document "
            f"contexts and {self.questions_embedded} sub-questions embedded, "
            f"{self.chunks_reused} unchanged chunks kept their vectors, "
            f"{self.stale_removed} stale removed; "
            f"{len(self.failures)} file(s) or record(s) failed; {self.seconds:.1f} s{rate}"
        )


def ingest(
    paths: Iterable[Path],
    index: Index,
    embedder_factory: Callable[[], Embedder],
    *,
    model_name: str,
    rebuild: bool = False,
    mapping: FieldMap | None = None,
    progress: bool = True,
) -> IngestReport:
    """Bring the index up to date with the documents under `paths`. Reading nothing at all is an AssistantError
    that leaves the index as it was (a new one is not created)."""
    start = time.perf_counter()
    report = IngestReport()
    paths = list(paths)
    docs: dict[str, Document] = {}
    for item in read_paths(paths, mapping):
        if isinstance(item, ParseError):
            report.failures.append(item)
        else:
            docs[item.doc_id] = item  # a later copy of the same id wins
    report.docs_seen = len(docs)
    report.parse_seconds = time.perf_counter() - start
    if not docs:
        where = ", ".join(str(p) for p in paths) or "(no paths)"
        reasons = "; ".join(str(f) for f in report.failures[:3])
        raise NothingToIngestError(
            f"No document could be read from {where}"
            + (f" ({reasons}{'; ...' if len(report.failures) > 3 else ''})" if reasons else "")
            + f". The index in {index.dir} was left as it was.",
            report,
        )

    manifest = index.manifest
    if rebuild:
        index.clear()
        manifest = None
    if manifest is not None and manifest.model != model_name:
        manifest.check(model_name, manifest.dim, index.dir)  # raises with the rebuild hint

    known = index.fingerprints()
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
    changing = {doc.doc_id for doc in contexts}
    contexts += [doc for doc in index.documents_without_context() if doc.doc_id not in changing]
    opened: list[Embedder] = []

    def checked_embedder() -> Embedder:
        """The embedder, made once, and the manifest it must match (written first for a new index)."""
        nonlocal manifest
        if not opened:
            embedder = embedder_factory()
            used = encoder_of(embedder)
            if manifest is None:
                manifest = Manifest(
                    model=model_name, dim=embedder.dim, collection=index.collection, created=now_iso(), encoder=used
                )
                manifest.write(index.dir)  # first, so that a run killed midway leaves an index the rerun completes
            manifest.check(model_name, embedder.dim, index.dir, used)
            opened.append(embedder)
        return opened[0]

    if todo or contexts:
        embedder = checked_embedder()
        _embed_and_store(index, todo, known, embedder, report, progress)
        _embed_contexts(index, contexts, embedder, report, progress)

    report.stale_removed += index.reconcile()
    if todo or not index.keywords_current():
        index.write_keywords()
    questions_changed = _embed_questions(index, checked_embedder, report, progress)
    if manifest is not None and (todo or contexts or report.stale_removed or questions_changed):
        manifest.next_generation().write(index.dir)  # last: a reader that sees the new generation sees it all
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
        old = _unchanged_vectors(index.parts, [c for _, c in pending])
        new = [i for i, (_, c) in enumerate(pending) if c.chunk_id not in old]
        t = time.perf_counter()
        fresh = embedder.embed_passages([pending[i][1].text for i in new]) if new else None
        report.embed_seconds += time.perf_counter() - t
        by_row = dict(zip(new, fresh, strict=True)) if fresh is not None else {}
        vectors = np.vstack([by_row[i] if i in by_row else old[c.chunk_id] for i, (_, c) in enumerate(pending)])
        index.store_chunks(pending, vectors)
        report.chunks_embedded += len(new)
        report.chunks_reused += len(pending) - len(new)
        for doc, _ in pending:
            remaining[doc.doc_id] -= 1
            if remaining[doc.doc_id] == 0:
                _, fp, chunks = by_id[doc.doc_id]
                old_ids = known.get(doc.doc_id, ("", []))[1]
                report.stale_removed += index.record(doc, fp, [c.chunk_id for c in chunks], old_ids)
                report.parts_embedded += len(doc.parts)
                docs_done += 1
        index.commit()
        bar.update(len(pending))
        bar.set_postfix(docs=f"{docs_done}/{len(todo)}", parts=report.parts_embedded, refresh=False)
        pending.clear()

    for doc, fp, chunks in todo:
        remaining[doc.doc_id] = len(chunks)
        if not chunks:
            old_ids = known.get(doc.doc_id, ("", []))[1]
            report.stale_removed += index.record(doc, fp, [], old_ids)
            continue
        for chunk in chunks:
            pending.append((doc, chunk))
            if len(pending) >= BATCH_CHUNKS:
                flush()
    flush()
    index.commit()
    bar.close()


def _unchanged_vectors(store: VectorStore, chunks: list[Chunk]) -> dict[str, np.ndarray]:
    """The stored vectors of those chunks whose stored text is the chunk's text (by chunk id)."""
    texts = {c.chunk_id: c.text for c in chunks}
    return {entry.id: vector for entry, vector in store.entries(list(texts)) if entry.text == texts.get(entry.id)}


def _embed_questions(index: Index, embedder: Callable[[], Embedder], report: IngestReport, progress: bool) -> bool:
    """Every recorded part's sub-question vector (chunk.question_text, embedded as a query), those whose text did
    not change kept; the file is written again only when something changed. Whether it was."""
    texts = {PartKey(d.doc_id, p.label): question_text(d, p.label) for d in index.documents() for p in d.parts}
    stored = index.read_questions()
    kept = stored.current(texts)
    # by length, so that a batch pads its texts to about the same length (about twice as fast as in part order)
    missing = sorted((k for k in texts if k not in kept), key=lambda k: len(texts[k]))
    if not missing and len(kept) == len(stored.keys):
        return False
    vectors = dict(kept)
    if missing:
        model = embedder()
        bar = tqdm(total=len(missing), unit="part", desc="sub-questions", disable=not progress, dynamic_ncols=True)
        for start in range(0, len(missing), BATCH_CHUNKS):
            batch = missing[start : start + BATCH_CHUNKS]
            t = time.perf_counter()
            vectors.update(zip(batch, model.embed_queries([texts[k] for k in batch]), strict=True))
            report.questions_seconds += time.perf_counter() - t
            report.questions_embedded += len(batch)
            bar.update(len(batch))
        bar.close()
    index.write_questions(QuestionVectors.of(texts, vectors, stored.vectors.shape[1] if stored.keys else 0))
    return True


def _embed_contexts(
    index: Index, docs: list[Document], embedder: Embedder, report: IngestReport, progress: bool
) -> None:
    """One vector per document for its context (title and introduction)."""
    bar = tqdm(total=len(docs), unit="doc", desc="document contexts", disable=not progress, dynamic_ncols=True)
    for start in range(0, len(docs), BATCH_CHUNKS):
        batch = docs[start : start + BATCH_CHUNKS]
        texts = [context_text(d) for d in batch]
        wanted = {d.doc_id: text for d, text in zip(batch, texts, strict=True)}
        old = {e.id: v for e, v in index.contexts.entries(list(wanted)) if e.text == wanted.get(e.id)}
        new = [i for i, d in enumerate(batch) if d.doc_id not in old]
        t = time.perf_counter()
        fresh = embedder.embed_passages([texts[i] for i in new]) if new else None
        report.embed_seconds += time.perf_counter() - t
        by_row = dict(zip(new, fresh, strict=True)) if fresh is not None else {}
        vectors = np.vstack([by_row[i] if i in by_row else old[d.doc_id] for i, d in enumerate(batch)])
        index.store_contexts(batch, texts, vectors)
        report.contexts_embedded += len(new)
        bar.update(len(batch))
    bar.close()
