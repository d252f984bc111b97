"""Choosing the abstain policy on gold questions by cross-validation (`assistant eval --calibrate`).

The evidence of every question is computed once (one search each). Then, per fold of a repeated stratified k-fold,
one rule picks the thresholds on the training folds and the held-out fold scores them: per language, the most
abstain cases caught with at most `target` false abstentions; of equally good choices the one with the fewest false
abstentions, and of those the one that refuses the most (the highest Zipf cut-off and unknown-word threshold; for
other languages the highest threshold) while costing no answerable training case more, with the Dutch score threshold
midway between the nearest cases. The shipped policy comes from all cases by the same rule. Running the
system for the usual metrics is run.py's job.

The false abstentions are counted twice for Dutch questions: on the index as it is, and as if the corpus held
nothing but the question's own gold document (its words that this document lacks become "unknown"), so that the
Zipf cut-off chosen also holds on a corpus much smaller than the dev index.
"""

from __future__ import annotations

import json
import math
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from assistant import text
from assistant.answer import AbstainPolicy
from assistant.application import Assistant
from assistant.chunk import part_search_text
from assistant.errors import AssistantError
from assistant.evaluate.gold import Case
from assistant.index import KeywordIndex
from assistant.types import Evidence, PartKey

TARGET = 0.03
"""The operating point: at most this share of answerable questions refused (per language, on the training folds)."""
FOLDS = 5
REPEATS = 5
STEP = 0.0025
"""Candidate similarity thresholds are the multiples of this from below the lowest case to above the highest one (the
lowest abstains on nothing, so the rule always has a choice)."""
COVERAGE_WEIGHTS = (0.0, 0.025, 0.05, 0.075, 0.1)
ZIPF_CUTOFFS = (*np.round(np.arange(1.0, 5.01, 0.25), 2).tolist(), 9.0)
"""Candidate Zipf cut-offs for a "rare" word; 9 counts every word the corpus lacks (no word is that common)."""
RANKED = 10


@dataclass(frozen=True)
class Row:
    """One gold question's evidence, computed once: on the index, and on its gold document alone."""

    id: str
    lang: str
    """The gold file's language of the question (what the English check counts)."""
    abstain: bool
    evidence: Evidence
    small: Evidence
    """The same evidence with the words the question's own gold document lacks as its unknown words."""
    no_hits: bool
    doc_hit5: bool

    @property
    def dutch(self) -> bool:
        return self.evidence.language == text.CORPUS_LANGUAGE


def collect(app: Assistant, cases: Sequence[Case], progress: bool = True) -> list[Row]:
    """Search every case once and keep what the policy reads."""
    if app.retrieval.mode == "bm25":
        raise AssistantError("calibrating needs the dense side (its similarity is what the policy reads): drop --mode")
    docs = {d.doc_id: d for d in app.documents()}
    rows = []
    for case in tqdm(cases, desc="evidence", unit="q", disable=not progress):
        retrieval = app.search(case.question, case.filters, top_k=RANKED)
        e = retrieval.evidence
        small = e
        if case.gold:
            gold_docs = [docs[d] for d in dict.fromkeys(d for d, _ in case.gold) if d in docs]
            keys = [PartKey(d.doc_id, p.label) for d in gold_docs for p in d.parts]
            own = KeywordIndex.build(keys, [part_search_text(d, p) for d in gold_docs for p in d.parts])
            lacking = tuple(own.unknown_words(case.question))
            small = replace(
                e, unknown_words=lacking, unknown_frequency=tuple(text.zipf_frequency(w, e.language) for w in lacking)
            )
        ranked_docs = list(dict.fromkeys(h.citation.doc_id for h in retrieval.hits))[:5]
        hit5 = any(d in {g for g, _ in case.gold} for d in ranked_docs)
        rows.append(Row(case.id, case.lang, not case.gold, e, small, not retrieval.hits, hit5))
    return rows


# ---------------------------------------------------------------- the rule


