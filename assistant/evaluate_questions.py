"""Question gold in, retrieval metrics out: our system and two baselines run in the same process on the same index.

Baselines: `naive-rag` (1000-character chunks with 200 overlap over whole documents, dense search with the same
model and prefixes) and `bm25` (whole documents, Dutch stemming). Their vectors are built once and kept beside the
index under `baselines/`. Scoring is pure (`score_cases`); this module also runs the systems and times them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from assistant.answer import AbstainPolicy, Answer, compose, policy_for
from assistant.errors import AssistantError
from assistant.evaluate import write_metrics
from assistant.index import KeywordIndex, matches, validate_filters
from assistant.parse.clean import fold
from assistant.types import Document

KINDS = ("paraphrase", "fact", "crossref", "filtered", "abstain", "en")
NAIVE_CHUNK, NAIVE_OVERLAP = 1000, 200


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    kind: str
    gold: tuple[tuple[str, str], ...]
    facts: tuple[str, ...]
    filters: Mapping[str, str]
    lang: str = "nl"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Case:
        return cls(
            id=str(d["id"]),
            question=str(d["question"]),
            kind=str(d.get("kind", "paraphrase")),
            gold=tuple((str(g["doc"]), str(g["part"])) for g in d.get("gold", [])),
            facts=tuple(str(f) for f in d.get("facts", [])),
            filters=dict(d.get("filters") or {}),
            lang=str(d.get("lang", "nl")),
        )


@dataclass
class Outcome:
    """What one system returned for one case."""

    case: Case
    parts: list[tuple[str, str]] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    first_text: str = ""
    abstained: bool = False
    seconds: float = 0.0
    top_similarity: float | None = None


def has_facts(text: str, facts: Sequence[str]) -> bool:
    folded = fold(text).lower()
    return all(fold(f).lower() in folded for f in facts)


def _hit_at(ranked: Sequence[Any], gold: set[Any], k: int) -> float:
    return float(any(r in gold for r in ranked[:k]))


def _mrr(ranked: Sequence[Any], gold: set[Any], k: int = 10) -> float:
    for i, r in enumerate(ranked[:k]):
        if r in gold:
            return 1.0 / (i + 1)
    return 0.0


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def _latency(seconds: Sequence[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    if not ms:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return {"p50": round(statistics.median(ms), 1), "p95": round(p95, 1), "max": round(ms[-1], 1)}


def score_cases(outcomes: Sequence[Outcome], parts: bool = True) -> dict[str, Any]:
    """FORMAT.md §3 metrics over outcomes; `parts=False` for systems that cite whole documents or chunks."""
    answerable = [o for o in outcomes if o.case.gold]
    abstain = [o for o in outcomes if not o.case.gold]

    def block(items: Sequence[Outcome]) -> dict[str, float]:
        out: dict[str, float] = {}
        if parts:
            for k in (1, 5):
                out[f"part_hit{k}"] = _mean([_hit_at(o.parts, set(o.case.gold), k) for o in items])
            out["part_mrr10"] = _mean([_mrr(o.parts, set(o.case.gold)) for o in items])
        for k in (1, 5):
            out[f"doc_hit{k}"] = _mean([_hit_at(o.docs, {d for d, _ in o.case.gold}, k) for o in items])
        out["doc_mrr10"] = _mean([_mrr(o.docs, {d for d, _ in o.case.gold}) for o in items])
        out["fact_recall1"] = _mean([float(not o.abstained and has_facts(o.first_text, o.case.facts)) for o in items])
        return out

    metrics: dict[str, Any] = {"cases": len(outcomes), "answerable": len(answerable), "abstain": len(abstain)}
    metrics.update(block(answerable))
    metrics["abstain_accuracy"] = _mean([float(o.abstained) for o in abstain])
    metrics["false_abstain_rate"] = _mean([float(o.abstained) for o in answerable])
    by_kind: dict[str, Any] = {}
    for kind in sorted({o.case.kind for o in outcomes}):
        items = [o for o in outcomes if o.case.kind == kind]
        if kind == "abstain":
            by_kind[kind] = {"cases": len(items), "abstain_accuracy": _mean([float(o.abstained) for o in items])}
        else:
            by_kind[kind] = {"cases": len(items), **block(items)}
    metrics["by_kind"] = by_kind
    metrics["latency_ms"] = _latency([o.seconds for o in outcomes])
    return metrics


# ---------------------------------------------------------------- systems


def run_ours(
    retriever: Any, cases: Sequence[Case], policy: AbstainPolicy | None = None, progress: bool = True
) -> list[Outcome]:
    """The whole answer path per case (embed, search, compose), timed."""
    if policy is None:
        policy = policy_for(retriever.embedder.name if retriever.embedder is not None else None)
    out = []
    for case in tqdm(cases, desc="ours", unit="q", disable=not progress):
        t = time.perf_counter()
        hits = retriever.search(case.question, case.filters, top_k=10)
        answer = compose(case.question, hits, policy)
        seconds = time.perf_counter() - t
        out.append(outcome_from_answer(case, answer, hits, seconds))
    return out


def outcome_from_answer(case: Case, answer: Answer, hits: Sequence[Any], seconds: float) -> Outcome:
    """Ranked list = the cited parts in the order shown, then the other retrieved parts."""
    shown = [(h.citation.doc_id, h.citation.part) for h in answer.hits]
    rest = [(h.citation.doc_id, h.citation.part) for h in hits if (h.citation.doc_id, h.citation.part) not in shown]
    ranked = shown + rest if not answer.abstained else []
    docs: list[str] = []
    for d, _ in ranked:
        if d not in docs:
            docs.append(d)
    first = answer.hits[0].answer if answer.hits else ""
    top_sim = hits[0].similarity if hits else None
    return Outcome(case, ranked, docs, first, answer.abstained, seconds, top_sim)


class Bm25Docs:
    """Baseline: BM25 over whole documents with Dutch stemming."""

    def __init__(self, docs: Mapping[str, Document]) -> None:
        self.docs = docs
        keys = list(docs)
        self.keys = keys
        texts = [f"{docs[k].title}\n{docs[k].question_text}\n{docs[k].answer_text}" for k in keys]
        self.index = KeywordIndex.build(keys, texts)

    def run(self, cases: Sequence[Case]) -> list[Outcome]:
        out = []
        for case in cases:
            t = time.perf_counter()
            scores = self.index.scores(case.question)
            f = validate_filters(case.filters)
            order = [i for i in np.argsort(-scores)[:200] if scores[i] > 0]
            ranked = [self.keys[i] for i in order if not f or matches(self.docs[self.keys[i]], f)][:10]
            seconds = time.perf_counter() - t
            first = self.docs[ranked[0]].answer_text if ranked else ""
            out.append(Outcome(case, [], ranked, first, False, seconds))
        return out


def _text_key(model: str, text: str) -> str:
    return hashlib.sha1(f"{model}\n{text}".encode()).hexdigest()


class NaiveRag:
    """Baseline: fixed-size character chunks over whole documents, dense search only."""

    def __init__(self, docs: Mapping[str, Document], embedder: Any, folder: Path, progress: bool = True) -> None:
        self.docs = docs
        self.embedder = embedder
        chunks: list[tuple[str, str]] = []
        for doc_id in sorted(docs):
            d = docs[doc_id]
            text = f"{d.title}\n{d.question_text}\n{d.answer_text}"
            step = NAIVE_CHUNK - NAIVE_OVERLAP
            for start in range(0, max(1, len(text) - NAIVE_OVERLAP), step):
                chunks.append((doc_id, text[start : start + NAIVE_CHUNK]))
        self.chunks = chunks
        self.vectors = self._load_or_build(folder, progress)

    def _load_or_build(self, folder: Path, progress: bool) -> np.ndarray:
        """Vectors per chunk text, cached by the text's hash: only chunks not seen before are embedded."""
        hashes = [_text_key(self.embedder.name, text) for _, text in self.chunks]
        vec_path, meta_path = folder / "vectors.npy", folder / "meta.json"
        cached: dict[str, np.ndarray] = {}
        if meta_path.exists() and vec_path.exists():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            old = np.load(vec_path)
            if len(meta.get("hashes", [])) == len(old):
                cached = dict(zip(meta["hashes"], old, strict=True))
        missing = sorted({h: i for i, h in enumerate(hashes) if h not in cached}.values())
        batch = 64
        for start in tqdm(range(0, len(missing), batch), desc="naive-rag vectors", unit="batch", disable=not progress):
            rows = missing[start : start + batch]
            vectors = self.embedder.embed_passages([self.chunks[i][1] for i in rows])
            cached.update((hashes[i], v) for i, v in zip(rows, vectors, strict=True))
        out = np.vstack([cached[h] for h in hashes]) if hashes else np.zeros((0, self.embedder.dim), np.float32)
        if missing or not meta_path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / "vectors.tmp.npy", out)
            (folder / "vectors.tmp.npy").replace(vec_path)
            meta_path.write_text(json.dumps({"hashes": hashes}), encoding="utf-8")
        return out

    def run(self, cases: Sequence[Case]) -> list[Outcome]:
        out = []
        for case in cases:
            t = time.perf_counter()
            q = self.embedder.embed_queries([case.question])[0]
            sims = self.vectors @ q
            f = validate_filters(case.filters)
            ranked_chunks = []
            for i in np.argsort(-sims)[:400]:
                doc_id = self.chunks[i][0]
                if not f or matches(self.docs[doc_id], f):
                    ranked_chunks.append(i)
                if len(ranked_chunks) >= 50:
                    break
            docs: list[str] = []
            for i in ranked_chunks:
                if self.chunks[i][0] not in docs:
                    docs.append(self.chunks[i][0])
            seconds = time.perf_counter() - t
            first = self.chunks[ranked_chunks[0]][1] if ranked_chunks else ""
            out.append(Outcome(case, [], docs[:10], first, False, seconds))
        return out


