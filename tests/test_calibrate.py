"""The abstain calibration: the rule that picks thresholds, the stratified cross-validation and `eval --calibrate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer import AbstainPolicy
from assistant.cli import main as cli_main
from assistant.evaluate import calibrate
from assistant.evaluate.calibrate import Row
from assistant.index import Index
from assistant.ingest import ingest
from assistant.types import Evidence
from tests.conftest import CORPUS, ROOT
from tests.fakes import FakeEmbedder


def _row(
    n: int,
    similarity: float,
    abstain: bool = False,
    lang: str = "nl",
    unknown: tuple[float, ...] = (),
    own_doc: tuple[float, ...] = (),
    coverage: float = 0.5,
) -> Row:
    """A case whose unknown words have the given Zipf frequencies (on the index; on its gold document alone)."""
    e = Evidence(similarity, coverage, tuple(f"w{i}" for i in range(len(unknown))), unknown, lang)
    small = Evidence(similarity, coverage, tuple(f"v{i}" for i in range(len(own_doc))), own_doc, lang)
    return Row(f"c{n}", lang, abstain, e, small, False, not abstain)


def _rows() -> list[Row]:
    """40 answerable Dutch cases at 0.87..0.95 (one with a word its own document lacks), Dutch abstain cases below
    them or naming a rare word, English cases on a similarity of their own."""
    rows = [_row(i, 0.87 + 0.002 * i) for i in range(40)]
    rows.append(_row(40, 0.872, own_doc=(5.6,)))  # 'geld': its gold document lacks it, and it is common
    rows += [_row(50 + i, 0.80 + 0.01 * i, abstain=True) for i in range(4)]
    rows += [_row(60 + i, 0.90, abstain=True, unknown=(1.0,)) for i in range(3)]  # close, but a rare unknown word
    rows += [_row(70 + i, 0.85 + 0.005 * i, lang="en") for i in range(10)]
    rows += [_row(80 + i, 0.78 + 0.01 * i, abstain=True, lang="en") for i in range(3)]
    return rows


def test_rule_catches_the_abstain_cases_within_the_target() -> None:
    rows = _rows()
    policy = calibrate.choose(rows, target=0.03)
    assert 0.80 < policy.english <= 0.85  # up to the lowest English answerable case, refusing none of them
    assert 1.0 < policy.rare_zipf <= 5.6  # the invented word counts, the common word its document lacks does not
    figures = calibrate.score(policy, rows)  # through AbstainPolicy.abstains itself
    assert figures["abstain_accuracy"] == 1.0 and figures["false_abstain_rate"] == 0.0
    assert figures["false_abstain_own_doc"] == 0.0 and figures["en_doc_hit5"] == 1.0


def test_rule_keeps_to_the_false_abstention_target() -> None:
    """An abstain case among the answerable ones is given up rather than refusing more than the target allows."""
    rows = [_row(i, 0.87 + 0.002 * i) for i in range(40)]
    rows.append(_row(50, 0.80, abstain=True))
    rows.append(_row(51, 0.93, abstain=True))  # only catchable by refusing most answerable cases
    policy = calibrate.choose(rows, target=0.05)
    figures = calibrate.score(policy, rows)
    assert figures["abstain_accuracy"] == 0.5
    assert figures["false_abstain_rate"] is not None and figures["false_abstain_rate"] <= 0.05
    strict = calibrate.score(calibrate.choose(rows, target=0.0), rows)
    assert strict["false_abstain_rate"] == 0.0 and strict["abstain_accuracy"] == 0.5


def test_cross_validation_holds_each_case_out_once_per_repeat_and_spreads_the_abstain_cases() -> None:
    rows = _rows()
    result = calibrate.cross_validate(rows, folds=5, repeats=2, target=0.03, seed=1)
    assert len(result.folds) == 10
    assert all(f["abstain_accuracy"] is not None for f in result.folds)  # 10 abstain cases: some in every fold
    assert set(result.held_out) >= {"abstain_accuracy", "false_abstain_rate", "false_abstain_own_doc", "en_doc_hit5"}
    assert result.held_out["abstain_accuracy"]["folds"] == 10
    assert result.in_sample == calibrate.score(result.policy, rows)
    assert result.policy == calibrate.choose(rows, target=0.03)
    assert result.language_accuracy == 1.0
    lines = calibrate.summary_lines(result)
    assert lines[-1].startswith("policy: AbstainPolicy(") and "held-out" in lines[1]


def test_too_few_cases_for_the_folds_is_a_clear_error() -> None:
    from assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="3 cases cannot be split into 5 folds"):
        calibrate.cross_validate(_rows()[:3], folds=5)


def test_calibrate_command_writes_held_out_and_in_sample_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "idx"
    ingest([CORPUS], Index.open(index_dir), FakeEmbedder, model_name="fake", progress=False)
    monkeypatch.setenv("ASSISTANT_MODEL", "fake")
    report = tmp_path / "report"
    args = ["eval", "--calibrate", "--questions", str(ROOT / "eval" / "sample.questions.jsonl")]
    args += ["--index", str(index_dir), "--report", str(report), "--folds", "2", "--repeats", "1", "--quiet"]
    assert cli_main(args) == 0
    written = json.loads((report / "calibration.json").read_text(encoding="utf-8"))
    assert written["settings"] == {"folds": 2, "repeats": 1, "target": 0.03, "seed": 0, "cases": 22}
    assert len(written["folds"]) == 2 and set(written["policy"]) == set(AbstainPolicy().__dict__)
    assert "abstain_accuracy" in written["held_out"] and "abstain_accuracy" in written["in_sample"]
    assert cli_main(["eval", "--calibrate", "--index", str(index_dir), "--report", str(report)]) == 1
