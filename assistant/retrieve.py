"""Question (+ filters) to ranked parts: dense search in Chroma and Dutch BM25, fused by reciprocal rank.

Works at the level of parts: chunk hits are folded into their part, and every hit carries its citation. Also
offers the same search as a LangChain `BaseRetriever`. Composing the reply shown to users is answer.py's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from assistant.chunk import part_id
from assistant.embed import Embedder
from assistant.index import Index, matches, validate_filters, where_clause
from assistant.parse.referral import is_referral
from assistant.types import Citation, Document, Hit

# English function words that are not also Dutch words ("in", "is", "was", "of" are both)
_EN_WORDS = frozenset(
    "the and to were how many much what which who when why does did do are for by with from has have "
    "this that there their will would could should about".split()
)


@dataclass(frozen=True)
class RetrievalSettings:
    """How the two sides are fused; the defaults were chosen on the dev set (see README, Evaluate)."""

    mode: str = "hybrid"
    """"hybrid", "dense" or "bm25"."""
    fusion: str = "scores"
    """How hybrid mode fuses: "scores" (cosine similarity plus the weighted keyword score, relative to the best one)
    or "rrf" (reciprocal rank fusion)."""
    keyword_weight: float = 0.05
    """scores: weight of a part's BM25 score divided by the best BM25 score for the question."""
    keyword_weight_en: float = 0.0
    """scores: the same for English questions, which share few words with Dutch documents."""
    referral_penalty: float = 0.05
    """scores: subtracted from a part whose answer only says that another minister is competent."""
    context_weight: float = 0.5
    """scores: weight of the cosine similarity of the question to the part's document as a whole (title and
    introduction), added to every part of it."""
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 0.7
    bm25_weight_en: float = 0.2
    """rrf: English questions share few words with Dutch documents, so their keyword side counts for less."""
    dense_candidates: int = 80
    bm25_candidates: int = 80
    doc_weight: float = 0.3
    """Weight of the document-level evidence (the best part of the same document) added to each part."""


def looks_english(text: str) -> bool:
    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        return False
    return sum(w in _EN_WORDS for w in words) / len(words) >= 0.15


@dataclass(frozen=True)
class Ranked:
    """A part with its fused score and the raw evidence behind it."""

    doc_id: str
    part: str
    score: float
    dense: float | None
    bm25: float | None


def _ranked(key: str, score: float, dense: float | None, bm25: float | None) -> Ranked:
    doc_id, _, label = key.partition("#")
    return Ranked(doc_id, label, score, dense, bm25)


