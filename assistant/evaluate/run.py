"""Running the systems over question gold: ours through the Assistant (the whole answer path, timed), the
baselines beside it on the same documents; then the metrics blocks and the report. Scoring is metrics.py's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from assistant.answer import AbstainPolicy, Answer, compose
from assistant.application import Assistant
from assistant.errors import AssistantError
from assistant.evaluate.baselines import Bm25Docs, NaiveRag
from assistant.evaluate.compare import write_metrics
from assistant.evaluate.gold import Case, GoldProblem, load_cases
from assistant.evaluate.metrics import Outcome, score_cases
from assistant.evaluate.report import write_questions_report
from assistant.types import Hit

BASELINES = ("naive-rag", "bm25")
RANKED_MAX = 10


def outcome_from_answer(case: Case, answer: Answer, hits: Sequence[Hit], seconds: float) -> Outcome:
    """Ranked list = the cited parts in the order shown, then the other retrieved parts."""
    shown = [(h.citation.doc_id, h.citation.part) for h in answer.hits]
    rest = [(h.citation.doc_id, h.citation.part) for h in hits if (h.citation.doc_id, h.citation.part) not in shown]
    ranked = shown + rest if not answer.abstained else []
    docs: list[str] = []
    for d, _ in ranked:
        if d not in docs:
            docs.append(d)
    first = answer.hits[0].shown_text if answer.hits else ""
    return Outcome(case, ranked, docs, first, answer.abstained, seconds, answer.evidence.similarity)


def run_ours(
    app: Assistant, cases: Sequence[Case], policy: AbstainPolicy | None = None, progress: bool = True
) -> list[Outcome]:
    """The whole answer path per case (embed, search, compose), timed."""
    policy = policy or app.policy
    out = []
    for case in tqdm(cases, desc="ours", unit="q", disable=not progress):
        t = time.perf_counter()
        retrieval = app.search(case.question, case.filters, top_k=RANKED_MAX)
        answer = compose(case.question, retrieval, policy)
        seconds = time.perf_counter() - t
        out.append(outcome_from_answer(case, answer, retrieval.hits, seconds))
    return out


def evaluate(
    app: Assistant,
    cases: Sequence[Case],
    baselines: Sequence[str] = BASELINES,
    progress: bool = True,
    policy: AbstainPolicy | None = None,
) -> tuple[dict[str, Any], dict[str, list[Outcome]]]:
    """Run our system and the baselines; returns the metrics blocks and the outcomes per system."""
    outcomes = {"ours": run_ours(app, cases, policy, progress)}
    docs = {d.doc_id: d for d in app.documents()}
    folder = app.index.dir / "baselines" / "naive-rag"
    runners: dict[str, Callable[[], list[Outcome]]] = {
        "bm25": lambda: Bm25Docs(docs).run(cases),
        "naive-rag": lambda: NaiveRag(docs, app.embedder, folder, progress).run(cases),
    }
    for name in baselines:
        if name == "naive-rag" and app.retrieval.mode == "bm25":
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


def system_info(app: Assistant) -> dict[str, Any]:
    """The `system` block of metrics.json."""
    r = app.retrieval
    manifest = app.manifest()
    return {
        "embedding_model": app.embedder.name if r.mode != "bm25" else "none",
        "encoder": manifest.encoder if manifest else "",
        "retrieval": f"{r.mode} ({r.fusion} fusion)" if r.mode == "hybrid" else r.mode,
        "parts_indexed": app.parts_indexed,
        "docs_indexed": len(app.documents()),
    }


@dataclass(frozen=True)
class QuestionEval:
    """What a question evaluation wrote and found."""

    metrics_path: Path
    blocks: dict[str, Any]
    problems: list[GoldProblem]


def naive_rag_cached(app: Assistant) -> bool:
    """Whether the naive-rag baseline's vectors for this index were built (by an earlier eval)."""
    return (app.index.dir / "baselines" / "naive-rag" / "meta.json").exists()


def default_baselines(app: Assistant) -> tuple[str, ...]:
    """bm25 always; naive-rag when its vectors are cached: building them embeds every document again in 1,000-character
    chunks (15,545 for the Belgian corpus, most of an hour on two cores), which an eval asks for by name."""
    return BASELINES if naive_rag_cached(app) else ("bm25",)


def question_eval(
    app: Assistant, gold: Path, report: Path, progress: bool = True, baselines: Sequence[str] | None = None
) -> QuestionEval:
    """Evaluate the gold questions in `gold` and write the blocks and report.html into `report`; `baselines`
    defaults to `default_baselines(app)`."""
    known = {d.doc_id: d for d in app.documents()}
    cases, problems = load_cases(gold, known)
    if not cases:
        raise AssistantError(f"no usable cases in {gold}")
    chosen = default_baselines(app) if baselines is None else tuple(baselines)
    blocks, outcomes = evaluate(app, cases, chosen, progress=progress)
    blocks["questions"]["gold_problems"] = len(problems)
    write_metrics(report, "system", system_info(app))
    write_metrics(report, "questions", blocks["questions"])
    path = write_metrics(report, "baselines", blocks["baselines"])
    write_questions_report(report, blocks, outcomes)
    return QuestionEval(path, blocks, problems)


def conversation_reply(answer: Answer, hits: Sequence[Hit] = ()) -> Any:
    """A conversation turn's Reply: the parts shown (which the next turn sees as cited), the first answer text,
    whether it abstained and the question it searched with."""
    from assistant.evaluate_conversations import Reply

    shown = tuple((h.citation.doc_id, h.citation.part) for h in answer.hits)
    rest = tuple(
        (h.citation.doc_id, h.citation.part) for h in hits if (h.citation.doc_id, h.citation.part) not in shown
    )
    query = answer.resolved.query if answer.resolved is not None else ""
    return Reply(
        () if answer.abstained else shown + rest,
        answer.hits[0].shown_text if answer.hits else "",
        answer.abstained,
        query if query != answer.question else "",
        () if answer.abstained else shown,
    )


def conversation_eval(app: Assistant, gold: Path, report: Path) -> dict[str, Any]:
    """Evaluate the conversations in `gold` (FORMAT.md §4): every turn answered with the earlier questions and our
    own earlier answers as its history, the no-history baseline in the same run; writes the `conversations` block
    and its report.html section."""
    from assistant.evaluate.report import write_section
    from assistant.evaluate_conversations import conversations_html, evaluate_conversations, load_conversations

    conversations = load_conversations(gold)
    if not conversations:
        raise AssistantError(f"no usable conversations in {gold}")

    def ask(question: str, history: Sequence[Any]) -> Any:
        answer = app.ask(question, top_k=RANKED_MAX, history=history)
        return conversation_reply(answer)

    block, outcomes = evaluate_conversations(conversations, ask)
    write_metrics(report, "conversations", block)
    write_section(report, "3-conversations", conversations_html(block, outcomes))
    return block
