"""Conversation gold (FORMAT.md §4) in, follow-up metrics out, with the `no-history` baseline from the same run.

Every turn is answered seeing only the earlier questions and the system's own earlier replies (never their gold);
every follow-up is then asked again alone. The system is any `ask(question, history) -> Reply` callable, so this
module loads no index or model itself; it scores, and renders its section of report.html.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluate.metrics import has_facts, mean, percentiles
from assistant.followup import Turn

KINDS = ("same-doc", "other-doc", "pronoun", "switch", "abstain", "en")
CITED_MAX = 6
"""What a reply cites when the system does not say: the first parts of its ranking (the answer shows up to 6)."""


@dataclass(frozen=True)
class GoldTurn:
    question: str
    gold: tuple[tuple[str, str], ...]
    facts: tuple[str, ...]
    filters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversation:
    id: str
    kind: str
    lang: str
    turns: tuple[GoldTurn, ...]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Conversation:
        turns = tuple(
            GoldTurn(
                question=str(t["question"]),
                gold=tuple((str(g["doc"]), str(g["part"])) for g in t.get("gold", [])),
                facts=tuple(str(f) for f in t.get("facts", [])),
                filters=dict(t.get("filters") or {}),
            )
            for t in d["turns"]
        )
        return cls(id=str(d["id"]), kind=str(d["kind"]), lang=str(d.get("lang", "nl")), turns=turns)


def load_conversations(path: Path) -> list[Conversation]:
    """The conversations of a JSONL file; ValueError naming the line for a malformed one."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            conv = Conversation.from_dict(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a conversation ({exc})") from None
        if len(conv.turns) < 2:
            raise ValueError(f"{path}:{n}: {conv.id} has {len(conv.turns)} turn(s); a conversation needs 2 or more")
        out.append(conv)
    return out


@dataclass(frozen=True)
class Reply:
    """What the system returned for one turn."""

    ranked: tuple[tuple[str, str], ...]
    """(doc_id, part) in the order shown, then the other retrieved parts; empty when it abstained."""
    first_text: str = ""
    """The first answer text shown (the top cited part's, references followed)."""
    abstained: bool = False
    resolved: str = ""
    """The question it searched with, where it rewrote the one asked."""
    cited: tuple[tuple[str, str], ...] | None = None
    """The parts its answer cites, which the next turn sees; None: the first `CITED_MAX` of `ranked`."""

    @classmethod
    def of(cls, value: Reply | Sequence[Any]) -> Reply:
        """A Reply, or a tuple (ranked, first_text, abstained[, resolved])."""
        if isinstance(value, Reply):
            return value
        ranked, first, abstained, *rest = value
        return cls(
            tuple((str(d), str(p)) for d, p in ranked), str(first), bool(abstained), str(rest[0]) if rest else ""
        )


Ask = Callable[[str, Sequence[Turn]], "Reply | Sequence[Any]"]
"""ask(question, history) -> Reply or (ranked (doc, part) list, first answer text, abstained[, resolved question])."""


@dataclass(frozen=True)
class TurnOutcome:
    conversation: str
    kind: str
    index: int
    """0 for the first turn."""
    last: bool
    turn: GoldTurn
    reply: Reply
    seconds: float

    @property
    def docs(self) -> list[str]:
        out: list[str] = []
        for d, _ in self.reply.ranked:
            if d not in out:
                out.append(d)
        return out

    @property
    def fact_ok(self) -> bool:
        return not self.reply.abstained and has_facts(self.reply.first_text, self.turn.facts)

    @property
    def failed(self) -> bool:
        if not self.turn.gold:
            return not self.reply.abstained
        return not (_hit(self.reply.ranked, set(self.turn.gold), 5) and self.fact_ok)


def _hit(ranked: Sequence[Any], gold: set[Any], k: int) -> float:
    return float(any(r in gold for r in ranked[:k]))


