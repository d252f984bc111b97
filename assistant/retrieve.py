"""Question (+ filters) to ranked parts and the evidence for answering: dense search and Dutch BM25 over the
index, fused by assistant.fusion.

Works on a snapshot of the index (documents, keywords, filter columns) that `reload` swaps in one assignment, so a
question is always answered from one generation of the index. Composing the reply is answer.py's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from assistant import fusion, text
from assistant.asked import content_query
from assistant.chunk import question_text
from assistant.crossref import Directory
from assistant.embed import Embedder
from assistant.filters import FIELD_KEYS, Filters, date_number
from assistant.index import Index, KeywordIndex
from assistant.index.questions import QuestionVectors
from assistant.parse.tk import TK_LAYOUT
from assistant.types import Citation, Document, Evidence, Hit, OtherQuestion, PartKey, Pointer, Quote, Retrieval

Mode = Literal["hybrid", "dense", "bm25"]
Fusion = Literal["scores", "rrf"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
FUSIONS: tuple[Fusion, ...] = ("scores", "rrf")
MASK_CACHE = 64
"""Filter masks kept per snapshot: a server sees few distinct filter sets (a widget key's, the chat's)."""
PART_VECTOR_CACHE = 100_000
"""Part vectors kept per snapshot once fetched (~150 MB at most for e5-small); document contexts are all kept."""


@dataclass(frozen=True)
class RetrievalSettings:
    """How the two sides are fused; the defaults were chosen on the dev set (see README, Evaluate)."""

    mode: Mode = "hybrid"
    fusion: Fusion = "scores"
    """How hybrid mode fuses: "scores" (cosine similarity plus the weighted keyword score, relative to the best one)
    or "rrf" (reciprocal rank fusion)."""
    keyword_weight: float = 0.05
    """scores: weight of a part's BM25 score divided by the best BM25 score for the question."""
    keyword_weight_en: float = 0.0
    """scores: the same for questions in another language than the corpus's (English, French, German: text.language),
    which share few words with Dutch documents."""
    referral_penalty: float = 0.05
    """scores: subtracted from a part whose answer only says that another minister is competent."""
    context_weight: float = 0.5
    """scores: weight of the cosine similarity of the question to the part's document as a whole (title and
    introduction), added to every part of it."""
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 0.7
    bm25_weight_en: float = 0.2
    """rrf: questions in another language share few words with Dutch documents, so their keyword side counts for
    less."""
    dense_candidates: int = 80
    bm25_candidates: int = 80
    doc_weight: float = 0.3
    """Weight of the document-level evidence (the best part of the same document) added to each part."""
    question_weight: float = 1.5
    """Within each of the first `question_docs` documents, the parts are put in the order of their fused score plus
    this times the similarity of the question to the part's own sub-question (with the document's title, both
    embedded as queries: question to question). The documents keep their places. Chosen by 5-fold cross-validation
    on the Belgian dev questions (README, Choosing the part); 0 switches it off."""
    question_weight_tk: float = 0.0
    """The same for documents in the Tweede Kamer layout (Document.layout "tk"), whose sub-questions mostly ask for
    a position ("Deelt u de mening ...?", "Bent u bekend met ...?") and so say little of what their answer holds:
    every weight above 0 lost on the Tweede Kamer dev questions."""
    question_docs: int = 3

    def question_weight_for(self, doc: Document | None) -> float:
        return self.question_weight_tk if doc is not None and doc.layout == TK_LAYOUT else self.question_weight

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown retrieval mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {self.fusion!r}: use 'scores' or 'rrf'")


@dataclass(frozen=True)
class Ranked:
    """A part with its fused score and the raw evidence behind it."""

    key: PartKey
    score: float
    dense: float | None
    bm25: float | None


