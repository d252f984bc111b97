"""The `ingest`, `ask` and `serve` commands (kept apart from cli.py so `assistant parse` starts fast)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError


def _index_dir(args: argparse.Namespace) -> Path:
    return Path(args.index) if getattr(args, "index", None) else args.settings.index_dir


def add_filter_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters")
    g.add_argument("--minister", help="exact minister (as in the document)")
    g.add_argument("--department", help="exact department (as in the document)")
    g.add_argument("--party", help="party of the member who asked")
    g.add_argument("--asker", help="member who asked")
    g.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="asked on or after this date")
    g.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="asked on or before this date")
    g.add_argument("--doc", dest="doc_id", help="only this document id")


def filters_from(args: argparse.Namespace) -> dict[str, str]:
    keys = ("minister", "department", "party", "asker", "date_from", "date_to", "doc_id")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None)}


# ---------------------------------------------------------------- ingest


def cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.cli import _field_map
    from assistant.ingest import ingest
    from assistant.service import make_embedder

    settings = args.settings
    index_dir = _index_dir(args)
    report = ingest(
        [Path(p) for p in args.paths],
        index_dir,
        lambda: make_embedder(settings),
        model_name=settings.model,
        chroma_url=settings.chroma_url,
        collection=settings.collection,
        rebuild=args.rebuild,
        mapping=_field_map(args.fields),
        progress=not args.quiet,
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
    from assistant.answer import compose, policy_for
    from assistant.retrieve import RetrievalSettings
    from assistant.service import open_retriever

    retrieval = replace(RetrievalSettings(), mode=args.mode)
    retriever = open_retriever(args.settings, _index_dir(args), retrieval)
    model = retriever.embedder.name if retriever.embedder is not None else None
    answer = compose(args.question, retriever.search(args.question, filters_from(args), args.top_k), policy_for(model))
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
        from assistant.ingest import ingest
        from assistant.service import make_embedder

        report = ingest(
            [Path(p) for p in args.ingest],
            settings.index_dir,
            lambda: make_embedder(settings),
            model_name=settings.model,
            chroma_url=settings.chroma_url,
            collection=settings.collection,
        )
        print(report.summary())
    serve(settings)
    return 0


def add_commands(sub: Any) -> None:
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


__all__ = ["AssistantError", "add_commands"]
