"""Choosing `RetrievalSettings.question_weight` (the order of the parts within a document) by cross-validation
(`--setting question_weight_tk` for the Tweede Kamer layout's).

Every gold question is answered once per candidate weight, through the whole answer path (`run_ours`: embed,
search, compose), and scored per case. Then, per fold of a repeated k-fold over the answerable cases, the weight
with the best part_hit1 on the training folds (ties: the better part_mrr10, then the smaller weight) is scored on the
held-out fold. Prints the held-out mean and spread of part_hit1, part_mrr10 and fact_recall1 (and per kind), the
weights the folds chose, and the in-sample figures of every weight; `--out` writes them as JSON.

    ASSISTANT_CACHE=/tmp/pqa-cache python eval/cv_within.py --questions ../shared/eval/be2017-dev.questions.jsonl \
        --index /tmp/idx-be-q
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import KFold

from assistant.application import Assistant
from assistant.config import Settings, go_offline
from assistant.evaluate.gold import load_cases
from assistant.evaluate.metrics import Outcome
from assistant.evaluate.run import run_ours

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
METRICS = ("part_hit1", "part_mrr10", "fact_recall1")


def per_case(o: Outcome) -> dict[str, float]:
    return {"part_hit1": float(o.part_hit(1)), "part_mrr10": o.part_rr(), "fact_recall1": float(o.facts_ok)}


def main() -> None:
    go_offline()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", required=True, type=Path)
    p.add_argument("--index", required=True, type=Path)
    p.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS))
    p.add_argument(
        "--setting",
        default="question_weight",
        choices=("question_weight", "question_weight_tk"),
        help="which weight to choose: the Belgian/Flemish layouts' or the Tweede Kamer layout's",
    )
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--out", type=Path)
    args = p.parse_args()

    app = Assistant.open(Settings.from_env(), index_dir=args.index)
    cases, _ = load_cases(args.questions, {d.doc_id: d for d in app.documents()})
    cases = [c for c in cases if c.gold]
    base = app.retriever.settings
    scores: dict[float, list[dict[str, float]]] = {}
    for w in args.weights:
        app.retriever.settings = replace(base, **{args.setting: w})
        scores[w] = [per_case(o) for o in run_ours(app, cases, progress=False)]
    app.retriever.settings = base

    def mean(w: float, rows: list[int], metric: str) -> float:
        return sum(scores[w][i][metric] for i in rows) / len(rows)

    def chosen_for(train: list[int]) -> float:
        return max(args.weights, key=lambda w: (mean(w, train, "part_hit1"), mean(w, train, "part_mrr10"), -w))

    kinds = sorted({c.kind for c in cases})
    held: dict[str, list[float]] = {m: [] for m in METRICS}
    chosen: list[float] = []
    # pooled per repeat: every case is held out once per repeat, so a repeat's pooled mean is over all cases
    pooled: dict[str, dict[str, list[float]]] = {k: {m: [] for m in METRICS} for k in ["all", *kinds]}
    for repeat in range(args.repeats):
        picks: dict[int, float] = {}
        for train, test in KFold(args.folds, shuffle=True, random_state=repeat).split(cases):
            w = chosen_for(train.tolist())
            chosen.append(w)
            for m in METRICS:
                held[m].append(mean(w, test.tolist(), m))
            picks.update({i: w for i in test.tolist()})
        for k in ["all", *kinds]:
            rows = [i for i in range(len(cases)) if k == "all" or cases[i].kind == k]
            for m in METRICS:
                pooled[k][m].append(sum(scores[picks[i]][i][m] for i in rows) / len(rows))

    result: dict[str, Any] = {
        "setting": args.setting,
        "cases": len(cases),
        "folds": args.folds,
        "repeats": args.repeats,
        "held_out_fold_mean": {m: round(statistics.mean(v), 4) for m, v in held.items()},
        "held_out_fold_sd": {m: round(statistics.pstdev(v), 4) for m, v in held.items()},
        "held_out_pooled": {k: {m: round(statistics.mean(v), 4) for m, v in ms.items()} for k, ms in pooled.items()},
        "chosen_weights": {str(w): chosen.count(w) for w in args.weights if chosen.count(w)},
        "in_sample": {
            str(w): {m: round(float(np.mean([r[m] for r in scores[w]])), 4) for m in METRICS} for w in args.weights
        },
    }
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
