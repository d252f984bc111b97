"""Gold files in, metrics out: sub-question alignment scoring (FORMAT.md §2) and the metrics.json report.

Scoring is pure; reading the corpus goes through `assistant.parse`. Retrieval evaluation lives beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from assistant.parse.clean import fold
from assistant.types import Document


@dataclass(frozen=True)
class PartFailure:
    doc: str
    part: str
    side: str
    expected: str
    got: str


@dataclass
class AlignmentResult:
    docs_total: int = 0
    docs_passed: int = 0
    parts_total: int = 0
    parts_passed: int = 0
    failures: list[PartFailure] = field(default_factory=list)
    missing_docs: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, int]:
        return {
            "docs_total": self.docs_total,
            "docs_passed": self.docs_passed,
            "parts_total": self.parts_total,
            "parts_passed": self.parts_passed,
        }


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


def _gold_answer_head(gold: Mapping[str, Any], label: str) -> str:
    heads = {p["part"]: p["answer_head"] for p in gold["parts"]}
    refs = gold.get("refs", {})
    seen: set[str] = set()
    while not heads.get(label) and label in refs and label not in seen:
        seen.add(label)
        label = refs[label]
    return str(heads.get(label, ""))


def score_alignment(gold_docs: Iterable[Mapping[str, Any]], docs: Mapping[str, Document]) -> AlignmentResult:
    """Score parsed documents against alignment gold: question heads and resolved answer heads."""
    result = AlignmentResult()
    for gold in gold_docs:
        doc_id = str(gold["doc"])
        result.docs_total += 1
        doc = docs.get(doc_id)
        if doc is None:
            result.missing_docs.append(doc_id)
            result.parts_total += len(gold["parts"])
            continue
        ok_doc = True
        for gp in gold["parts"]:
            label = gp["part"]
            result.parts_total += 1
            part = doc.part(label)
            if part is None:
                result.failures.append(PartFailure(doc_id, label, "part", "(present)", "(missing)"))
                ok_doc = False
                continue
            ok = True
            q_head = fold(gp["question_head"])
            if not fold(part.question).startswith(q_head):
                result.failures.append(PartFailure(doc_id, label, "question", q_head, fold(part.question)[:80]))
                ok = False
            a_head = fold(_gold_answer_head(gold, label))
            resolved = doc.resolve(label)
            got = fold(resolved.answer if resolved is not None else "")
            if not got.startswith(a_head):
                result.failures.append(PartFailure(doc_id, label, "answer", a_head, got[:80]))
                ok = False
            result.parts_passed += ok
            ok_doc &= ok
        result.docs_passed += ok_doc
    return result


def write_metrics(report_dir: Path, block: str, values: Mapping[str, Any]) -> Path:
    """Merge one block into report_dir/metrics.json, keeping the blocks an earlier run wrote."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "metrics.json"
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            data = {}
    data[block] = values
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


LOWER_IS_BETTER = ("latency_ms", "false_abstain_rate", "gold_problems")


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """{"questions": {"part_hit5": 0.9}} -> {"questions.part_hit5": 0.9}; numbers only."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def lookup(flat: Mapping[str, float], key: str) -> float | None:
    """A metric by full name, or by short name searched in the questions then the alignment block."""
    for candidate in (key, f"questions.{key}", f"alignment.{key}"):
        if candidate in flat:
            return flat[candidate]
    return None


@dataclass(frozen=True)
class Change:
    key: str
    old: float
    new: float

    @property
    def worse(self) -> bool:
        lower_better = any(part in self.key for part in LOWER_IS_BETTER)
        return self.new > self.old if lower_better else self.new < self.old


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every metric present in both runs whose value changed, in a stable order."""
    a, b = flatten(old), flatten(new)
    return [Change(k, a[k], b[k]) for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]


def parse_bars(specs: Iterable[str]) -> dict[str, float]:
    """["part_hit5=0.8", ...] -> {"part_hit5": 0.8}; ConfigError for a malformed bar."""
    bars: dict[str, float] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        try:
            if not sep or not key:
                raise ValueError
            bars[key.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--fail-under takes KEY=NUMBER, e.g. part_hit5=0.85; got {spec!r}") from None
    return bars


def check_bars(metrics: Mapping[str, Any], bars: Mapping[str, float]) -> list[str]:
    """Messages for every bar the metrics do not reach (a missing metric fails too)."""
    flat = flatten(metrics)
    failures = []
    for key, bar in bars.items():
        value = lookup(flat, key)
        if value is None:
            failures.append(f"{key}: not in metrics.json")
        elif value < bar:
            failures.append(f"{key} = {value:.4g} is below {bar:.4g}")
    return failures
