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

Follow-ups (the turns of gold conversations from the second on) are cases too, with the evidence they are answered
on in their conversation; the folds keep a conversation's turns together, and the rule lets follow-ups choose only
among what the questions leave equal.
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
from assistant.evaluate_conversations import Conversation
from assistant.followup import Resolved as FollowupResolved
from assistant.followup import Turn, compose_resolved, conversation_backs
from assistant.index import KeywordIndex
from assistant.types import Evidence, PartKey, Retrieval

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
    followup: bool = False
    """A turn from the second on of a gold conversation, with the evidence it was answered on in that conversation."""
    group: str = ""
    """The conversation a follow-up belongs to: its turns go to the same fold ("" for a question: its own group)."""
    backed: bool = False
    """Whether the conversation backs the follow-up's best hit (followup.conversation_backs): it is then answered
    whatever its similarity, unless it names a rare word the corpus lacks."""
    own: Evidence | None = None
    """For a follow-up: the evidence read on its own words (unknown words, coverage) rather than on the query the
    conversation rewrote it into; the similarity is the rewritten query's either way."""

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


def collect_followups(app: Assistant, conversations: Sequence[Conversation], progress: bool = True) -> list[Row]:
    """Every turn of every conversation answered as `eval --conversations` answers it (the earlier gold questions
    and our own earlier answers, under the app's policy, as its history); a Row for each turn from the second on,
    with the evidence, hits and conversation backing the abstain decision of `Assistant.ask` reads."""
    from assistant.evaluate.run import conversation_reply
    from assistant.evaluate_conversations import run_conversations

    if app.retrieval.mode == "bm25":
        raise AssistantError("calibrating needs the dense side (its similarity is what the policy reads): drop --mode")
    catalog = app.catalog()
    searched: list[tuple[FollowupResolved, Retrieval]] = []
    bar = tqdm(total=sum(len(c.turns) for c in conversations), desc="turns", unit="q", disable=not progress)

    def ask(question: str, history: Sequence[Turn]) -> Any:
        resolved, retrieval = app.search_followup(question, history, top_k=RANKED)
        searched.append((resolved, retrieval))
        bar.update()
        return conversation_reply(compose_resolved(resolved, retrieval, app.policy, catalog))

    outcomes = run_conversations(conversations, ask)
    bar.close()
    langs = {c.id: c.lang for c in conversations}
    rows = []
    for outcome, (resolved, retrieval) in zip(outcomes, searched, strict=True):
        if outcome.index == 0:
            continue
        hits, e = retrieval.hits, retrieval.evidence
        top = hits[0] if hits else None
        own = app.retriever.evidence(resolved.question, top, language=e.language) if top is not None else e
        ranked_docs = list(dict.fromkeys(h.citation.doc_id for h in hits))[:5]
        gold = {d for d, _ in outcome.turn.gold}
        rows.append(
            Row(
                id=f"{outcome.conversation}#{outcome.index + 1}",
                lang=langs[outcome.conversation],
                abstain=not gold,
                evidence=e,
                small=e,
                no_hits=not hits,
                doc_hit5=any(d in gold for d in ranked_docs),
                followup=True,
                group=outcome.conversation,
                backed=top is not None and conversation_backs(resolved, top, catalog),
                own=own,
            )
        )
    return rows


def on_own_words(rows: Sequence[Row]) -> list[Row]:
    """The rows with every follow-up's evidence read on its own words (`Row.own`); questions as they are."""
    return [replace(r, evidence=r.own, small=r.own) if r.followup and r.own is not None else r for r in rows]


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


def _refused(sim: np.ndarray, d: np.ndarray, flagged: np.ndarray, t: np.ndarray, backed: np.ndarray) -> np.ndarray:
    """Rows x unknown_words threshold x dutch threshold: whether the Dutch rule refuses (AbstainPolicy.abstains),
    less the follow-ups the conversation backs that name no rare unknown word (followup.compose_resolved)."""
    by_word = flagged[:, None] & (sim[:, None] < t[None, :])
    by_score = d[:, None] < t[None, :]
    kept = (backed & ~flagged & np.isfinite(sim))[:, None, None]
    return (by_word[:, :, None] | by_score[:, None, :]) & ~kept


def _backed(rows: Sequence[Row]) -> np.ndarray:
    return np.array([r.backed for r in rows], dtype=bool)


