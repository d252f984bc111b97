"""Choosing the part within a document (issue #15 item 4): a logistic model over what we know of each part of the top
document, trained on the corpus itself and measured on the dev gold it never saw.

Training pairs come from the corpus: each sampled part's own question text, perturbed (its words thinned to a
random 60 %, in order, lower-cased), is the query; the part is the positive and its siblings the hard negatives.
Documents cited by the dev gold are left out of training. Nothing is tuned on dev: the features, the perturbation
and the model are fixed before dev is scored, so dev is a held-out measurement.

    PYTHONPATH=. python eval/partrank.py --index /tmp/idx-be-refs --questions ../shared/eval/be2017-dev.questions.jsonl

prints part_hit1 / part_mrr10 / fact_recall1 on dev with and without the re-ranking of the top document's parts.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant import text
from assistant.answer import compose
from assistant.application import Assistant
from assistant.config import Settings, go_offline
from assistant.evaluate.gold import load_cases
from assistant.evaluate.metrics import has_facts
from assistant.retrieve import Snapshot, make_hit
from assistant.types import Document, PartKey, Retrieval

FEATURES = (
    "cos_rel",  # cosine to the part's chunk, minus the best in the document
    "cos_top",  # the part has the document's best cosine
    "bm25_rel",  # BM25 within the document, relative to its best part
    "bm25_top",
    "neighbour_cos_rel",  # the better neighbour's cosine, minus the best in the document
    "position",  # 0 for the first part, 1 for the last
    "first",
    "reference",  # answered only by a pointer ("Zie vraag 1")
    "joint",  # a non-first member of a range, or answered through its items
    "see",  # points to other parts while saying more
    "answer_len",  # log length of the answer text shown, minus the document's mean
    "question_len",
)


def part_features(doc: Document, cos: dict[str, float], bm25: dict[str, float]) -> tuple[list[str], np.ndarray]:
    """The feature rows of every part of `doc`, given its parts' cosine and BM25 scores for one query."""
    labels = [p.label for p in doc.parts]
    best_cos = max(cos.values(), default=0.0)
    best_bm = max(bm25.values(), default=0.0)
    lengths = [math.log1p(len(doc.answer_for(lab))) for lab in labels]
    mean_len = sum(lengths) / len(lengths) if lengths else 0.0
    rows = []
    for i, p in enumerate(doc.parts):
        c = cos.get(p.label, best_cos)
        neighbours = [cos.get(labels[j], 0.0) for j in (i - 1, i + 1) if 0 <= j < len(labels)]
        rows.append(
            [
                c - best_cos,
                float(c >= best_cos),
                bm25.get(p.label, 0.0) / best_bm if best_bm > 0 else 0.0,
                float(best_bm > 0 and bm25.get(p.label, 0.0) >= best_bm),
                (max(neighbours) - best_cos) if neighbours else -1.0,
                i / max(1, len(labels) - 1),
                float(i == 0),
                float(p.ref_kind == "reference"),
                float(p.ref_kind in ("joint", "items", "whole")),
                float(bool(p.see)),
                lengths[i] - mean_len,
                math.log1p(len(p.question)),
            ]
        )
    return labels, np.array(rows, dtype=np.float64)


def scores_for(app: Assistant, snap: Snapshot, doc: Document, vector: np.ndarray, terms: list[str], bm: np.ndarray):  # noqa: ANN201
    keys = [PartKey(doc.doc_id, p.label) for p in doc.parts]
    sims = app.retriever._similarities(snap, vector, keys)  # noqa: SLF001  the part vectors the ranking uses
    cos = {k.label: v for k, v in sims.items()}
    kw = {k.label: float(bm[snap.row[k]]) for k in keys if k in snap.row}
    return cos, kw


def perturb(question: str, rng: random.Random) -> str:
    words = [w for w in question.lower().replace("?", " ").split() if w.strip(".,;:()")]
    kept = [w for w in words if rng.random() < 0.6] or words[:3]
    return " ".join(kept)


