"""Fusing the dense and keyword sides into one score per part: pure functions over score dicts (in the manner
of pyserini's `fusion/`). Which signals exist and where they come from is retrieve.py's business.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from assistant.types import PartKey

Scores = dict[PartKey, float]


def rrf(
    dense: Sequence[tuple[PartKey, float]],
    keyword: Sequence[tuple[PartKey, float]],
    dense_weight: float,
    keyword_weight: float,
    k: int = 60,
) -> Scores:
    """Reciprocal rank fusion: each side adds weight / (k + rank)."""
    fused: Scores = {}
    for weight, side in ((dense_weight, dense), (keyword_weight, keyword)):
        for rank, (key, _) in enumerate(side):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank + 1)
    return fused


def by_scores(
    similarities: Mapping[PartKey, float],
    keyword: Mapping[PartKey, float],
    keyword_candidates: Sequence[PartKey],
    best_keyword: float,
    dense_weight: float,
    keyword_weight: float,
    penalised: Collection[PartKey] = (),
    penalty: float = 0.0,
) -> Scores:
    """Cosine similarity plus `keyword_weight` times the BM25 score relative to the best one (`best_keyword`, over
    every part the filters allow), less `penalty` for the parts in `penalised`. The candidates are the parts with a
    similarity and then `keyword_candidates`; `keyword` holds the BM25 score of any candidate that has one. A part
    with no similarity (missing from the vector store) gets the lowest one."""
    floor = min(similarities.values(), default=0.0)
    best = best_keyword
    fused: Scores = {}
    for key in [*similarities, *(k for k in keyword_candidates if k not in similarities)]:
        relative = keyword.get(key, 0.0) / best if best > 0 else 0.0
        score = dense_weight * similarities.get(key, floor) + keyword_weight * relative
        fused[key] = score - (penalty if key in penalised else 0.0)
    return fused


def add_document_scores(fused: Mapping[PartKey, float], doc_scores: Mapping[str, float], weight: float) -> Scores:
    """Each part plus `weight` times a score of its document (its context similarity)."""
    return {key: score + weight * doc_scores[key.doc_id] for key, score in fused.items()}


def add_document_best(fused: Mapping[PartKey, float], weight: float) -> Scores:
    """Each part plus `weight` times the best fused score among its document's parts (document-level evidence)."""
    best: dict[str, float] = {}
    for key, score in fused.items():
        best[key.doc_id] = max(best.get(key.doc_id, score), score)
    return {key: score + weight * best[key.doc_id] for key, score in fused.items()}


def top(fused: Mapping[PartKey, float], n: int) -> list[tuple[PartKey, float]]:
    """The n best, highest first (ties keep their insertion order)."""
    return sorted(fused.items(), key=lambda kv: -kv[1])[:n]