def choose_dutch(rows: Sequence[Row], target: float = TARGET) -> tuple[float, float, float, float]:
    """(coverage_weight, rare_zipf, unknown_words, dutch) for the Dutch questions and follow-ups among `rows`, by the
    rule: the questions first (their abstain cases caught, their false abstentions within the target, also on their
    own gold document), then the follow-ups, among the choices the questions leave equal."""
    q_ok = [r for r in rows if not r.abstain and not r.followup]
    q_no = [r for r in rows if r.abstain and not r.followup]
    f_ok = [r for r in rows if not r.abstain and r.followup]
    f_no = [r for r in rows if r.abstain and r.followup]
    arrays = {
        name: (*_arrays(g), _backed(g)) for name, g in (("q_ok", q_ok), ("q_no", q_no), ("f_ok", f_ok), ("f_no", f_no))
    }
    z_small = _arrays(q_ok, small=True)[2]
    sims = [a[0] for a in arrays.values()] + [a[0] + max(COVERAGE_WEIGHTS) * a[1] for a in arrays.values()]
    t = _grid(*sims)
    none = np.zeros((len(t), len(t)))
    best = _Best()
    for w in COVERAGE_WEIGHTS:
        scores = np.concatenate([a[0] + w * a[1] for a in arrays.values()])
        margin = _margin(scores[np.isfinite(scores)], t)[None, :]
        for z in ZIPF_CUTOFFS:

            def rate(name: str, rare: np.ndarray | None = None, w: float = w, z: float = z) -> np.ndarray:
                sim, cov, own_rare, backed = arrays[name]
                if not len(sim):
                    return none
                flagged = (own_rare if rare is None else rare) < z
                return _refused(sim, sim + w * cov, flagged, t, backed).mean(axis=0)

            fa, fa_small = rate("q_ok"), rate("q_ok", z_small) if q_ok else rate("q_ok")
            feasible = (fa <= target + 1e-9) & (fa_small <= target + 1e-9)
            # the unknown-word rule rests on few abstain cases: where they leave it open, it goes as far as costs
            # nothing; the score threshold (whose scale moves with the coverage weight) keeps the widest margin
            keys = [rate("q_no"), -(fa + fa_small), rate("f_no"), -rate("f_ok"), np.array(z), t[:, None], margin]
            _pick(keys, feasible, best, lambda ix, w=w, z=z: (z, w, t[ix[0]], t[ix[1]]))
    z, w, tu, td = best.middle()
    return float(w), float(z), float(tu), float(td)


def choose_other(rows: Sequence[Row], target: float = TARGET, rare_zipf: float = AbstainPolicy.rare_zipf) -> float:
    """The similarity threshold for questions in another language than the corpus's, by the rule: the questions
    first, the follow-ups among the thresholds the questions leave equal (`rare_zipf`: the Dutch rule's cut-off, which
    decides whether the conversation's backing holds)."""
    groups = {
        name: [r for r in rows if r.abstain == abstain and r.followup == followup]
        for name, abstain, followup in (("q_ok", 0, 0), ("q_no", 1, 0), ("f_ok", 0, 1), ("f_no", 1, 1))
    }
    t = _grid(*(_arrays(g)[0] for g in groups.values()))

    def rate(name: str) -> np.ndarray:
        sim, _, rare = _arrays(groups[name])
        if not len(sim):
            return np.zeros(len(t))
        kept = _backed(groups[name]) & ~(rare < rare_zipf) & np.isfinite(sim)
        return ((sim[:, None] < t[None, :]) & ~kept[:, None]).mean(axis=0)

    fa = rate("q_ok")
    best = _Best()
    _pick([rate("q_no"), -fa, rate("f_no"), -rate("f_ok"), t], fa <= target + 1e-9, best, lambda ix: (t[ix[0]],))
    return float(best.middle()[0])


def choose(rows: Sequence[Row], target: float = TARGET) -> AbstainPolicy:
    """The policy the rule picks on `rows`: Dutch and other-language thresholds each on their own questions (and
    follow-ups)."""
    w, z, tu, td = choose_dutch([r for r in rows if r.dutch], target)
    other = choose_other([r for r in rows if not r.dutch], target, z)
    return AbstainPolicy(dutch=td, english=other, coverage_weight=w, unknown_words=tu, rare_zipf=z)


