"""The `assistant` command: parse, ingest, ask, serve, eval and questions. Errors become one red line and exit
status 1.

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

from assistant.config import Settings, go_offline, parse_server
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
        raise AssistantError(
            "--calibrate needs --questions FILE (gold questions with abstain cases), and takes --conversations FILE"
        )
    retrieval = RetrievalSettings(mode=args.mode, fusion=args.fusion)
    app = Assistant.open(args.settings, index_dir=_index_dir(args), retrieval=retrieval)
    cases, problems = load_cases(Path(args.questions), {d.doc_id: d for d in app.documents()})
    for problem in problems:
        _err(f"skipped gold line {problem}")
    rows = calibrate.collect(app, cases, progress=not args.quiet)
    if args.conversations:
        from assistant.evaluate_conversations import load_conversations

        try:
            conversations = load_conversations(Path(args.conversations))
        except ValueError as exc:
            raise AssistantError(str(exc)) from None
        rows += calibrate.collect_followups(app, conversations, progress=not args.quiet)
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
    server = parse_server(args.server, "--server") if args.server else args.settings.server
    if server and not args.index:
        data = ask_server(server, args.question, filters_from(args), args.top_k)
        print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else format_answer(answer_of(data)))
        return 0
    from assistant.application import Assistant
    from assistant.retrieve import RetrievalSettings

    app = Assistant.open(args.settings, index_dir=_index_dir(args), retrieval=RetrievalSettings(mode=args.mode))
    answer = app.ask(args.question, filters_from(args), args.top_k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(format_answer(answer))
    return 0


ASK_TIMEOUT_S = 60.0


def ask_server(server: str, question: str, filters: dict[str, str], top_k: int) -> dict[str, Any]:
    """The answer of a running server's POST /api/ask, as JSON; AssistantError with its message when it refuses or
    cannot be reached."""
    import urllib.error
    import urllib.request

    body = json.dumps({"question": question, "filters": filters, "top_k": top_k}).encode("utf-8")
    request = urllib.request.Request(
        f"{server}/api/ask", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=ASK_TIMEOUT_S) as response:  # noqa: S310 - http(s) only (parse_server)
            data: dict[str, Any] = json.loads(response.read().decode("utf-8"))
            return data
    except urllib.error.HTTPError as err:
        try:
            detail = json.loads(err.read().decode("utf-8")).get("detail", "")
        except (ValueError, UnicodeDecodeError, AttributeError):
            detail = ""
        raise AssistantError(f"{server} answered {err.code}: {detail or err.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise AssistantError(
            f"Cannot reach the server at {server} ({reason}). Start it with `assistant serve`, or leave out "
            "--server (and ASSISTANT_SERVER) to search the index here."
        ) from None


def answer_of(data: dict[str, Any]) -> Any:
    """An Answer rebuilt from the API's JSON, for format_answer."""
    from assistant.answer import Answer
    from assistant.types import Citation, Hit

    def hit(d: dict[str, Any]) -> Hit:
        citation = {k: v for k, v in d["citation"].items() if k in Citation.__dataclass_fields__}
        return Hit(Citation(**citation), float(d.get("score", 0.0)), d.get("question", ""), d.get("answer", ""))

    answers = [hit(h) for h in data.get("answers", [])]
    return Answer(
        data.get("question", ""),
        hits=tuple(answers + [hit(h) for h in data.get("related", [])]),
        primary_count=len(answers),
        abstained=bool(data.get("abstained")),
        message=data.get("message", ""),
        suggestions=tuple(hit(h) for h in data.get("suggestions", [])),
    )


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
    from assistant.web.app import bind, serve

    settings = args.settings
    if args.port:
        settings = replace(settings, port=args.port)
    if args.host:
        settings = replace(settings, host=args.host)
    if args.index:
        settings = replace(settings, index_dir=Path(args.index))
    sock = bind(settings.host, settings.port)  # a port in use is said now, before an ingest or any banner
    try:
        if args.ingest:
            print(_ingest(settings, settings.index_dir, args.ingest).summary())
        serve(settings, sock=sock)
    finally:
        sock.close()
    return 0