def _mrr(ranked: Sequence[Any], gold: set[Any], k: int = 10) -> float:
    for i, r in enumerate(ranked[:k], 1):
        if r in gold:
            return 1.0 / i
    return 0.0


def run_conversations(conversations: Sequence[Conversation], ask: Ask) -> list[TurnOutcome]:
    """Every turn of every conversation, each seeing the earlier questions and the system's own earlier replies."""
    out = []
    for conv in conversations:
        history: list[Turn] = []
        for i, turn in enumerate(conv.turns):
            t = time.perf_counter()
            reply = Reply.of(ask(turn.question, tuple(history)))
            seconds = time.perf_counter() - t
            out.append(TurnOutcome(conv.id, conv.kind, i, i == len(conv.turns) - 1, turn, reply, seconds))
            cited = reply.cited if reply.cited is not None else reply.ranked[:CITED_MAX]
            history.append(Turn(turn.question, () if reply.abstained else tuple(cited)))
    return out


def run_alone(conversations: Sequence[Conversation], ask: Ask) -> list[TurnOutcome]:
    """The `no-history` baseline: every follow-up (turn 2 on) asked as if it opened the conversation."""
    out = []
    for conv in conversations:
        for i, turn in enumerate(conv.turns[1:], 1):
            t = time.perf_counter()
            reply = Reply.of(ask(turn.question, ()))
            out.append(
                TurnOutcome(conv.id, conv.kind, i, i == len(conv.turns) - 1, turn, reply, time.perf_counter() - t)
            )
    return out


def _block(items: Sequence[TurnOutcome]) -> dict[str, float]:
    answerable = [o for o in items if o.turn.gold]
    abstain = [o for o in items if not o.turn.gold]
    gold = [set(o.turn.gold) for o in answerable]
    docs = [{d for d, _ in o.turn.gold} for o in answerable]
    return {
        "part_hit1": mean([_hit(o.reply.ranked, g, 1) for o, g in zip(answerable, gold, strict=True)]),
        "part_hit5": mean([_hit(o.reply.ranked, g, 5) for o, g in zip(answerable, gold, strict=True)]),
        "part_mrr10": mean([_mrr(o.reply.ranked, g) for o, g in zip(answerable, gold, strict=True)]),
        "doc_hit5": mean([_hit(o.docs, d, 5) for o, d in zip(answerable, docs, strict=True)]),
        "fact_recall1": mean([float(o.fact_ok) for o in answerable]),
        "abstain_accuracy": mean([float(o.reply.abstained) for o in abstain]),
        "false_abstain_rate": mean([float(o.reply.abstained) for o in answerable]),
    }