class Retriever:
    """Ranks the parts of an index for a question."""

    def __init__(self, index: Index, embedder: Embedder | None, settings: RetrievalSettings | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        if self.settings.mode != "bm25" and embedder is None:
            raise ValueError("dense and hybrid retrieval need an embedder")
        if self.settings.fusion not in ("scores", "rrf"):
            raise ValueError(f"unknown fusion {self.settings.fusion!r}: use 'scores' or 'rrf'")
        self.reload()

    def reload(self) -> None:
        """Pick up documents and keywords written by a later ingest."""
        self.docs: dict[str, Document] = {d.doc_id: d for d in self.index.docs.all()}
        self.keywords = self.index.read_keywords()
        self._part_doc = [key.split("#", 1)[0] for key in self.keywords.keys]
        self._row = {key: i for i, key in enumerate(self.keywords.keys)}
        self._referral: dict[str, bool] = {}

    # -- the two sides

    def dense(
        self, question: str, filters: Mapping[str, str], k: int, vector: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        assert self.embedder is not None
        vector = self.embedder.embed_queries([question])[0] if vector is None else vector
        best: dict[str, float] = {}
        for chunk_id, sim, meta in self.index.vectors.query(vector, k, where_clause(filters)):
            key = part_id(str(meta.get("doc_id")), str(meta.get("part"))) if meta else chunk_id.split("~")[0]
            if sim > best.get(key, -1.0):
                best[key] = sim
        return sorted(best.items(), key=lambda kv: -kv[1])

    def similarities(self, vector: np.ndarray, keys: list[str]) -> dict[str, float]:
        """Cosine similarity of the question to parts that dense search did not return (their first chunk)."""
        if not keys:
            return {}
        stored = self.index.vectors.get_vectors(keys)
        return {key: float(v @ vector) for key, v in stored.items()}

    def keyword_scores(self, question: str, filters: Mapping[str, str]) -> np.ndarray:
        """The BM25 score of every indexed part (row order of the keyword index), zero where filters exclude it."""
        scores = self.keywords.scores(question)
        if scores.size and filters:
            allowed = {d for d, doc in self.docs.items() if matches(doc, filters)}
            mask = np.fromiter((d in allowed for d in self._part_doc), dtype=bool, count=len(self._part_doc))
            scores = np.where(mask, scores, 0.0)
        return scores

    def bm25(
        self, question: str, filters: Mapping[str, str], k: int, scores: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        scores = self.keyword_scores(question, filters) if scores is None else scores
        if scores.size == 0:
            return []
        top = np.argsort(-scores)[:k]
        return [(self.keywords.keys[i], float(scores[i])) for i in top if scores[i] > 0]

    def is_referral(self, key: str) -> bool:
        """Whether the part's answer only sends the question to another minister (cached per part)."""
        if key not in self._referral:
            doc_id, _, label = key.partition("#")
            doc = self.docs.get(doc_id)
            self._referral[key] = doc is not None and is_referral(doc.answer_for(label))
        return self._referral[key]

    # -- fusion

    def rank(self, question: str, filters: Mapping[str, Any] | None = None, top_k: int = 10) -> list[Ranked]:
        """Parts ranked for the question under the filters."""
        s = self.settings
        f = validate_filters(filters)
        vector = self.embedder.embed_queries([question])[0] if self.embedder and s.mode != "bm25" else None
        dense = self.dense(question, f, s.dense_candidates, vector) if vector is not None else []
        keyword = self.keyword_scores(question, f) if s.mode in ("bm25", "hybrid") else np.zeros(0)
        bm25 = self.bm25(question, f, s.bm25_candidates, keyword) if s.mode in ("bm25", "hybrid") else []
        if s.mode == "dense":
            return [_ranked(key, sim, sim, None) for key, sim in dense[:top_k]]
        if s.mode == "bm25":
            return [_ranked(key, sc, None, sc) for key, sc in bm25[:top_k]]
        assert vector is not None
        # parts found by keywords alone get their own similarity: it is scored, and it is the evidence for abstaining
        sims = dict(dense)
        sims.update(self.similarities(vector, [k for k, _ in bm25 if k not in sims]))
        english = looks_english(question)
        if s.fusion == "rrf":
            fused = self._rrf(dense, bm25, s.bm25_weight_en if english else s.bm25_weight)
        else:
            fused = self._scores(sims, bm25, keyword, s.keyword_weight_en if english else s.keyword_weight)
            fused = self._with_context(vector, fused)
        if s.doc_weight:
            doc_best: dict[str, float] = {}
            for key, score in fused.items():
                d = key.split("#", 1)[0]
                doc_best[d] = max(doc_best.get(d, -np.inf), score)
            fused = {k: v + s.doc_weight * doc_best[k.split("#", 1)[0]] for k, v in fused.items()}
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])[:top_k]
        return [
            _ranked(key, score, sims.get(key), float(keyword[self._row[key]]) if key in self._row else None)
            for key, score in ranked
        ]

    def _rrf(self, dense: list[tuple[str, float]], bm25: list[tuple[str, float]], wb: float) -> dict[str, float]:
        s = self.settings
        fused: dict[str, float] = {}
        for rank, (key, _) in enumerate(dense):
            fused[key] = fused.get(key, 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
        for rank, (key, _) in enumerate(bm25):
            fused[key] = fused.get(key, 0.0) + wb / (s.rrf_k + rank + 1)
        return fused

    def _scores(
        self, sims: dict[str, float], bm25: list[tuple[str, float]], keyword: np.ndarray, wk: float
    ) -> dict[str, float]:
        """Cosine similarity plus `wk` times the BM25 score relative to the best one, less the referral penalty."""
        s = self.settings
        floor = min(sims.values(), default=0.0)  # only for a part missing from the vector store
        best = float(keyword.max()) if keyword.size else 0.0
        fused: dict[str, float] = {}
        for key in list(sims) + [k for k, _ in bm25 if k not in sims]:
            kw = float(keyword[self._row[key]]) / best if best > 0 and key in self._row else 0.0
            score = s.dense_weight * sims.get(key, floor) + wk * kw
            fused[key] = score - (s.referral_penalty if self.is_referral(key) else 0.0)
        return fused

    def _with_context(self, vector: np.ndarray, fused: dict[str, float]) -> dict[str, float]:
        """Each part plus `context_weight` times its document's context similarity. Left out when a candidate
        document has no context vector (an index from before they existed, until the next ingest adds them)."""
        w = self.settings.context_weight
        doc_ids = sorted({key.split("#", 1)[0] for key in fused})
        if not w or not doc_ids:
            return fused
        stored = self.index.contexts.get_vectors(doc_ids)
        if len(stored) < len(doc_ids):
            return fused
        sims = {doc_id: float(v @ vector) for doc_id, v in stored.items()}
        return {key: score + w * sims[key.split("#", 1)[0]] for key, score in fused.items()}

    def search(self, question: str, filters: Mapping[str, Any] | None = None, top_k: int = 10) -> list[Hit]:
        """Ranked parts as Hits with their citation and the answer text a reader should see."""
        hits: list[Hit] = []
        terms = self.keywords.terms(question)
        for r in self.rank(question, filters, top_k):
            doc = self.docs.get(r.doc_id)
            if doc is None:
                continue
            hit = make_hit(doc, r.part, r.score, r.dense)
            if hit is not None:
                if not hits:  # the evidence for abstaining is judged on the best hit only
                    unknown = tuple(self.keywords.unknown_words(question))
                    hit = replace(hit, coverage=self.coverage(terms, doc), unknown_words=unknown)
                hits.append(hit)
        return hits

    def coverage(self, terms: list[str], doc: Document) -> float | None:
        """Share of the question's content words (IDF-weighted) that occur in the document; None without words."""
        wanted = set(terms)
        if not wanted:
            return None
        present = set(self.keywords.terms(f"{doc.title}\n{doc.question_text}\n{doc.answer_text}"))
        total = sum(self.keywords.idf(t) for t in wanted)
        return sum(self.keywords.idf(t) for t in wanted & present) / total if total else None


def make_hit(doc: Document, label: str, score: float, similarity: float | None = None) -> Hit | None:
    part = doc.part(label)
    if part is None:
        return None
    resolved = doc.resolve(label)
    via = resolved.label if part.ref and resolved is not None and resolved.label != label else None
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
        citation=citation, score=score, question=part.question, answer=doc.answer_for(label), similarity=similarity
    )


def as_langchain(retriever: Retriever, filters: Mapping[str, Any] | None = None, top_k: int = 5) -> Any:
    """The retriever as a LangChain `BaseRetriever` returning `Document`s with citation metadata."""
    from assistant.lc import PartRetriever

    return PartRetriever(retriever=retriever, filters=dict(filters or {}), top_k=top_k)