# ---------------------------------------------------------------- questions (staff)


def cmd_questions(args: argparse.Namespace) -> int:
    from assistant.staff import LISTS, StaffLog, rows, to_csv

    settings = args.settings
    if args.db:
        settings = replace(settings, staff_db=Path(args.db))
    log = StaffLog.open(settings, _index_dir(args))
    since = _date(args.since) if args.since else None
    kinds = LISTS if args.list == "all" else (args.list,)
    if args.csv:
        if len(kinds) != 1:
            raise AssistantError("--csv writes one list: add --list questions, --list gaps or --list feedback")
        Path(args.csv).write_text(to_csv(log, kinds[0], since), encoding="utf-8")
        print(f"wrote {len(rows(log, kinds[0], since))} row(s) to {args.csv}")
        return 0
    if not log.exists():
        print(f"Nothing stored yet in {log.path} (no feedback; the question log is off unless ASSISTANT_QUESTION_LOG).")
        return 0
    c = log.counts()
    print(
        f"{log.path}: {c['questions']} question(s) logged, {c['abstained']} not answered; "
        f"feedback {c['up']} up, {c['down']} down"
    )
    if not log.log_questions:
        print(_color("The question log is off (ASSISTANT_QUESTION_LOG): new questions are not logged.", DIM))
    for kind in kinds:
        found = rows(log, kind, since)
        print("")
        print(_color(f"{_TITLES[kind]} ({len(found)})", BOLD))
        for row in found[: args.limit]:
            print("  " + _LINES[kind](row))
        if len(found) > args.limit:
            print(_color(f"  ... {len(found) - args.limit} more (--limit N, or --csv FILE for all)", DIM))
    return 0


_TITLES = {
    "questions": "Questions asked (newest first)",
    "gaps": "Knowledge gaps: questions we could not answer (kennislacunes), most asked first",
    "feedback": "Feedback (newest first)",
}
_LINES = {
    "questions": lambda r: (
        f"{r[0]}  {r[1]:<6}  {'not answered' if r[4] == 'ja' else 'answered'}  {r[2]}"
        + (f"  [{r[3]}]" if r[3] else "")
        + (f"  -> {r[5]}" if r[5] else "")
    ),
    "gaps": lambda r: f"{r[1]:>4} x  {r[0]}  (last {r[3]})",
    "feedback": lambda r: (
        f"{r[0]}  {r[1]:<6}  {r[2]:<4}  {r[3]}" + (f"  - {r[4]!r}" if r[4] else "") + (f"  -> {r[5]}" if r[5] else "")
    ),
}


def _date(value: str) -> str:
    import re

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise AssistantError(f"--since takes a date as YYYY-MM-DD, got {value!r}")
    return value


EXAMPLES = {
    "parse": """examples:
  assistant parse corpus/sv_2024_0213.txt
  assistant parse ../shared/corpora/be-chamber-2017/dekamer-2017.jsonl --id 187232 --json""",
    "eval": """examples:
  assistant eval --questions eval/sample.questions.jsonl --index index --report reports/sample
  assistant eval --questions ../shared/eval/be2017-dev.questions.jsonl --index /tmp/idx-be --report reports/dev \\
      --compare reports/before/metrics.json --fail-under part_hit5=0.9""",
    "ingest": """examples:
  assistant ingest corpus/
  assistant ingest ../shared/corpora/be-chamber-2017/dekamer-2017.jsonl --index /tmp/idx-be
  assistant ingest export.jsonl --fields id=nr,title=onderwerp,question=vraag,answer=antwoord,date=datum""",
    "ask": """examples:
  assistant ask "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
  assistant ask "Welke subsidies voor ontharding?" --party "Open VLD" --from 2023-01-01 --json
  assistant ask "Hoeveel stagiairs?" --server http://127.0.0.1:7860    # a running server answers at once

A cold start loads the model (seconds); with --server (or ASSISTANT_SERVER) the running server answers instead.""",
    "serve": """examples:
  assistant serve
  assistant serve --index /tmp/idx-be --port 8080
  assistant serve --ingest corpus/ --host 0.0.0.0    # behind a reverse proxy, see README "Deploy"

A port that is in use is reported (exit status 1) before anything is loaded.""",
    "questions": """examples:
  assistant questions                          # counts, the latest questions, knowledge gaps and feedback
  assistant questions --list gaps --since 2026-01-01
  assistant questions --list feedback --csv feedback.csv

Questions are logged only when ASSISTANT_QUESTION_LOG is on; feedback is always kept.""",
}