def _by_kind(items: Sequence[TurnOutcome]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in sorted({o.kind for o in items if o.last}):
        last = [o for o in items if o.last and o.kind == kind]
        if kind == "abstain":
            out[kind] = {"cases": len(last), "abstain_accuracy": mean([float(o.reply.abstained) for o in last])}
        else:
            b = _block(last)
            out[kind] = {
                "cases": len(last),
                **{k: b[k] for k in ("part_hit1", "part_hit5", "part_mrr10", "fact_recall1")},
            }
    return out


def score_conversations(outcomes: Sequence[TurnOutcome], alone: Sequence[TurnOutcome]) -> dict[str, Any]:
    """The `conversations` block of metrics.json (FORMAT.md §4)."""
    first = [o for o in outcomes if o.index == 0]
    follow = [o for o in outcomes if o.index > 0]
    fb = _block(first)
    baseline = _block(alone)
    return {
        "conversations": len(first),
        "turns": len(outcomes),
        "followups": len(follow),
        "first_turn": {"part_hit5": fb["part_hit5"], "fact_recall1": fb["fact_recall1"]},
        "followup": _block(follow),
        "by_kind": _by_kind(outcomes),
        "baselines": {"no-history": {"followup": baseline, "by_kind": _by_kind(alone)}},
        "latency_ms": percentiles([o.seconds for o in outcomes]),
    }


def evaluate_conversations(conversations: Sequence[Conversation], ask: Ask) -> tuple[dict[str, Any], list[TurnOutcome]]:
    """Run both, score both: (the `conversations` metrics block, the outcomes of the run with history)."""
    outcomes = run_conversations(conversations, ask)
    alone = run_alone(conversations, ask)
    return score_conversations(outcomes, alone), outcomes


# ---------------------------------------------------------------- report.html

_SHOWN = ("part_hit1", "part_hit5", "part_mrr10", "doc_hit5", "fact_recall1", "abstain_accuracy", "false_abstain_rate")


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def _pairs(pairs: Sequence[tuple[str, str]], limit: int = 3) -> str:
    return html.escape(", ".join(f"{d}#{p}" for d, p in pairs[:limit])) or "-"


def conversations_html(metrics: Mapping[str, Any], outcomes: Sequence[TurnOutcome]) -> str:
    """The report.html section: follow-ups overall and by kind beside the no-history baseline, and the failed
    turns with the question the system searched with."""
    base = metrics["baselines"]["no-history"]
    head = "<tr><th></th>" + "".join(f"<th>{k}</th>" for k in _SHOWN) + "</tr>"
    rows = "".join(
        f"<tr><td>{name}</td>" + "".join(f"<td class='num'>{_fmt(block.get(k, '-'))}</td>" for k in _SHOWN) + "</tr>"
        for name, block in (("with history", metrics["followup"]), ("no-history", base["followup"]))
    )
    kinds = ""
    for kind, ours in metrics["by_kind"].items():
        alone = base["by_kind"].get(kind, {})
        keys = ("abstain_accuracy",) if kind == "abstain" else ("part_hit5", "fact_recall1")
        cells = "".join(
            f"<td class='num'>{_fmt(ours.get(k, '-'))}</td><td class='num'>{_fmt(alone.get(k, '-'))}</td>" for k in keys
        )
        kinds += f"<tr><td>{html.escape(kind)}</td><td class='num'>{ours['cases']}</td>{cells}</tr>"
    failed = ""
    for o in outcomes:
        if o.index == 0 or not o.failed:
            continue
        resolved = o.reply.resolved if o.reply.resolved and o.reply.resolved != o.turn.question else ""
        got = "abstained" if o.reply.abstained else _pairs(o.reply.ranked)
        failed += (
            f"<tr><td>{html.escape(o.conversation)} #{o.index + 1}</td><td>{html.escape(o.kind if o.last else '')}</td>"
            f"<td>{html.escape(o.turn.question)}</td><td>{html.escape(resolved)}</td>"
            f"<td>{_pairs(o.turn.gold) if o.turn.gold else 'abstain'}</td><td class='bad'>{got}</td></tr>"
        )
    body = (
        "<h2>Conversations</h2>"
        f"<p>{metrics['conversations']} conversations, {metrics['turns']} turns, {metrics['followups']} follow-ups. "
        f"First turns: part_hit5 {_fmt(metrics['first_turn']['part_hit5'])}, fact_recall1 "
        f"{_fmt(metrics['first_turn']['fact_recall1'])}.</p>"
        f"<h3>Follow-ups (turn 2 on)</h3><table>{head}{rows}</table>"
        "<h3>Last turn by kind</h3><table><tr><th>kind</th><th>cases</th>"
        "<th>ours</th><th>no-history</th><th>ours</th><th>no-history</th></tr>"
        "<tr><th></th><th></th><th colspan=2>part_hit5 (abstain: accuracy)</th><th colspan=2>fact_recall1</th></tr>"
        f"{kinds}</table>"
    )
    if failed:
        body += (
            "<h3>Failed follow-ups</h3><p>A turn fails when no gold part is in the first 5 or the first answer lacks a "
            "fact (an abstain turn: when it answered).</p><table><tr><th>turn</th><th>kind</th><th>question</th>"
            f"<th>searched with</th><th>gold</th><th>we cited</th></tr>{failed}</table>"
        )
    return body
