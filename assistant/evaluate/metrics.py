"""Scoring (FORMAT.md §3): an Outcome per case and system, its hits computed once, and the metrics blocks.

Pure: no system is run here. Latency percentiles are computed here for every caller (eval, bench, load).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from assistant.evaluate.gold import Case
from assistant.parse.clean import fold


def has_facts(text: str, facts: Sequence[str]) -> bool:
    """Whether every fact occurs in the text (lower-cased, whitespace folded)."""
    folded = fold(text).lower()
    return all(fold(f).lower() in folded for f in facts)


@dataclass
class Outcome:
    """What one system returned for one case, with what it scores (computed once)."""

    case: Case
    parts: list[tuple[str, str]] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    first_text: str = ""
    """Everything shown as the first answer: the top part's text, then the parts it points to (Hit.shown_text)."""
    abstained: bool = False
    seconds: float = 0.0
    top_similarity: float | None = None

    @cached_property
    def gold_parts(self) -> set[tuple[str, str]]:
        return set(self.case.gold)

    @cached_property
    def gold_docs(self) -> set[str]:
        return {d for d, _ in self.case.gold}

    def part_hit(self, k: int) -> bool:
        return any(p in self.gold_parts for p in self.parts[:k])

    def doc_hit(self, k: int) -> bool:
        return any(d in self.gold_docs for d in self.docs[:k])

    def part_rr(self, k: int = 10) -> float:
        return _rr(self.parts, self.gold_parts, k)

    def doc_rr(self, k: int = 10) -> float:
        return _rr(self.docs, self.gold_docs, k)

    @cached_property
    def facts_ok(self) -> bool:
        """The first answer shown holds every fact (and the system did not abstain)."""
        return not self.abstained and has_facts(self.first_text, self.case.facts)


def _rr(ranked: Sequence[Any], gold: set[Any], k: int) -> float:
    for i, r in enumerate(ranked[:k]):
        if r in gold:
            return 1.0 / (i + 1)
    return 0.0


def mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 and max in milliseconds (nearest rank for p95)."""
    ms = sorted(s * 1000 for s in seconds)
    if not ms:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return {"p50": round(statistics.median(ms), 1), "p95": round(p95, 1), "max": round(ms[-1], 1)}


def hit_block(items: Sequence[Outcome], parts: bool = True) -> dict[str, float]:
    """Hit, MRR and fact-recall metrics over answerable outcomes."""
    out: dict[str, float] = {}
    if parts:
        for k in (1, 5):
            out[f"part_hit{k}"] = mean([float(o.part_hit(k)) for o in items])
        out["part_mrr10"] = mean([o.part_rr() for o in items])
    for k in (1, 5):
        out[f"doc_hit{k}"] = mean([float(o.doc_hit(k)) for o in items])
    out["doc_mrr10"] = mean([o.doc_rr() for o in items])
    out["fact_recall1"] = mean([float(o.facts_ok) for o in items])
    return out


def score_cases(outcomes: Sequence[Outcome], parts: bool = True) -> dict[str, Any]:
    """FORMAT.md §3 metrics over outcomes; `parts=False` for systems that cite whole documents or chunks."""
    answerable = [o for o in outcomes if o.case.gold]
    abstain = [o for o in outcomes if not o.case.gold]
    metrics: dict[str, Any] = {"cases": len(outcomes), "answerable": len(answerable), "abstain": len(abstain)}
    metrics.update(hit_block(answerable, parts))
    metrics["abstain_accuracy"] = mean([float(o.abstained) for o in abstain])
    metrics["false_abstain_rate"] = mean([float(o.abstained) for o in answerable])
    by_kind: dict[str, Any] = {}
    for kind in sorted({o.case.kind for o in outcomes}):
        items = [o for o in outcomes if o.case.kind == kind]
        if kind == "abstain":
            by_kind[kind] = {"cases": len(items), "abstain_accuracy": mean([float(o.abstained) for o in items])}
        else:
            by_kind[kind] = {"cases": len(items), **hit_block(items, parts)}
    metrics["by_kind"] = by_kind
    metrics["latency_ms"] = percentiles([o.seconds for o in outcomes])
    return metrics


def hit_curve(outcomes: Sequence[Outcome], parts: bool, k_max: int = 10) -> list[float]:
    """hit@k for k = 1..k_max over the answerable outcomes."""
    answerable = [o for o in outcomes if o.case.gold]
    if not answerable:
        return [0.0] * k_max
    hit = (lambda o, k: o.part_hit(k)) if parts else (lambda o, k: o.doc_hit(k))
    return [sum(hit(o, k) for o in answerable) / len(answerable) for k in range(1, k_max + 1)]
