"""Calibrate the "Eerder gesteld?" cut-off: how similar (cosine, query to part, as retrieval measures it) an earlier
sub-question must be to a draft's sub-question to be shown.

Pairs from a gold questions file over its index: same-topic pairs are each Dutch question with its gold part;
asked-again pairs are a sub-question one member sent to several ministers (with its introduction's first sentence,
as a draft's is searched) with the same part of another copy;
"nothing earlier" is each question the gold marks unanswerable, with the most similar part the index holds; random
pairs are each question with parts of other documents. Prints the three distributions and the cut-off that best
separates the first two (Youden's J), with the share of each side it keeps.

    ASSISTANT_CACHE=/tmp/pqa-cache python eval/calibrate_similar.py --questions be2017-dev.questions.jsonl \
        --index /tmp/idx-be
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from assistant.application import Assistant
from assistant.config import Settings, go_offline
from assistant.earlier import part_query
from assistant.types import PartKey

RANDOM_PER_QUESTION = 20


def main() -> None:
    go_offline()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", required=True, type=Path)
    p.add_argument("--index", required=True, type=Path)
    p.add_argument("--seed", type=int, default=17)
    args = p.parse_args()
    app = Assistant.open(Settings.from_env(), index_dir=args.index)
    retriever = app.retriever
    cases = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = [c for c in cases if c.get("lang", "nl") == "nl" and not c.get("filters")]
    vectors = app.embedder.embed_queries([c["question"] for c in cases])
    keys = list(retriever.snapshot.keywords.keys)
    rng = random.Random(args.seed)
    same, nothing, unrelated = [], [], []
    for case, vector in zip(cases, vectors, strict=True):
        if case["gold"]:
            gold = [PartKey(g["doc"], g["part"]) for g in case["gold"]]
            found = app.index.part_vectors(gold)
            if found:
                same.append(max(float(v @ vector) for v in found.values()))
            docs = {g.doc_id for g in gold}
            others = [k for k in rng.sample(keys, RANDOM_PER_QUESTION * 2) if k.doc_id not in docs]
            picked = app.index.part_vectors(others[:RANDOM_PER_QUESTION])
            unrelated.extend(float(v @ vector) for v in picked.values())
        else:
            best = retriever.rank(case["question"], retriever_filters(), top_k=1, vector=vector)
            if best and best[0].dense is not None:
                nothing.append(best[0].dense)
    asked_again = _series_pairs(app, rng)
    report = {
        "same_topic": _spread(same),
        "asked_again": _spread(asked_again),
        "nothing_earlier": _spread(nothing),
        "random": _spread(unrelated),
    }
    cutoff, kept, rejected = _youden(np.array(same), np.array(nothing))
    report["cutoff"] = {
        "value": round(cutoff, 3),
        "same_topic_shown": round(kept, 3),
        "nothing_earlier_hidden": round(rejected, 3),
        "random_hidden": round(float(np.mean(np.array(unrelated) < cutoff)), 4),
        "asked_again_shown": round(float(np.mean(np.array(asked_again) >= cutoff)), 3),
        "same_topic_median": round(float(np.median(same)), 3),
    }
    print(json.dumps(report, indent=2))


def _series_pairs(app: Assistant, rng: random.Random, limit: int = 300) -> list[float]:
    """The same sub-question sent by one member to several ministers (the catalog's series): each part's question
    of one document against the part with the same label in another of its series."""
    catalog = app.catalog()
    pairs: list[tuple[str, PartKey]] = []
    for doc in app.documents():
        for other in catalog.series(doc.doc_id)[:1]:
            target = app.document(other)
            for part in doc.parts:
                if target is not None and target.part(part.label) is not None and part.question.strip():
                    # searched as the app searches a draft's sub-question: with its introduction's first sentence
                    pairs.append((part_query(doc.intro, part.question), PartKey(other, part.label)))
    pairs = rng.sample(pairs, min(limit, len(pairs)))
    vectors = app.embedder.embed_queries([q for q, _ in pairs])
    stored = app.index.part_vectors(list(dict.fromkeys(k for _, k in pairs)))
    return [float(stored[k] @ v) for (_, k), v in zip(pairs, vectors, strict=True) if k in stored]


def retriever_filters():  # noqa: ANN201 - the empty filter set, imported here to keep the top light
    from assistant.filters import NO_FILTERS

    return NO_FILTERS


def _spread(values: list[float]) -> dict[str, float]:
    a = np.array(values)
    return {
        "n": int(a.size),
        **{f"p{q}": round(float(np.percentile(a, q)), 3) for q in (5, 25, 50, 75, 95)},
    }


def _youden(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float, float]:
    """The cut-off maximising (share of positives at or above) + (share of negatives below) - 1."""
    best = (0.0, 0.0, 0.0, -1.0)
    for t in np.unique(np.concatenate([positive, negative])):
        kept, rejected = float(np.mean(positive >= t)), float(np.mean(negative < t))
        if kept + rejected - 1 > best[3]:
            best = (float(t), kept, rejected, kept + rejected - 1)
    return best[0], best[1], best[2]


if __name__ == "__main__":
    main()
