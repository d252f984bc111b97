"""The `assistant` command: parse, ingest, ask, serve and eval. Errors become one red line and exit status 1.

Heavy libraries (torch, chromadb, gradio) are imported inside the command that needs them, so `assistant parse`
and `--help` start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.config import Settings, go_offline
from assistant.errors import AssistantError, ParseError
from assistant.filters import FILTER_KEYS

RED, DIM, BOLD, RESET = "\033[31m", "\033[2m", "\033[1m", "\033[0m"


def _color(text: str, code: str) -> str:
    return f"{code}{text}{RESET}" if sys.stdout.isatty() else text


def _err(text: str) -> None:
    prefix, suffix = (RED, RESET) if sys.stderr.isatty() else ("", "")
    print(f"{prefix}{text}{suffix}", file=sys.stderr)


def _field_map(spec: str | None) -> Any:
    """The --fields mapping (a FieldMap), or None."""
    from assistant.parse.records import FieldMap

    if not spec:
        return None
    try:
        return FieldMap.parse(spec)
    except ValueError as exc:
        raise AssistantError(str(exc)) from None


# ---------------------------------------------------------------- parse


def cmd_parse(args: argparse.Namespace) -> int:
    from assistant.parse import read_paths
    from assistant.render import format_document

    found = 0
    failed = 0
    for item in read_paths([Path(args.file)], _field_map(args.fields)):
        if isinstance(item, ParseError):
            failed += 1
            _err(f"skipped {item}")
            continue
        if args.id and item.doc_id != args.id:
            continue
        found += 1
        if args.json:
            print(json.dumps(item.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(format_document(item))
    if args.id and not found:
        raise AssistantError(f"no document with id {args.id!r} in {args.file}")
    return 1 if failed and not found else 0


# ---------------------------------------------------------------- eval


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluate.alignment import score_alignment
    from assistant.evaluate.compare import write_metrics
    from assistant.evaluate.gold import load_jsonl

    if not args.alignment and not args.questions and not args.conversations:
        raise AssistantError(
            "nothing to evaluate: give --alignment FILE (with --corpus), --questions FILE and/or --conversations FILE"
        )
    report = Path(args.report)
    if args.calibrate:
        return _calibrate(args, report)
    status = 0
    if args.alignment:
        if not args.corpus:
            raise AssistantError("--alignment needs --corpus PATH... (the files the gold documents come from)")
        from assistant.parse import read_paths

        gold = load_jsonl(Path(args.alignment))
        wanted = {str(g["doc"]) for g in gold}
        docs = {}
        for item in read_paths([Path(p) for p in args.corpus], _field_map(args.fields)):
            if isinstance(item, ParseError):
                _err(f"skipped {item}")
            elif item.doc_id in wanted:
                docs[item.doc_id] = item
        result = score_alignment(gold, docs)
        path = write_metrics(report, "alignment", result.metrics())
        from assistant.evaluate.report import write_alignment_report

        write_alignment_report(report, result)
        print(
            f"alignment: {result.docs_passed}/{result.docs_total} documents, "
            f"{result.parts_passed}/{result.parts_total} parts pass"
        )
        for f in result.failures:
            print(f"  {f.doc} vraag {f.part} ({f.side}): expected {f.expected!r}, got {f.got!r}")
        for doc_id in result.missing_docs:
            print(f"  {doc_id}: not found in the corpus")
        print(_color(f"wrote {path}", DIM))
    if args.questions:
        status = max(status, _question_eval(args, report))
    if args.conversations:
        status = max(status, _conversation_eval(args, report))
    return max(status, _compare_and_bars(args, report))


def _conversation_eval(args: argparse.Namespace, report: Path) -> int:
    from assistant.application import Assistant
    from assistant.evaluate.run import conversation_eval
    from assistant.retrieve import RetrievalSettings

    retrieval = RetrievalSettings(mode=args.mode, fusion=args.fusion)
    app = Assistant.open(args.settings, index_dir=_index_dir(args), retrieval=retrieval)
    c = conversation_eval(app, Path(args.conversations), report)
    f, base = c["followup"], c["baselines"]["no-history"]["followup"]
    print(
        f"conversations ({c['conversations']}, {c['followups']} follow-ups): follow-up part_hit5 {f['part_hit5']:.3f} "
        f"(no history {base['part_hit5']:.3f})  fact_recall1 {f['fact_recall1']:.3f} "
        f"(no history {base['fact_recall1']:.3f})  abstain_acc {f['abstain_accuracy']:.3f}  "
        f"p95 {_ms(c['latency_ms']['p95'])}"
    )
    for kind, m in c["by_kind"].items():
        b = c["baselines"]["no-history"]["by_kind"].get(kind, {})
        shown = "abstain_accuracy" if kind == "abstain" else "part_hit5"
        print(f"  {kind} ({m['cases']}): {shown} {m[shown]:.3f} (no history {b.get(shown, 0):.3f})")
    return 0


def _question_eval(args: argparse.Namespace, report: Path) -> int:
    from assistant.application import Assistant
    from assistant.evaluate.run import naive_rag_cached, question_eval
    from assistant.retrieve import RetrievalSettings

    retrieval = RetrievalSettings(mode=args.mode, fusion=args.fusion)
    app = Assistant.open(args.settings, index_dir=_index_dir(args), retrieval=retrieval)
    baselines = None if args.baselines is None else [b for b in args.baselines if b != "none"]
    if baselines is None and not naive_rag_cached(app):
        _err(
            "naive-rag baseline skipped: its vectors are not built for this index (a one-time embedding of every "
            "document); --baselines naive-rag bm25 builds and runs it"
        )
    result = question_eval(app, Path(args.questions), report, progress=not args.quiet, baselines=baselines)
    for problem in result.problems:
        _err(f"skipped gold line {problem}")
    q = result.blocks["questions"]
    print(
        f"questions ({q['cases']}): part_hit1 {q['part_hit1']:.3f}  part_hit5 {q['part_hit5']:.3f}  "
        f"part_mrr10 {q['part_mrr10']:.3f}  doc_hit5 {q['doc_hit5']:.3f}  fact_recall1 {q['fact_recall1']:.3f}  "
        f"abstain_acc {q['abstain_accuracy']:.3f}  false_abstain {q['false_abstain_rate']:.3f}  "
        f"p95 {_ms(q['latency_ms']['p95'])}"
    )
    for name, b in result.blocks["baselines"].items():
        p95 = _ms(b["latency_ms"]["p95"])
        print(f"  {name}: doc_hit5 {b['doc_hit5']:.3f}  fact_recall1 {b['fact_recall1']:.3f}  p95 {p95}")
    print(_color(f"wrote {result.metrics_path}", DIM))
    return 0


def _calibrate(args: argparse.Namespace, report: Path) -> int:
    from assistant.application import Assistant
    from assistant.evaluate import calibrate
    from assistant.evaluate.gold import load_cases
    from assistant.retrieve import RetrievalSettings

    if not args.questions:
        raise AssistantError("--calibrate needs --questions FILE (gold questions with abstain cases)")
    retrieval = RetrievalSettings(mode=args.mode, fusion=args.fusion)
    app = Assistant.open(args.settings, index_dir=_index_dir(args), retrieval=retrieval)
    cases, problems = load_cases(Path(args.questions), {d.doc_id: d for d in app.documents()})
    for problem in problems:
        _err(f"skipped gold line {problem}")
    rows = calibrate.collect(app, cases, progress=not args.quiet)
    result = calibrate.cross_validate(rows, folds=args.folds, repeats=args.repeats, target=args.target)
    for line in calibrate.summary_lines(result):
        print(line)
    print(_color(f"wrote {calibrate.write(result, report)}", DIM))
    return 0


def _ms(value: float) -> str:
    """Milliseconds as printed: whole ones, or one decimal below 10 ms (a keyword search takes under one)."""
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def _compare_and_bars(args: argparse.Namespace, report: Path) -> int:
    from assistant.evaluate.compare import check_bars, compare, parse_bars

    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    if args.compare:
        old_path = Path(args.compare)
        if not old_path.exists():
            raise AssistantError(f"--compare: {old_path} does not exist")
        changes = compare(json.loads(old_path.read_text(encoding="utf-8")), metrics)
        print(f"compared with {old_path}: {len(changes)} metric(s) changed, {sum(c.worse for c in changes)} worse")
        for c in changes:
            flag = _color("  WORSE", RED) if c.worse else ""
            print(f"  {c.key}: {c.old:.4g} -> {c.new:.4g} ({c.new - c.old:+.4g}){flag}")
    failures = check_bars(metrics, parse_bars(args.fail_under or []))
    for failure in failures:
        _err(f"below the bar: {failure}")
    return 3 if failures else 0


def _index_dir(args: argparse.Namespace) -> Path:
    return Path(args.index) if getattr(args, "index", None) else args.settings.index_dir


def add_filter_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "filters",
        "names match loosely: case, accents, punctuation and word order do not matter, and a part of a "
        "name or a small typo resolves to the names the documents use ('open vld', 'barbara pas', 'justitie')",
    )
    g.add_argument("--minister", help="minister (as in the documents, or part of it)")
    g.add_argument("--department", help="department (as in the documents, or part of it)")
    g.add_argument("--party", help="party of the member who asked")
    g.add_argument("--asker", help="member who asked")
    g.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="asked on or after this date")
    g.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="asked on or before this date")
    g.add_argument("--doc", dest="doc_id", help="only this document id")


def filters_from(args: argparse.Namespace) -> dict[str, str]:
    return {k: getattr(args, k) for k in FILTER_KEYS if getattr(args, k, None)}


# ---------------------------------------------------------------- ingest


def _ingest(settings: Settings, index_dir: Path, paths: Sequence[str], **kwargs: Any) -> Any:
    from assistant.application import Assistant
    from assistant.errors import NothingToIngestError

    app = Assistant.open(settings, index_dir=index_dir, create=True)
    try:
        return app.ingest([Path(p) for p in paths], **kwargs)
    except NothingToIngestError as err:
        for failure in err.report.failures:
            _err(f"failed: {failure}")
        raise
    finally:
        app.close()


def cmd_ingest(args: argparse.Namespace) -> int:
    index_dir = _index_dir(args)
    mapping = _field_map(args.fields)
    report = _ingest(
        args.settings, index_dir, args.paths, rebuild=args.rebuild, mapping=mapping, progress=not args.quiet
    )
    for failure in report.failures:
        print(f"failed: {failure}", file=sys.stderr)
    print(report.summary())
    if report.failures:
        print(f"{len(report.failures)} input(s) could not be read; the rest is in {index_dir}/", file=sys.stderr)
        return 2
    return 0


# ---------------------------------------------------------------- ask


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(" ".join(text.split()), width=100, initial_indent=indent, subsequent_indent=indent)


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.application import Assistant
    from assistant.retrieve import RetrievalSettings

    app = Assistant.open(args.settings, index_dir=_index_dir(args), retrieval=RetrievalSettings(mode=args.mode))
    answer = app.ask(args.question, filters_from(args), args.top_k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(format_answer(answer))
    return 0


def format_answer(answer: Any) -> str:
    lines: list[str] = []
    if answer.abstained:
        lines.append(answer.message)
        if answer.suggestions:
            lines.append("Misschien bedoelt u:")
            for hit in answer.suggestions:
                lines.append(f"  - {hit.citation.label()}: {hit.question[:90]}")
        return "\n".join(lines)
    for i, hit in enumerate(answer.hits):
        c = hit.citation
        if i == answer.primary_count:
            lines += ["", "Ook relevant:"]
        lines.append(f"[{i + 1}] {c.label()}")
        lines.append(_wrap(f"Vraag: {hit.question}"))
        if c.via_ref:
            lines.append(
                f"    (vraag {c.part} verwijst naar vraag {c.via_ref}; dit is het antwoord op vraag {c.via_ref})"
            )
        lines.append(_wrap(hit.answer if len(hit.answer) < 1200 else hit.answer[:1200] + " ..."))
        lines.append("")
    return "\n".join(lines).rstrip()


# ---------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.web.app import serve

    settings = args.settings
    if args.port:
        settings = replace(settings, port=args.port)
    if args.host:
        settings = replace(settings, host=args.host)
    if args.index:
        settings = replace(settings, index_dir=Path(args.index))
    if args.ingest:
        print(_ingest(settings, settings.index_dir, args.ingest).summary())
    serve(settings)
    return 0


def _add_index_commands(sub: Any) -> None:
    i = sub.add_parser("ingest", help="parse, embed and index documents (only what changed)")
    i.add_argument("paths", nargs="+", help="files or folders (.txt, .pdf, .jsonl)")
    i.add_argument("--index", help="index folder (default: index/ or ASSISTANT_INDEX)")
    i.add_argument("--rebuild", action="store_true", help="start from an empty index")
    i.add_argument("--fields", help="JSONL field mapping, e.g. 'id=nr,question=vraag,answer=antwoord'")
    i.add_argument("--quiet", action="store_true", help="no progress bar")
    i.set_defaults(func=cmd_ingest)

    a = sub.add_parser("ask", help="ask a question; prints the cited answer")
    a.add_argument("question")
    a.add_argument("--index", help="index folder (default: index/ or ASSISTANT_INDEX)")
    a.add_argument("--top-k", type=int, default=5, help="how many parts to show (default 5)")
    a.add_argument("--json", action="store_true", help="print the answer as JSON")
    a.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help=argparse.SUPPRESS)
    add_filter_options(a)
    a.set_defaults(func=cmd_ask)

    s = sub.add_parser("serve", help="run the chat, source view, widget and JSON API")
    s.add_argument("--index", help="index folder (default: index/ or ASSISTANT_INDEX)")
    s.add_argument("--ingest", nargs="+", metavar="PATH", help="ingest these first (only what changed)")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default 7860)")
    s.set_defaults(func=cmd_serve)


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="show how a file is split into sub-questions and answers")
    p.add_argument("file", help="a .txt, .pdf or .jsonl file")
    p.add_argument("--json", action="store_true", help="print the parsed document(s) as JSON")
    p.add_argument("--id", help="only the record with this document id (for .jsonl files)")
    p.add_argument("--fields", help="JSONL field mapping, e.g. 'id=nr,question=vraag,answer=antwoord'")
    p.set_defaults(func=cmd_parse)

    e = sub.add_parser("eval", help="score parsing and retrieval against gold files")
    e.add_argument("--alignment", help="sub-question alignment gold (JSONL)")
    e.add_argument("--corpus", nargs="+", help="corpus files or folders the alignment gold refers to")
    e.add_argument("--questions", help="questions with gold answers (JSONL)")
    e.add_argument("--conversations", help="follow-up conversations with gold on every turn (JSONL, FORMAT.md §4)")
    e.add_argument("--index", help="index folder to evaluate (default: settings)")
    e.add_argument("--report", required=True, help="folder for metrics.json and report.html")
    e.add_argument("--fields", help="JSONL field mapping for --corpus")
    e.add_argument("--compare", metavar="OLD_METRICS_JSON", help="show the change per metric against an earlier run")
    e.add_argument(
        "--fail-under",
        nargs="+",
        metavar="KEY=VALUE",
        help="exit with status 3 when a metric is below its bar, e.g. part_hit5=0.85 docs_passed=24",
    )
    e.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help="retrieval to evaluate")
    e.add_argument(
        "--fusion", choices=["scores", "rrf"], default="scores", help="how hybrid retrieval fuses its two sides"
    )
    e.add_argument(
        "--baselines",
        nargs="+",
        choices=["naive-rag", "bm25", "none"],
        help="reference systems run beside ours on --questions (default: bm25, and naive-rag when its vectors "
        "for the index were built by an earlier --baselines naive-rag)",
    )
    e.add_argument(
        "--calibrate",
        action="store_true",
        help="with --questions: choose the abstain policy by cross-validation and write calibration.json",
    )
    e.add_argument("--folds", type=int, default=5, help="--calibrate: folds of the stratified k-fold (default 5)")
    e.add_argument("--repeats", type=int, default=5, help="--calibrate: repeats of the k-fold (default 5)")
    e.add_argument(
        "--target", type=float, default=0.03, help="--calibrate: the most false abstentions allowed (default 0.03)"
    )
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    e.set_defaults(func=cmd_eval)

    _add_index_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    go_offline()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.settings = Settings.from_env()
        return int(args.func(args))
    except AssistantError as exc:
        _err(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
