"""Evaluation: metric arithmetic, gold-file loading, --compare / --fail-under, and the project's own gold set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main as cli_main
from assistant.errors import ConfigError
from assistant.evaluate.compare import check_bars, compare, parse_bars
from assistant.evaluate.gold import Case, load_cases
from assistant.evaluate.metrics import Outcome, has_facts, score_cases
from assistant.index import Index
from assistant.ingest import ingest
from tests.conftest import CORPUS, ROOT, shared_path
from tests.fakes import FakeEmbedder


def _case(cid: str, gold: list[tuple[str, str]], facts: tuple[str, ...] = (), kind: str = "paraphrase") -> Case:
    return Case(cid, "q", kind, tuple(gold), facts, {})


def test_metric_arithmetic() -> None:
    outcomes = [
        Outcome(_case("a", [("d1", "2")], ("400",)), [("d1", "2"), ("d2", "1")], ["d1", "d2"], "ongeveer 400 keer"),
        Outcome(_case("b", [("d3", "1")], ("12",)), [("d4", "1"), ("d3", "1")], ["d4", "d3"], "niets"),
        Outcome(_case("c", [("d5", "1")]), [], [], "", abstained=True),
        Outcome(_case("z", [], kind="abstain"), [], [], "", abstained=True),
        Outcome(_case("y", [], kind="abstain"), [("d9", "1")], ["d9"], "iets"),
    ]
    m = score_cases(outcomes)
    assert (m["cases"], m["answerable"], m["abstain"]) == (5, 3, 2)
    assert m["part_hit1"] == pytest.approx(1 / 3, abs=1e-3)
    assert m["part_hit5"] == pytest.approx(2 / 3, abs=1e-3)
    assert m["part_mrr10"] == pytest.approx((1 + 0.5) / 3, abs=1e-3)
    assert m["fact_recall1"] == pytest.approx(1 / 3, abs=1e-3)
    assert m["abstain_accuracy"] == 0.5
    assert m["false_abstain_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert m["by_kind"]["abstain"] == {"cases": 2, "abstain_accuracy": 0.5}


def test_facts_compared_folded() -> None:
    assert has_facts("Er waren   8.256 M2 en\nmeer", ["8.256 m2"])
    assert not has_facts("8.25 m2", ["8.256 m2"])


def test_compare_flags_what_got_worse() -> None:
    old = {"questions": {"part_hit5": 0.9, "latency_ms": {"p95": 100.0}, "fact_recall1": 0.8}}
    new = {"questions": {"part_hit5": 0.85, "latency_ms": {"p95": 90.0}, "fact_recall1": 0.8}}
    changes = {c.key: c.worse for c in compare(old, new)}
    assert changes == {"questions.part_hit5": True, "questions.latency_ms.p95": False}


def test_bars() -> None:
    metrics = {"questions": {"part_hit5": 0.8}, "alignment": {"docs_passed": 25}}
    assert check_bars(metrics, parse_bars(["part_hit5=0.8", "docs_passed=24"])) == []
    assert check_bars(metrics, parse_bars(["part_hit5=0.9"])) == ["part_hit5 = 0.8 is below 0.9"]
    assert check_bars(metrics, parse_bars(["nope=1"])) == ["nope: not in metrics.json"]
    with pytest.raises(ConfigError, match="KEY=NUMBER"):
        parse_bars(["part_hit5"])


def test_gold_problems_reported_per_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    lines = [
        {"id": "1", "question": "q", "kind": "fact", "gold": [{"doc": "known", "part": "1"}], "facts": []},
        {"id": "2", "question": "q", "kind": "fact"},
        {"id": "3", "question": "q", "kind": "fact", "gold": [{"doc": "unknown", "part": "1"}]},
        {"id": "4", "question": "q", "kind": "abstain", "gold": []},
        {"id": "5", "question": "q", "kind": "fact", "gold": [{"doc": "known", "part": "1"}], "filters": {"x": "y"}},
    ]
    gold.write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n", encoding="utf-8")
    cases, problems = load_cases(gold, {"known": object()})  # type: ignore[dict-item]
    assert [c.id for c in cases] == ["1", "4"]
    reasons = {p.where.rsplit(":", 1)[1]: p.reason for p in problems}
    assert "missing field(s): gold" in reasons["2"]
    assert "not in the index: unknown" in reasons["3"]
    assert "unknown filter" in reasons["5"]
    assert "not valid JSON" in reasons["6"]


def test_csv_gold(tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text(
        "id,question,lang,kind,gold,facts,filters\n"
        "c1,Hoeveel?,nl,fact,d1#3e|d1#1,400|8.256,party=Groen;date_from=2017-01-01\n"
        "c2,Wolven?,nl,abstain,,,\n"
        "c3,Kapot?,nl,fact,d1-zonder-deel,,\n",
        encoding="utf-8",
    )
    cases, problems = load_cases(gold)
    assert cases[0].gold == (("d1", "3e"), ("d1", "1")) and cases[0].facts == ("400", "8.256")
    assert cases[0].filters == {"party": "Groen", "date_from": "2017-01-01"}
    assert cases[1].kind == "abstain" and cases[1].gold == ()
    assert len(problems) == 1 and "doc#part" in problems[0].reason


@pytest.mark.integration
def test_alignment_eval_command(tmp_path: Path) -> None:
    status = cli_main(
        [
            "eval",
            "--alignment",
            str(shared_path("eval/be2017-dev.alignment.jsonl")),
            "--corpus",
            str(shared_path("corpora/be-chamber-2017/dekamer-2017.jsonl")),
            "--report",
            str(tmp_path),
            "--fail-under",
            "docs_passed=24",
        ]
    )
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert status == 0
    assert set(metrics["alignment"]) == {"docs_total", "docs_passed", "parts_total", "parts_passed"}
    assert metrics["alignment"]["docs_total"] == 25
    assert "Sub-question alignment" in (tmp_path / "report.html").read_text(encoding="utf-8")


@pytest.mark.integration
def test_project_gold_set_passes_its_bars(
    tmp_path: Path,
    e5_embedder: object,
    e5_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The regression gate CI runs: parsing + retrieval over corpus/ with the real model must stay above the bars."""
    index_dir = tmp_path / "idx"
    ingest([CORPUS], Index.open(index_dir), lambda: e5_embedder, model_name="multilingual-e5-small", progress=False)  # type: ignore[arg-type,return-value]
    monkeypatch.setenv("ASSISTANT_CACHE", str(e5_cache))
    report = tmp_path / "report"
    args = [
        "eval",
        "--questions",
        str(ROOT / "eval" / "sample.questions.jsonl"),
        "--index",
        str(index_dir),
        "--report",
        str(report),
        "--quiet",
    ]
    # naive-rag re-embeds every document: by default it runs only once its vectors were built
    assert cli_main(args) == 0
    assert set(json.loads((report / "metrics.json").read_text(encoding="utf-8"))["baselines"]) == {"bm25"}
    assert "--baselines naive-rag bm25 builds" in capsys.readouterr().err
    bars = ["--fail-under", "part_hit5=0.85", "doc_hit5=0.95", "fact_recall1=0.85"]
    status = cli_main([*args, "--baselines", "naive-rag", "bm25", *bars])
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert status == 0, metrics["questions"]
    q = metrics["questions"]
    for key in (
        "part_hit1",
        "part_hit5",
        "part_mrr10",
        "doc_hit1",
        "doc_hit5",
        "doc_mrr10",
        "fact_recall1",
        "abstain_accuracy",
        "false_abstain_rate",
        "by_kind",
        "latency_ms",
    ):
        assert key in q
    assert set(metrics["baselines"]) == {"naive-rag", "bm25"}
    assert set(metrics["system"]) >= {"embedding_model", "retrieval", "parts_indexed", "docs_indexed"}
    assert metrics["system"]["retrieval"] == "hybrid (scores fusion)"
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "naive-rag" in html and "By kind" in html
    # and the bar bites: an impossible bar fails the run; naive-rag's vectors are cached now, so it runs by default
    assert cli_main([*args, "--fail-under", "part_hit5=1.01"]) == 3
    assert set(json.loads((report / "metrics.json").read_text(encoding="utf-8"))["baselines"]) == {"naive-rag", "bm25"}
    assert cli_main([*args, "--baselines", "none"]) == 0
    assert json.loads((report / "metrics.json").read_text(encoding="utf-8"))["baselines"] == {}
    # reciprocal rank fusion stays measurable
    assert cli_main([*args, "--fusion", "rrf"]) == 0
    rrf = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert rrf["system"]["retrieval"] == "hybrid (rrf fusion)"


