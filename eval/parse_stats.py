"""What the parser makes of a corpus, in counts: parts, parts of answered documents left without text of their own,
parts that point to other parts, pointers to other documents and how many of them are linked. The figures the README
gives under "Answer numbering" and "References" come from this script; run it before and after a parsing change.

    PYTHONPATH=. python eval/parse_stats.py ../shared/corpora/be-chamber-2017/dekamer-2017.jsonl --split 2017-04

`--split` also counts the documents filed before and from that month apart (the dev gold's months and the rest).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from assistant.crossref import Directory
from assistant.parse.read import read_paths
from assistant.types import Document


def stats(docs: list[Document], split: str | None = None) -> dict[str, dict[str, int]]:
    directory = Directory(docs)
    out: dict[str, Counter[str]] = {}
    for doc in docs:
        groups = ["all"]
        if split:
            groups.append(f"before {split}" if (doc.date or "") < split else f"from {split}")
        counts = Counter(
            documents=1,
            parts=len(doc.parts),
            answered_documents=int(bool(doc.answer_text.strip())),
            parts_without_text=sum(1 for p in doc.parts if not p.answer.strip() and not p.ref)
            if doc.answer_text.strip()
            else 0,
            parts_pointing_to_parts=sum(1 for p in doc.parts if p.see),
            pointers_to_documents=sum(len(p.elsewhere) for p in doc.parts),
            pointers_linked=sum(1 for p in doc.parts for o in p.elsewhere if directory.find(o, doc) is not None),
        )
        for g in groups:
            out.setdefault(g, Counter()).update(counts)
    return {g: dict(c) for g, c in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path, help="corpus files or folders")
    ap.add_argument("--split", help="a month (YYYY-MM): count the documents filed before it and from it apart")
    args = ap.parse_args()
    docs = [d for d in read_paths(args.paths) if isinstance(d, Document)]
    print(json.dumps(stats(docs, args.split), indent=1))


if __name__ == "__main__":
    main()