# ---------------------------------------------------------------- command


@dataclass(frozen=True)
class GoldProblem:
    """A gold line that cannot be used, with the reason; the run goes on without it."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def _split_list(value: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    if value.startswith("["):
        return [str(v) for v in json.loads(value)]
    return [v.strip() for v in value.split("|") if v.strip()]


def _csv_row(row: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row in the JSONL shape: gold as `doc#part|doc#part` (or JSON), facts `a|b`, filters `k=v;k=v`."""
    d: dict[str, Any] = {k: (v or "").strip() for k, v in row.items() if k}
    gold_raw = d.get("gold", "")
    if gold_raw.startswith("["):
        d["gold"] = json.loads(gold_raw)
    else:
        d["gold"] = []
        for item in _split_list(gold_raw):
            doc, sep, part = item.replace(":", "#").partition("#")
            if not sep:
                raise ValueError(f"gold item {item!r} should be doc#part")
            d["gold"].append({"doc": doc.strip(), "part": part.strip()})
    d["facts"] = _split_list(d.get("facts", ""))
    filters_raw = d.get("filters", "")
    if filters_raw.startswith("{"):
        d["filters"] = json.loads(filters_raw)
    else:
        pairs = [p.partition("=") for p in filters_raw.split(";") if p.strip()]
        d["filters"] = {k.strip(): v.strip() for k, _, v in pairs}
    return d