def _margin(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per threshold, the distance to the nearest value; inf without values."""
    if not len(values):
        return np.full(len(thresholds), np.inf)
    return np.abs(values[:, None] - thresholds[None, :]).min(axis=0)


@dataclass
class _Best:
    """The best choice so far by a lexicographic key (higher is better), with every tie."""

    key: tuple[float, ...] = ()
    ties: list[tuple[float, ...]] = field(default_factory=list)

    def offer(self, key: tuple[float, ...], choices: list[tuple[float, ...]]) -> None:
        rounded = tuple(round(k, 9) for k in key)
        if not self.ties or rounded > self.key:
            self.key, self.ties = rounded, list(choices)
        elif rounded == self.key:
            self.ties.extend(choices)

    def middle(self) -> tuple[float, ...]:
        """Of choices equal on every key, the middle one (sorted; they differ in the coverage weight)."""
        return sorted(self.ties)[len(self.ties) // 2]


def _pick(keys: Sequence[np.ndarray], feasible: np.ndarray, best: _Best, label: Any) -> None:
    """Offer the best feasible cells of one grid to `best`, by `keys` (arrays of the grid's shape) in turn, higher
    first; `label(index)` names a cell's choice."""
    if not feasible.any():
        return
    cells = feasible.copy()
    top = []
    for key in keys:
        k = np.broadcast_to(key, cells.shape)
        high = np.where(cells, k, -np.inf).max()
        cells &= np.isclose(k, high) | (k == high)
        top.append(float(high))
    best.offer(tuple(top), [label(ix) for ix in zip(*np.nonzero(cells), strict=True)])


def _arrays(rows: Sequence[Row], small: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """similarity (-inf without hits: always refused), coverage (0 without content words) and the rarest unknown
    word's Zipf frequency (inf without one)."""
    ev = [r.small if small else r.evidence for r in rows]
    sim = np.array(
        [-np.inf if r.no_hits or e.similarity is None else e.similarity for r, e in zip(rows, ev, strict=True)]
    )
    cov = np.array([e.coverage or 0.0 for e in ev])
    rare = np.array([min(e.unknown_frequency, default=np.inf) for e in ev])
    return sim, cov, rare


def _grid(*values: np.ndarray) -> np.ndarray:
    """The candidate thresholds for these similarities (multiples of STEP around them)."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    if not len(finite):
        return np.array([0.0])
    low, high = math.floor(finite.min() / STEP) - 1, math.ceil(finite.max() / STEP) + 1
    return np.round(np.arange(low, high + 1) * STEP, 4)


def _refused(sim: np.ndarray, d: np.ndarray, flagged: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Rows x unknown_words threshold x dutch threshold: whether the Dutch rule refuses (AbstainPolicy.abstains)."""
    by_word = flagged[:, None] & (sim[:, None] < t[None, :])
    by_score = d[:, None] < t[None, :]
    return by_word[:, :, None] | by_score[:, None, :]


def choose_dutch(rows: Sequence[Row], target: float = TARGET) -> tuple[float, float, float, float]:
    """(coverage_weight, rare_zipf, unknown_words, dutch) for the Dutch questions among `rows`, by the rule."""
    answerable = [r for r in rows if not r.abstain]
    refusable = [r for r in rows if r.abstain]
    s_ok, c_ok, z_ok = _arrays(answerable)
    _, _, z_small = _arrays(answerable, small=True)
    s_no, c_no, z_no = _arrays(refusable)
    t = _grid(s_ok, s_no, s_ok + max(COVERAGE_WEIGHTS) * c_ok, s_no + max(COVERAGE_WEIGHTS) * c_no)
    best = _Best()
    for w in COVERAGE_WEIGHTS:
        d_ok, d_no = s_ok + w * c_ok, s_no + w * c_no
        scores = np.concatenate([d_ok, d_no])
        margin = _margin(scores[np.isfinite(scores)], t)[None, :]
        for z in ZIPF_CUTOFFS:
            fa = _refused(s_ok, d_ok, z_ok < z, t).mean(axis=0) if len(answerable) else np.zeros((len(t), len(t)))
            fa_small = _refused(s_ok, d_ok, z_small < z, t).mean(axis=0) if len(answerable) else fa
            acc = _refused(s_no, d_no, z_no < z, t).mean(axis=0) if len(refusable) else np.zeros_like(fa)
            feasible = (fa <= target + 1e-9) & (fa_small <= target + 1e-9)
            # the unknown-word rule rests on few abstain cases: where they leave it open, it goes as far as costs
            # nothing; the score threshold (whose scale moves with the coverage weight) keeps the widest margin
            keys = [acc, -(fa + fa_small), np.array(z), t[:, None], margin]
            _pick(keys, feasible, best, lambda ix, w=w, z=z: (z, w, t[ix[0]], t[ix[1]]))
    z, w, tu, td = best.middle()
    return float(w), float(z), float(tu), float(td)


def choose_other(rows: Sequence[Row], target: float = TARGET) -> float:
    """The similarity threshold for questions in another language than the corpus's, by the rule."""
    s_ok = _arrays([r for r in rows if not r.abstain])[0]
    s_no = _arrays([r for r in rows if r.abstain])[0]
    t = _grid(s_ok, s_no)
    fa = (s_ok[:, None] < t[None, :]).mean(axis=0) if len(s_ok) else np.zeros(len(t))
    acc = (s_no[:, None] < t[None, :]).mean(axis=0) if len(s_no) else np.zeros(len(t))
    best = _Best()
    _pick([acc, -fa, t], fa <= target + 1e-9, best, lambda ix: (t[ix[0]],))
    return float(best.middle()[0])


def choose(rows: Sequence[Row], target: float = TARGET) -> AbstainPolicy:
    """The policy the rule picks on `rows`: Dutch and other-language thresholds each on their own questions."""
    w, z, tu, td = choose_dutch([r for r in rows if r.dutch], target)
    other = choose_other([r for r in rows if not r.dutch], target)
    return AbstainPolicy(dutch=td, english=other, coverage_weight=w, unknown_words=tu, rare_zipf=z)


# ---------------------------------------------------------------- scoring


def refuses(policy: AbstainPolicy, evidence: Evidence, no_hits: bool) -> bool:
    """What answer.compose decides: no hits, or the policy abstains."""
    return no_hits or policy.abstains(evidence)


def _rate(values: Sequence[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def score(policy: AbstainPolicy, rows: Sequence[Row]) -> dict[str, float | None]:
    """Abstain accuracy, false abstentions (on the index and on the gold document alone) and English doc_hit5 of
    `policy` on `rows`, through the policy's own code."""
    ok = [r for r in rows if not r.abstain]
    no = [r for r in rows if r.abstain]
    en = [r for r in ok if r.lang == "en"]
    return {
        "abstain_accuracy": _rate([refuses(policy, r.evidence, r.no_hits) for r in no]),
        "false_abstain_rate": _rate([refuses(policy, r.evidence, r.no_hits) for r in ok]),
        "false_abstain_own_doc": _rate([refuses(policy, r.small, r.no_hits) for r in ok if r.dutch]),
        "abstain_accuracy_nl": _rate([refuses(policy, r.evidence, r.no_hits) for r in no if r.dutch]),
        "abstain_accuracy_other": _rate([refuses(policy, r.evidence, r.no_hits) for r in no if not r.dutch]),
        "en_doc_hit5": _rate([r.doc_hit5 and not refuses(policy, r.evidence, r.no_hits) for r in en]),
    }


def _summary(folds: Sequence[dict[str, float | None]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for key in folds[0] if folds else ():
        values = [v for f in folds if (v := f[key]) is not None]
        if values:
            out[key] = {
                "mean": round(statistics.fmean(values), 4),
                "sd": round(statistics.pstdev(values), 4),
                "min": round(min(values), 4),
                "max": round(max(values), 4),
                "folds": len(values),
            }
    return out


@dataclass(frozen=True)
class Calibration:
    """The shipped policy (chosen on every case), its in-sample figures and the held-out figures per fold."""

    policy: AbstainPolicy
    in_sample: dict[str, float | None]
    folds: list[dict[str, Any]]
    held_out: dict[str, dict[str, float]]
    pooled: dict[str, float | None]
    """Every held-out decision of one repeat pooled (each case held out once), averaged over the repeats."""
    settings: dict[str, Any]
    language_accuracy: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["policy"] = asdict(self.policy)
        return d


def cross_validate(
    rows: Sequence[Row], folds: int = FOLDS, repeats: int = REPEATS, target: float = TARGET, seed: int = 0
) -> Calibration:
    """Held-out figures of the rule over a repeated k-fold stratified by language and abstain case, and the policy
    the rule picks on all rows."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    if len(rows) < folds:
        raise AssistantError(f"{len(rows)} cases cannot be split into {folds} folds")
    labels = [f"{r.lang}-{r.abstain}" for r in rows]
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    per_fold: list[dict[str, Any]] = []
    pooled: list[dict[str, float | None]] = []
    decided: dict[str, AbstainPolicy] = {}
    with warnings.catch_warnings():
        # two English abstain cases cannot be in all five folds; the others spread
        warnings.filterwarnings("ignore", message="The least populated class")
        splits = list(splitter.split(np.zeros(len(rows)), labels))
    for n, (train, test) in enumerate(splits):
        policy = choose([rows[i] for i in train], target)
        held = [rows[i] for i in test]
        per_fold.append({"repeat": n // folds, "fold": n % folds, "policy": asdict(policy), **score(policy, held)})
        decided.update((r.id, policy) for r in held)
        if n % folds == folds - 1:
            pooled.append(_pooled(rows, decided))
            decided = {}
    figures = [{k: v for k, v in f.items() if k not in ("repeat", "fold", "policy")} for f in per_fold]
    shipped = choose(rows, target)
    mean_pooled = {k: v["mean"] for k, v in _summary(pooled).items()}
    return Calibration(
        policy=shipped,
        in_sample=score(shipped, rows),
        folds=per_fold,
        held_out=_summary(figures),
        pooled=dict(mean_pooled),
        settings={"folds": folds, "repeats": repeats, "target": target, "seed": seed, "cases": len(rows)},
        language_accuracy=round(sum(r.evidence.language == r.lang for r in rows) / len(rows), 4),
    )


def _pooled(rows: Sequence[Row], decided: dict[str, AbstainPolicy]) -> dict[str, float | None]:
    """The figures of one repeat with every case judged by the policy of the fold that held it out."""
    out: dict[str, float | None] = {}
    parts = [score(decided[r.id], [r]) for r in rows]
    for key in parts[0]:
        values = [v for p in parts if (v := p[key]) is not None]
        out[key] = sum(values) / len(values) if values else None
    return out


def write(calibration: Calibration, report: Path) -> Path:
    """calibration.json in the report folder."""
    report.mkdir(parents=True, exist_ok=True)
    path = report / "calibration.json"
    path.write_text(json.dumps(calibration.to_dict(), indent=2), encoding="utf-8")
    return path


def summary_lines(c: Calibration) -> list[str]:
    """The figures a person reads: held-out (mean, sd, range over folds; pooled) next to in-sample, and the policy."""
    lines = [
        f"{c.settings['cases']} cases, {c.settings['folds']}-fold x {c.settings['repeats']} stratified, target "
        f"<= {c.settings['target']:.0%} false abstentions; language identified right for {c.language_accuracy:.1%}",
        f"{'':24} {'held-out mean':>13} {'sd':>6} {'min':>6} {'max':>6} {'pooled':>7} {'in-sample':>9}",
    ]
    for key, s in c.held_out.items():
        pooled = c.pooled.get(key)
        inside = c.in_sample.get(key)
        lines.append(
            f"{key:24} {s['mean']:>13.3f} {s['sd']:>6.3f} {s['min']:>6.3f} {s['max']:>6.3f} "
            f"{'-' if pooled is None else f'{pooled:.3f}':>7} {'-' if inside is None else f'{inside:.3f}':>9}"
        )
    p = c.policy
    lines.append(
        f"policy: AbstainPolicy(dutch={p.dutch}, english={p.english}, coverage_weight={p.coverage_weight}, "
        f"unknown_words={p.unknown_words}, rare_zipf={p.rare_zipf})"
    )
    return lines
