"""Gold files in (FORMAT.md §1, JSONL or CSV): question cases, and the problems of lines that cannot be used.

A bad line becomes a GoldProblem and the run goes on without it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from assistant.filters import Filters
from assistant.types import Document

KINDS = ("paraphrase", "fact", "crossref", "filtered", "abstain", "en")


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """Objects of a JSON Lines file; ConfigError names the bad line."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
    return out


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
            Filters.parse(case.filters)
        except ConfigError as exc:  # an unknown filter key or a bad date
            problems.append(GoldProblem(where, str(exc)))
            continue
        seen.add(case.id)
        cases.append(case)
    return cases, problems