def load_cases(path: Path, known_docs: Mapping[str, Document] | None = None) -> tuple[list[Case], list[GoldProblem]]:
    """Cases from a JSONL or CSV gold file; bad lines become GoldProblems instead of stopping the run."""
    import csv

    rows: list[tuple[str, Any]] = []
    problems: list[GoldProblem] = []
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            for lineno, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    rows.append((f"{path}:{lineno}", _csv_row(row)))
                except (ValueError, json.JSONDecodeError) as exc:
                    problems.append(GoldProblem(f"{path}:{lineno}", str(exc)))
    else:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append((f"{path}:{lineno}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    problems.append(GoldProblem(f"{path}:{lineno}", f"not valid JSON ({exc.msg})"))
    cases: list[Case] = []
    seen: set[str] = set()
    for where, d in rows:
        if not isinstance(d, dict):
            problems.append(GoldProblem(where, "not a JSON object"))
            continue
        missing = [k for k in ("id", "question", "kind", "gold") if k not in d or d[k] in (None, "")]
        if "gold" in missing and d.get("kind") == "abstain":
            missing.remove("gold")
        if missing:
            problems.append(GoldProblem(where, f"missing field(s): {', '.join(missing)}"))
            continue
        try:
            case = Case.from_dict(d)
        except (KeyError, TypeError, AttributeError) as exc:
            problems.append(GoldProblem(where, f"malformed case ({exc})"))
            continue
        if case.id in seen:
            problems.append(GoldProblem(where, f"duplicate id {case.id}"))
            continue
        if known_docs is not None:
            unknown = sorted({doc for doc, _ in case.gold if doc not in known_docs})
            if unknown:
                problems.append(GoldProblem(where, f"gold document(s) not in the index: {', '.join(unknown)}"))
                continue
        try:
            validate_filters(case.filters)
        except Exception as exc:  # ConfigError: an unknown filter key or a bad date
            problems.append(GoldProblem(where, str(exc)))
            continue
        seen.add(case.id)
        cases.append(case)
    return cases, problems


def evaluate(
    retriever: Any,
    cases: Sequence[Case],
    index_dir: Path,
    baselines: Sequence[str] = ("naive-rag", "bm25"),
    progress: bool = True,
    policy: AbstainPolicy | None = None,
) -> tuple[dict[str, Any], dict[str, list[Outcome]]]:
    """Run our system and the baselines; returns the metrics blocks and the outcomes per system."""
    outcomes = {"ours": run_ours(retriever, cases, policy, progress)}
    docs = retriever.docs
    runners: dict[str, Callable[[], list[Outcome]]] = {
        "bm25": lambda: Bm25Docs(docs).run(cases),
        "naive-rag": lambda: NaiveRag(docs, retriever.embedder, index_dir / "baselines" / "naive-rag", progress).run(
            cases
        ),
    }
    for name in baselines:
        if name == "naive-rag" and retriever.embedder is None:
            continue
        outcomes[name] = runners[name]()
    questions = score_cases(outcomes["ours"])
    base = {}
    for name in baselines:
        if name not in outcomes:
            continue
        m = score_cases(outcomes[name], parts=False)
        base[name] = {k: m[k] for k in ("doc_hit1", "doc_hit5", "doc_mrr10", "fact_recall1", "by_kind", "latency_ms")}
    return {"questions": questions, "baselines": base}, outcomes


def run_question_eval(args: argparse.Namespace) -> int:
    from assistant.report import write_questions_report
    from assistant.retrieve import RetrievalSettings
    from assistant.service import open_retriever

    settings = args.settings
    index_dir = Path(args.index) if args.index else settings.index_dir
    mode = getattr(args, "mode", None) or "hybrid"
    fusion = getattr(args, "fusion", None) or "scores"
    retriever = open_retriever(settings, index_dir, RetrievalSettings(mode=mode, fusion=fusion))
    cases, problems = load_cases(Path(args.questions), retriever.docs)
    for problem in problems:
        print(f"skipped gold line {problem}", file=sys.stderr)
    if not cases:
        raise AssistantError(f"no usable cases in {args.questions}")
    blocks, outcomes = evaluate(retriever, cases, index_dir, progress=not getattr(args, "quiet", False))
    blocks["questions"]["gold_problems"] = len(problems)
    n_parts = len(retriever.keywords.keys)
    system = {
        "embedding_model": retriever.embedder.name if retriever.embedder else "none",
        "retrieval": f"{mode} ({fusion} fusion)" if mode == "hybrid" else mode,
        "parts_indexed": n_parts,
        "docs_indexed": len(retriever.docs),
    }
    report = Path(args.report)
    write_metrics(report, "system", system)
    write_metrics(report, "questions", blocks["questions"])
    path = write_metrics(report, "baselines", blocks["baselines"])
    write_questions_report(report, blocks, outcomes)
    q = blocks["questions"]
    print(
        f"questions ({q['cases']}): part_hit1 {q['part_hit1']:.3f}  part_hit5 {q['part_hit5']:.3f}  "
        f"part_mrr10 {q['part_mrr10']:.3f}  doc_hit5 {q['doc_hit5']:.3f}  fact_recall1 {q['fact_recall1']:.3f}  "
        f"abstain_acc {q['abstain_accuracy']:.3f}  false_abstain {q['false_abstain_rate']:.3f}  "
        f"p95 {_ms(q['latency_ms']['p95'])}"
    )
    for name, b in blocks["baselines"].items():
        p95 = _ms(b["latency_ms"]["p95"])
        print(f"  {name}: doc_hit5 {b['doc_hit5']:.3f}  fact_recall1 {b['fact_recall1']:.3f}  p95 {p95}")
    print(f"wrote {path}")
    return 0


def _ms(value: float) -> str:
    """Milliseconds as printed: whole ones, or one decimal below 10 ms (a keyword search takes under one)."""
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"
