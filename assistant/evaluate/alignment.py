"""Sub-question alignment (FORMAT.md §2): does the parser pair every numbered question part with its answer?

Pure scoring over parsed Documents; reading the corpus goes through `assistant.parse`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