def test_latency_below_10_ms_prints_with_a_decimal_not_as_zero() -> None:
    from assistant.cli import _ms

    assert [_ms(0.46), _ms(9.94), _ms(83.04)] == ["0.5 ms", "9.9 ms", "83 ms"]


def test_conversation_eval_writes_the_format_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`assistant eval --conversations`: every turn with its history, the no-history baseline, FORMAT.md §4 keys."""
    index_dir = tmp_path / "idx"
    ingest([CORPUS], Index.open(index_dir), FakeEmbedder, model_name="fake", progress=False)
    monkeypatch.setenv("ASSISTANT_MODEL", "fake")
    turns = [
        {
            "question": "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?",
            "gold": [{"doc": "sv_2023_0302", "part": "1"}],
            "facts": ["74,6 km"],
            "filters": {},
        },
        {
            "question": "En hoeveel werd daarin geïnvesteerd?",
            "gold": [{"doc": "sv_2023_0302", "part": "2"}],
            "facts": ["118.412.000 euro"],
            "filters": {},
        },
    ]
    gold = tmp_path / "conv.jsonl"
    gold.write_text(json.dumps({"id": "c1", "lang": "nl", "kind": "same-doc", "turns": turns}) + "\n", encoding="utf-8")
    report = tmp_path / "report"
    args = ["eval", "--conversations", str(gold), "--index", str(index_dir), "--report", str(report), "--quiet"]
    assert cli_main(args) == 0
    c = json.loads((report / "metrics.json").read_text(encoding="utf-8"))["conversations"]
    assert (c["conversations"], c["turns"], c["followups"]) == (1, 2, 1)
    assert set(c["followup"]) >= {"part_hit1", "part_hit5", "part_mrr10", "doc_hit5", "fact_recall1"}
    assert {"abstain_accuracy", "false_abstain_rate"} <= set(c["followup"])
    assert set(c["first_turn"]) == {"part_hit5", "fact_recall1"} and c["first_turn"]["part_hit5"] == 1.0
    assert "same-doc" in c["by_kind"] and "no-history" in c["baselines"]
    assert set(c["latency_ms"]) == {"p50", "p95", "max"}
    assert "<h2>Conversations</h2>" in (report / "report.html").read_text(encoding="utf-8")
