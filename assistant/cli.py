"""The `assistant` command: parse, ingest, ask, serve and eval. Errors become one red line and exit status 1."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant.config import Settings, go_offline
from assistant.errors import AssistantError, ParseError

RED, DIM, BOLD, RESET = "\033[31m", "\033[2m", "\033[1m", "\033[0m"


def _color(text: str, code: str) -> str:
    return f"{code}{text}{RESET}" if sys.stdout.isatty() else text


def _err(text: str) -> None:
    prefix, suffix = (RED, RESET) if sys.stderr.isatty() else ("", "")
    print(f"{prefix}{text}{suffix}", file=sys.stderr)


def _field_map(spec: str | None):  # noqa: ANN202 - returns FieldMap | None
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
    from assistant.evaluate import load_jsonl, score_alignment, write_metrics

    if not args.alignment and not args.questions:
        raise AssistantError("nothing to evaluate: give --alignment FILE (with --corpus) and/or --questions FILE")
    report = Path(args.report)
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
        from assistant.report import write_alignment_report

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
        from assistant.evaluate_questions import run_question_eval

        status = max(status, run_question_eval(args))
    return max(status, _compare_and_bars(args, report))


def _compare_and_bars(args: argparse.Namespace, report: Path) -> int:
    from assistant.evaluate import check_bars, compare, parse_bars

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
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    e.set_defaults(func=cmd_eval)

    _add_later_commands(sub)
    return parser


def _add_later_commands(sub: argparse._SubParsersAction) -> None:
    """Commands whose modules import heavy libraries: imported only when run."""
    try:
        from assistant.cli_index import add_commands
    except ImportError:
        return
    add_commands(sub)


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