@dataclass
class Snapshot:
    """What retrieval reads of one generation of the index, swapped in whole by `Retriever.reload`."""

    docs: dict[str, Document]
    keywords: KeywordIndex
    generation: int = 0
    row: dict[PartKey, int] = field(default_factory=dict)
    row_doc: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """For each keyword row, the position of its document in `doc_ids`."""
    doc_ids: list[str] = field(default_factory=list)
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    """Per filter field, one value per document (in `doc_ids` order); dates as numbers, -1 when unknown."""
    masks: dict[Filters, np.ndarray] = field(default_factory=dict)
    referral: dict[PartKey, bool] = field(default_factory=dict)
    contexts: dict[str, np.ndarray] = field(default_factory=dict)
    """Document context vectors fetched so far (the store is asked once per document, not once per question)."""
    part_vectors: dict[PartKey, np.ndarray] = field(default_factory=dict)
    question_vectors: dict[PartKey, np.ndarray] = field(default_factory=dict)
    """Sub-question vectors (chunk.question_text), for ordering the parts within a document: those ingest stored,
    and those embedded here for parts it has none for (an index ingested before they existed)."""
    _directory: Directory | None = None

    @property
    def directory(self) -> Directory:
        """The documents by date and number, for references to other questions (built on first use)."""
        if self._directory is None:
            self._directory = Directory(self.docs.values())
        return self._directory

    @classmethod
    def build(
        cls,
        docs: dict[str, Document],
        keywords: KeywordIndex,
        generation: int = 0,
        questions: QuestionVectors | None = None,
    ) -> Snapshot:
        doc_ids = list(docs)
        position = {d: i for i, d in enumerate(doc_ids)}
        columns = {k: np.array([getattr(docs[d], k) or "" for d in doc_ids], dtype=object) for k in FIELD_KEYS}
        columns["date"] = np.array([date_number(docs[d].date) or -1 for d in doc_ids], dtype=np.int64)
        row_doc = np.array([position.get(k.doc_id, -1) for k in keywords.keys], dtype=np.int64)
        row = {k: i for i, k in enumerate(keywords.keys)}
        stored = questions.by_key() if questions is not None else {}
        return cls(docs, keywords, generation, row, row_doc, doc_ids, columns, question_vectors=stored)

    def row_mask(self, filters: Filters) -> np.ndarray:
        """Which keyword rows the filters allow (cached per filter set)."""
        mask = self.masks.get(filters)
        if mask is None:
            allowed = np.ones(len(self.doc_ids), dtype=bool)
            for key, values in filters.fields_set().items():
                allowed &= np.isin(self.columns[key], values)
            low, high = filters.date_range
            dates = self.columns["date"]
            if low is not None:
                allowed &= dates >= low
            if high is not None:
                allowed &= (dates >= 0) & (dates <= high)
            mask = np.append(allowed, False)[self.row_doc]  # row_doc -1 (a row of no document): not allowed
            if len(self.masks) >= MASK_CACHE:
                self.masks.pop(next(iter(self.masks)))
            self.masks[filters] = mask
        return mask

    def is_referral(self, key: PartKey) -> bool:
        """Whether the part's answer only sends the question to another minister (cached per part)."""
        if key not in self.referral:
            doc = self.docs.get(key.doc_id)
            self.referral[key] = doc is not None and text.is_referral(doc.answer_for(key.label))
        return self.referral[key]