def training_set(app: Assistant, exclude: set[str], n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(seed)
    snap = app.retriever.snapshot
    pool = [
        (d, p)
        for d in snap.docs.values()
        if d.doc_id not in exclude and len(d.parts) >= 2
        for p in d.parts
        if len(p.question) >= 40
    ]
    sample = rng.sample(pool, min(n, len(pool)))
    queries = [perturb(p.question, rng) for _, p in sample]
    vectors = app.embedder.embed_queries(queries)
    xs, ys = [], []
    for (doc, part), query, vector in zip(sample, queries, vectors, strict=True):
        bm = snap.keywords.scores(text.terms(query))
        cos, kw = scores_for(app, snap, doc, vector, text.terms(query), bm)
        labels, rows = part_features(doc, cos, kw)
        gold = doc.resolve(part.label)
        # the part and those answered by the same text are right; a document whose one answer serves every part
        # ("whole") teaches nothing about choosing among them
        truth = [float(lab == part.label or doc.resolve(lab) == gold) for lab in labels]
        if all(truth):
            continue
        xs += list(rows)
        ys += truth
    return np.array(xs), np.array(ys)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--train", type=int, default=3000)
    ap.add_argument("--out", type=Path, default=None, help="write the model and the per-case outcomes here (JSON)")
    ap.add_argument("--drop", nargs="*", default=[], choices=FEATURES, help="features left out (set to 0)")
    args = ap.parse_args()
    go_offline()
    app = Assistant.open(Settings.from_env(), index_dir=args.index)
    snap = app.retriever.snapshot
    cases, _ = load_cases(args.questions, snap.docs)
    dev_docs = {d for c in cases for d, _ in c.gold}
    dropped = [FEATURES.index(f) for f in args.drop]
    x, y = training_set(app, dev_docs, args.train)
    x[:, dropped] = 0.0
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    print("trained on", len(y), "rows,", int(y.sum()), "positives; weights:")
    print(json.dumps(dict(zip(FEATURES, np.round(model.coef_[0], 3).tolist(), strict=True))))

    per_case: dict[str, dict[str, list[float]]] = {}
    base = {"hit1": 0, "rr": 0.0, "facts": 0}
    new = {"hit1": 0, "rr": 0.0, "facts": 0}
    answerable = 0
    for case in cases:
        if not case.gold:
            continue
        answerable += 1
        retrieval = app.search(case.question, case.filters, top_k=10)
        answer = compose(case.question, retrieval, app.policy)
        if answer.abstained:
            continue
        gold = set(case.gold)
        ranked = [(h.citation.doc_id, h.citation.part) for h in answer.hits]
        ranked += [
            (h.citation.doc_id, h.citation.part)
            for h in retrieval.hits
            if (h.citation.doc_id, h.citation.part) not in ranked
        ]
        top_doc = snap.docs[answer.hits[0].citation.doc_id]
        vector = app.embedder.embed_queries([case.question])[0]
        bm = snap.keywords.scores(text.terms(case.question))
        cos, kw = scores_for(app, snap, top_doc, vector, text.terms(case.question), bm)
        labels, rows = part_features(top_doc, cos, kw)
        rows[:, dropped] = 0.0
        order = [labels[i] for i in np.argsort(-model.decision_function(rows), kind="stable")]
        reranked = [(top_doc.doc_id, lab) for lab in order] + [r for r in ranked if r[0] != top_doc.doc_id]
        for name, lst, first in (
            ("base", ranked, answer.hits[0]),
            ("new", reranked, make_hit(top_doc, order[0], 1.0, directory=snap.directory)),
        ):
            m = base if name == "base" else new
            m["hit1"] += lst[0] in gold
            m["rr"] += next((1 / (i + 1) for i, r in enumerate(lst[:10]) if r in gold), 0.0)
            shown = compose(case.question, Retrieval((first,))).hits[0].shown_text if first else ""
            m["facts"] += has_facts(shown, case.facts)
            per_case.setdefault(case.id, {})[name] = [
                float(lst[0] in gold),
                next((1 / (i + 1) for i, r in enumerate(lst[:10]) if r in gold), 0.0),
                float(has_facts(shown, case.facts)),
            ]
    for name, m in (("current ranking", base), ("re-ranked top document", new)):
        print(
            f"{name}: part_hit1 {m['hit1'] / answerable:.3f} part_mrr10 {m['rr'] / answerable:.3f} "
            f"fact_recall1 {m['facts'] / answerable:.3f} ({answerable} answerable cases)"
        )
    if args.out:
        args.out.write_text(
            json.dumps({"features": FEATURES, "coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0])})
        )


if __name__ == "__main__":
    main()