def _parser(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=help_text[:1].upper() + help_text[1:] + ".",
        epilog=EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _add_index_commands(sub: Any) -> None:
    i = _parser(sub, "ingest", "parse, embed and index documents (only what changed)")
    i.add_argument("paths", nargs="+", help="files or folders (.txt, .pdf, .docx, .html, .csv, .jsonl)")
    i.add_argument("--index", help="index folder (default: index/ or ASSISTANT_INDEX)")
    i.add_argument("--rebuild", action="store_true", help="start from an empty index")
    i.add_argument("--fields", help="JSONL/CSV field mapping, e.g. 'id=nr,question=vraag,answer=antwoord'")
    i.add_argument("--quiet", action="store_true", help="no progress bar")
    i.set_defaults(func=cmd_ingest)

    a = _parser(sub, "ask", "ask a question; prints the cited answer")
    a.add_argument("question")
    a.add_argument("--index", help="index folder (default: index/ or ASSISTANT_INDEX); searched here, never --server")
    a.add_argument("--top-k", type=int, default=5, help="how many parts to show (default 5)")
    a.add_argument("--json", action="store_true", help="print the answer as JSON")
    a.add_argument(
        "--server", metavar="URL", help="ask a running `assistant serve` (its /api/ask) instead (or ASSISTANT_SERVER)"
    )
    a.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help=argparse.SUPPRESS)
    add_filter_options(a)
    a.set_defaults(func=cmd_ask)

    s = _parser(sub, "serve", "run the chat, source view, widget, staff page and JSON API")
    s.add_argument("--index", help="index folder (default: index/ or ASSISTANT_INDEX)")
    s.add_argument("--ingest", nargs="+", metavar="PATH", help="ingest these first (only what changed)")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default 7860)")
    s.set_defaults(func=cmd_serve)

    q = _parser(sub, "questions", "list the questions asked, the knowledge gaps and the feedback (for staff)")
    q.add_argument("--list", choices=["all", "questions", "gaps", "feedback"], default="all", help="what to list")
    q.add_argument("--csv", metavar="FILE", help="write the chosen list (with --list) to FILE as CSV")
    q.add_argument("--since", metavar="YYYY-MM-DD", help="only what was asked or given on or after this date")
    q.add_argument("--limit", type=int, default=20, help="rows per list on screen (default 20)")
    q.add_argument("--index", help="the index folder whose staff.sqlite3 to read (default: index/ or ASSISTANT_INDEX)")
    q.add_argument("--db", help="the staff store itself (default: ASSISTANT_STAFF_DB, else INDEX/staff.sqlite3)")
    q.set_defaults(func=cmd_questions)


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description=__doc__,
        epilog='examples:\n  assistant ingest corpus/\n  assistant ask "Hoeveel kilometer fietssnelweg werd in 2022 '
        "aangelegd?\"\n  assistant serve\n\n`assistant COMMAND --help` shows each command's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = _parser(sub, "parse", "show how a file is split into sub-questions and answers")
    p.add_argument("file", help="a .txt, .pdf, .docx, .html, .csv or .jsonl file")
    p.add_argument("--json", action="store_true", help="print the parsed document(s) as JSON")
    p.add_argument("--id", help="only the record with this document id (for .jsonl files)")
    p.add_argument("--fields", help="JSONL field mapping, e.g. 'id=nr,question=vraag,answer=antwoord'")
    p.set_defaults(func=cmd_parse)

    e = _parser(sub, "eval", "score parsing and retrieval against gold files")
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
        help="with --questions (and --conversations: their follow-ups too): choose the abstain policy by "
        "cross-validation and write calibration.json",
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