class Retriever:
    """Ranks the parts of an index for a question."""

    def __init__(self, index: Index, embedder: Embedder | None, settings: RetrievalSettings | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        if self.settings.mode != "bm25" and embedder is None:
            raise ValueError("dense and hybrid retrieval need an embedder")
        self.snapshot = self._read()
        text.warm()

    def _read(self) -> Snapshot:
        manifest = self.index.manifest
        docs = {d.doc_id: d for d in self.index.documents()}
        generation = manifest.generation if manifest else 0
        return Snapshot.build(docs, self.index.read_keywords(), generation, self.index.read_questions())

    def reload(self) -> None:
        """Pick up documents and keywords written by a later ingest (swapped in whole)."""
        self.snapshot = self._read()

    # -- the two sides

    def _keyword_scores(self, snap: Snapshot, terms: list[str], filters: Filters) -> np.ndarray:
        """The BM25 score of every indexed part (row order of the keyword index), zero where filters exclude it."""
        scores = snap.keywords.scores(terms)
        if scores.size and filters:
            scores = np.where(snap.row_mask(filters), scores, 0.0)
        return scores

    @staticmethod
    def _keyword_top(snap: Snapshot, scores: np.ndarray, k: int) -> list[tuple[PartKey, float]]:
        if scores.size == 0:
            return []
        top = np.argsort(-scores)[:k]
        return [(snap.keywords.keys[i], float(scores[i])) for i in top if scores[i] > 0]

    # -- fusion

    def rank(self, question: str, filters: Filters, top_k: int = 10, vector: np.ndarray | None = None) -> list[Ranked]:
        """Parts ranked for the question under the filters."""
        return self._rank(self.snapshot, question, text.terms(question), filters, top_k, vector)

    def _rank(
        self,
        snap: Snapshot,
        question: str,
        terms: list[str],
        filters: Filters,
        top_k: int,
        vector: np.ndarray | None = None,
        language: str | None = None,
    ) -> list[Ranked]:
        s = self.settings
        if vector is None and self.embedder is not None and s.mode != "bm25":
            vector = self.embedder.embed_queries([question])[0]
        dense = self.index.dense(vector, s.dense_candidates, filters) if vector is not None else []
        keyword = self._keyword_scores(snap, terms, filters) if s.mode != "dense" else np.zeros(0)
        bm25 = self._keyword_top(snap, keyword, s.bm25_candidates) if s.mode != "dense" else []
        if s.mode == "dense":
            return [Ranked(key, sim, sim, None) for key, sim in dense[:top_k]]
        if s.mode == "bm25":
            return [Ranked(key, sc, None, sc) for key, sc in bm25[:top_k]]
        assert vector is not None
        # parts found by keywords alone get their own similarity: it is scored, and it is the evidence for abstaining
        sims = dict(dense)
        sims.update(self._similarities(snap, vector, [k for k, _ in bm25 if k not in sims]))
        foreign = (language or text.language(question)) != text.CORPUS_LANGUAGE
        candidates = [*sims, *(k for k, _ in bm25 if k not in sims)]
        kw = {k: float(keyword[snap.row[k]]) for k in candidates if k in snap.row}
        if s.fusion == "rrf":
            fused = fusion.rrf(dense, bm25, s.dense_weight, s.bm25_weight_en if foreign else s.bm25_weight, s.rrf_k)
        else:
            penalised = {k for k in candidates if snap.is_referral(k)}
            fused = fusion.by_scores(
                sims,
                kw,
                [k for k, _ in bm25],
                float(keyword.max()) if keyword.size else 0.0,
                s.dense_weight,
                s.keyword_weight_en if foreign else s.keyword_weight,
                penalised,
                s.referral_penalty,
            )
            if s.context_weight and fused:
                contexts = self._context_similarities(snap, vector, sorted({k.doc_id for k in fused}))
                if contexts is not None:
                    fused = fusion.add_document_scores(fused, contexts, s.context_weight)
        if s.doc_weight:
            fused = fusion.add_document_best(fused, s.doc_weight)
        ordered = fusion.top(fused, len(fused))
        if (s.question_weight or s.question_weight_tk) and s.question_docs and self.embedder is not None:
            ordered = self._order_within_documents(snap, vector, ordered)
        return [Ranked(key, score, sims.get(key), kw.get(key)) for key, score in ordered[:top_k]]

    def _order_within_documents(
        self, snap: Snapshot, vector: np.ndarray, ordered: list[tuple[PartKey, float]]
    ) -> list[tuple[PartKey, float]]:
        """The parts of the first `question_docs` documents re-ordered among their own places in `ordered` by fused
        score plus `question_weight` x question-to-sub-question similarity; every other place is kept. Each place
        keeps its score, so the list stays in descending order."""
        s = self.settings
        leading: list[str] = []
        for key, _ in ordered:
            if key.doc_id not in leading:
                leading.append(key.doc_id)
                if len(leading) == s.question_docs:
                    break
        chosen = set(leading)
        keys = [k for k, _ in ordered if k.doc_id in chosen]
        weight = {d: s.question_weight_for(snap.docs.get(d)) for d in leading}
        similarity = self._question_similarities(snap, vector, [k for k in keys if weight[k.doc_id]])
        score = dict(ordered)
        queues = {
            d: sorted(
                (k for k in keys if k.doc_id == d),
                key=lambda k: -(score[k] + weight[k.doc_id] * similarity.get(k, 0.0)),
            )
            for d in leading
        }
        out = []
        for key, place_score in ordered:
            out.append((queues[key.doc_id].pop(0), place_score) if key.doc_id in chosen else (key, place_score))
        return out

    def _question_similarities(self, snap: Snapshot, vector: np.ndarray, keys: list[PartKey]) -> dict[PartKey, float]:
        """Cosine similarity of the question to each part's own sub-question, embedded as a query (stored by ingest;
        embedded once here for a part it stored none for)."""
        assert self.embedder is not None
        missing = [k for k in keys if k not in snap.question_vectors]
        if missing:
            texts = [question_text(snap.docs[k.doc_id], k.label) for k in missing]
            snap.question_vectors.update(zip(missing, self.embedder.embed_queries(texts), strict=True))
        return {k: float(snap.question_vectors[k] @ vector) for k in keys}

    def evidence(
        self,
        question: str,
        best: Hit | None,
        terms: list[str] | None = None,
        snap: Snapshot | None = None,
        language: str | None = None,
    ) -> Evidence:
        """How well `question` is answered at all, judged on its best hit: the basis of abstaining. The similarity
        is that of the part shown first (after the order within its document): calibrated on it, it told answerable
        from unanswerable questions better than the best similarity among the document's parts (README, Abstain
        calibration)."""
        lang = language or text.language(question)
        snap = snap or self.snapshot
        doc = snap.docs.get(best.citation.doc_id) if best is not None else None
        if best is None or doc is None:
            return Evidence(language=lang)
        unknown = tuple(snap.keywords.unknown_words(question))
        return Evidence(
            similarity=best.similarity,
            coverage=coverage(snap.keywords, text.terms(question) if terms is None else terms, doc),
            unknown_words=unknown,
            unknown_frequency=tuple(text.zipf_frequency(w, lang) for w in unknown),
            language=lang,
        )

    def _similarities(self, snap: Snapshot, vector: np.ndarray, keys: list[PartKey]) -> dict[PartKey, float]:
        """Cosine similarity to parts the dense side did not return, from vectors cached in the snapshot."""
        missing = [k for k in keys if k not in snap.part_vectors]
        if missing:
            fetched = self.index.part_vectors(missing)
            if len(snap.part_vectors) + len(fetched) > PART_VECTOR_CACHE:
                snap.part_vectors.clear()
            snap.part_vectors.update(fetched)
        return {k: float(snap.part_vectors[k] @ vector) for k in keys if k in snap.part_vectors}

    def _context_similarities(self, snap: Snapshot, vector: np.ndarray, doc_ids: list[str]) -> dict[str, float] | None:
        """Cosine similarity to each document's context; None when one of them has none (an index from before
        contexts existed, until its next ingest adds them)."""
        missing = [d for d in doc_ids if d not in snap.contexts]
        if missing:
            snap.contexts.update(self.index.context_vectors(missing))
        if any(d not in snap.contexts for d in doc_ids):
            return None
        return {d: float(snap.contexts[d] @ vector) for d in doc_ids}

    def search(self, question: str, filters: Filters | Mapping[str, Any] | None = None, top_k: int = 10) -> Retrieval:
        """Ranked parts as Hits with their citation and the answer text a reader should see, and the evidence."""
        snap = self.snapshot
        f = Filters.parse(filters)
        lang = text.language(question)
        # a phrase that only repeats a filter ("volgens de minister van Begroting") is no part of what is asked
        question = content_query(question, f) if f else question
        terms = text.terms(question)
        hits: list[Hit] = []
        for r in self._rank(snap, question, terms, f, top_k, language=lang):
            doc = snap.docs.get(r.key.doc_id)
            hit = make_hit(doc, r.key.label, r.score, r.dense, snap.directory) if doc is not None else None
            if hit is not None:
                hits.append(hit)
        evidence = self.evidence(question, hits[0] if hits else None, terms, snap, lang)
        return Retrieval(tuple(hits), evidence)


def coverage(keywords: KeywordIndex, terms: list[str], doc: Document) -> float | None:
    """Share of the question's content words (IDF-weighted) that occur in the document; None without words."""
    wanted = set(terms)
    if not wanted:
        return None
    present = set(text.terms(f"{doc.title}\n{doc.question_text}\n{doc.answer_text}"))
    total = sum(keywords.idf(t) for t in wanted)
    return sum(keywords.idf(t) for t in wanted & present) / total if total else None


def make_hit(
    doc: Document, label: str, score: float, similarity: float | None = None, directory: Directory | None = None
) -> Hit | None:
    """The hit for a part: its citation, the answer text it resolves to, the text of the parts that answer points
    to and, with a `directory`, the indexed documents of the questions it points to elsewhere."""
    part = doc.part(label)
    if part is None:
        return None
    resolved = doc.resolve(label)
    speaker = resolved if resolved is not None and resolved.answer else part
    quotes = tuple(
        Quote(other, shown) for other in speaker.see if other != label and (shown := doc.answer_for(other).strip())
    )
    pointers = tuple(_pointer(q, doc, directory) for q in speaker.elsewhere)
    # a number answered through its items shows every item's answer: it is no reference to one other part
    referred = part.ref and part.ref_kind != "items"
    via = resolved.label if referred and resolved is not None and resolved.label != label else None
    citation = Citation(
        doc_id=doc.doc_id,
        part=label,
        title=doc.title,
        date=doc.date,
        minister=doc.minister,
        department=doc.department,
        via_ref=via,
    )
    return Hit(
        citation=citation,
        score=score,
        question=part.question,
        answer=doc.answer_for(label),
        similarity=similarity,
        quotes=quotes,
        pointers=pointers,
    )


def _pointer(question: OtherQuestion, source: Document, directory: Directory | None) -> Pointer:
    found = directory.find(question, source) if directory is not None else None
    return Pointer(question, found.doc_id, found.title) if found is not None else Pointer(question)