# ---------------------------------------------------------------- scoring


def refuses(policy: AbstainPolicy, evidence: Evidence, no_hits: bool, backed: bool = False) -> bool:
    """What answer.compose decides (no hits, or the policy abstains), and for a follow-up
    followup.compose_resolved (unless the conversation backs the hit and it names no rare unknown word)."""
    if no_hits:
        return True
    return policy.abstains(evidence) and not (backed and not policy.unknown(evidence))


def _rate(values: Sequence[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def score(policy: AbstainPolicy, rows: Sequence[Row]) -> dict[str, float | None]:
    """Abstain accuracy, false abstentions (on the index and on the gold document alone) and English doc_hit5 of
    `policy` on `rows`, through the policy's own code."""
    ok = [r for r in rows if not r.abstain]
    no = [r for r in rows if r.abstain]
    en = [r for r in ok if r.lang == "en"]

    def refused(r: Row, small: bool = False) -> bool:
        return refuses(policy, r.small if small else r.evidence, r.no_hits, r.backed)

    return {
        "abstain_accuracy": _rate([refused(r) for r in no]),
        "false_abstain_rate": _rate([refused(r) for r in ok]),
        "false_abstain_own_doc": _rate([refused(r, small=True) for r in ok if r.dutch and not r.followup]),
        "abstain_accuracy_nl": _rate([refused(r) for r in no if r.dutch]),
        "abstain_accuracy_other": _rate([refused(r) for r in no if not r.dutch]),
        "en_doc_hit5": _rate([r.doc_hit5 and not refused(r) for r in en]),
    }


POPULATIONS = ("questions", "followups")


def by_population(policy: AbstainPolicy, rows: Sequence[Row]) -> dict[str, dict[str, float | None]]:
    """`score` on the questions and on the follow-ups among `rows` apart (a population without rows left out)."""
    out = {}
    for name in POPULATIONS:
        part = [r for r in rows if r.followup == (name == "followups")]
        if part:
            out[name] = score(policy, part)
    return out


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


Figures = dict[str, dict[str, float | None]]
"""population ("questions", "followups") -> metric -> value."""
Spread = dict[str, dict[str, dict[str, float]]]
"""population -> metric -> mean, sd, min, max, folds."""


@dataclass(frozen=True)
class Calibration:
    """The shipped policy (chosen on every case), its in-sample figures and the held-out figures per fold, for the
    questions and the follow-ups apart."""

    policy: AbstainPolicy
    in_sample: Figures
    folds: list[dict[str, Any]]
    held_out: Spread
    pooled: Figures
    """Every held-out decision of one repeat pooled (each case held out once), averaged over the repeats."""
    settings: dict[str, Any]
    language_accuracy: float
    """Of the questions: how often the detected language is the gold file's."""
    questions_only: Spread = field(default_factory=dict)
    """With follow-ups: the held-out figures, on the same folds, of the rule given the training questions alone (what
    the calibration chose before it took follow-ups)."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["policy"] = asdict(self.policy)
        return d


def splits(rows: Sequence[Row], folds: int, repeats: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index arrays of `repeats` k-folds stratified by language and abstain case (and question or
    follow-up), the turns of one conversation always in the same fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    labels = [f"{r.lang}-{r.abstain}-{r.followup}" for r in rows]
    groups = [r.group or f"question:{r.id}" for r in rows]
    if len(set(groups)) < folds:
        raise AssistantError(f"{len(set(groups))} cases cannot be split into {folds} folds")
    out = []
    with warnings.catch_warnings():
        # two English abstain cases cannot be in all five folds; the others spread
        warnings.filterwarnings("ignore", message="The least populated class")
        for repeat in range(repeats):
            splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
            out += list(splitter.split(np.zeros(len(rows)), labels, groups))
    return out


def cross_validate(
    rows: Sequence[Row], folds: int = FOLDS, repeats: int = REPEATS, target: float = TARGET, seed: int = 0
) -> Calibration:
    """Held-out figures of the rule over a repeated grouped k-fold stratified by language and abstain case, and the
    policy the rule picks on all rows."""
    with_followups = any(r.followup for r in rows)
    per_fold: list[dict[str, Any]] = []
    pooled: list[Figures] = []
    decided: dict[str, AbstainPolicy] = {}
    only: list[Figures] = []
    for n, (train, test) in enumerate(splits(rows, folds, repeats, seed)):
        trained = [rows[i] for i in train]
        policy = choose(trained, target)
        held = [rows[i] for i in test]
        per_fold.append(
            {"repeat": n // folds, "fold": n % folds, "policy": asdict(policy), **by_population(policy, held)}
        )
        if with_followups:
            only.append(by_population(choose([r for r in trained if not r.followup], target), held))
        decided.update((r.id, policy) for r in held)
        if n % folds == folds - 1:
            pooled.append(_pooled(rows, decided))
            decided = {}
    shipped = choose(rows, target)
    questions = [r for r in rows if not r.followup]
    return Calibration(
        policy=shipped,
        in_sample=by_population(shipped, rows),
        folds=per_fold,
        held_out=_spread(per_fold),
        pooled={p: {k: v["mean"] for k, v in s.items()} for p, s in _spread(pooled).items()},
        settings={
            "folds": folds,
            "repeats": repeats,
            "target": target,
            "seed": seed,
            "cases": len(questions),
            "followups": len(rows) - len(questions),
        },
        language_accuracy=round(sum(r.evidence.language == r.lang for r in questions) / max(1, len(questions)), 4),
        questions_only=_spread(only),
    )


def _spread(folds: Sequence[dict[str, Any]]) -> Spread:
    """Per population, the spread of each metric over the folds that have it."""
    return {p: _summary([f[p] for f in folds if p in f]) for p in POPULATIONS if any(p in f for f in folds)}


def _pooled(rows: Sequence[Row], decided: dict[str, AbstainPolicy]) -> Figures:
    """The figures of one repeat with every case judged by the policy of the fold that held it out."""
    out: Figures = {}
    for population in POPULATIONS:
        parts = [score(decided[r.id], [r]) for r in rows if r.followup == (population == "followups")]
        if not parts:
            continue
        out[population] = {}
        for key in parts[0]:
            values = [v for p in parts if (v := p[key]) is not None]
            out[population][key] = sum(values) / len(values) if values else None
    return out


def write(calibration: Calibration, report: Path) -> Path:
    """calibration.json in the report folder."""
    report.mkdir(parents=True, exist_ok=True)
    path = report / "calibration.json"
    path.write_text(json.dumps(calibration.to_dict(), indent=2), encoding="utf-8")
    return path


def summary_lines(c: Calibration) -> list[str]:
    """The figures a person reads: held-out (mean, sd, range over folds; pooled) next to in-sample, per population,
    with the held-out mean of the rule on the questions alone beside them, and the policy."""
    st = c.settings
    cases = f"{st['cases']} cases" + (f" + {st['followups']} follow-ups" if st.get("followups") else "")
    grouped = ", conversations grouped" if st.get("followups") else ""
    lines = [
        f"{cases}, {st['folds']}-fold x {st['repeats']} stratified{grouped}, target <= {st['target']:.0%} false "
        f"abstentions; language identified right for {c.language_accuracy:.1%}"
    ]
    for population, metrics in c.held_out.items():
        head = f"{population:24} {'held-out mean':>13} {'sd':>6} {'min':>6} {'max':>6} {'pooled':>7} {'in-sample':>9}"
        lines.append(head + (f" {'q-only':>7}" if c.questions_only else ""))
        for key, s in metrics.items():
            pooled = c.pooled.get(population, {}).get(key)
            inside = c.in_sample.get(population, {}).get(key)
            line = (
                f"  {key:22} {s['mean']:>13.3f} {s['sd']:>6.3f} {s['min']:>6.3f} {s['max']:>6.3f} "
                f"{_fmt(pooled):>7} {_fmt(inside):>9}"
            )
            if c.questions_only:
                line += f" {_fmt(c.questions_only.get(population, {}).get(key, {}).get('mean')):>7}"
            lines.append(line)
    if c.questions_only:
        lines.append("q-only: held-out mean of the rule given the training folds' questions alone")
    p = c.policy
    lines.append(
        f"policy: AbstainPolicy(dutch={p.dutch}, english={p.english}, coverage_weight={p.coverage_weight}, "
        f"unknown_words={p.unknown_words}, rare_zipf={p.rare_zipf})"
    )
    return lines


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
