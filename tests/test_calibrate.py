"""The abstain calibration: the rule that picks thresholds, the stratified cross-validation and `eval --calibrate`."""

from __future__ import annotations

import json
from dataclasses import replace
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
    conversation: str = "",
    backed: bool = False,
) -> Row:
    """A case whose unknown words have the given Zipf frequencies (on the index; on its gold document alone); with
    `conversation`, a follow-up in it (its evidence on its own words: no unknown word, no coverage)."""
    e = Evidence(similarity, coverage, tuple(f"w{i}" for i in range(len(unknown))), unknown, lang)
    small = Evidence(similarity, coverage, tuple(f"v{i}" for i in range(len(own_doc))), own_doc, lang)
    if conversation:
        own = Evidence(similarity, 0.0, (), (), lang)
        return Row(f"{conversation}#{n}", lang, abstain, e, e, False, not abstain, True, conversation, backed, own)
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
    assert all(f["questions"]["abstain_accuracy"] is not None for f in result.folds)  # 10 abstain cases: in every fold
    held = result.held_out["questions"]
    assert set(held) >= {"abstain_accuracy", "false_abstain_rate", "false_abstain_own_doc", "en_doc_hit5"}
    assert held["abstain_accuracy"]["folds"] == 10
    assert set(result.held_out) == {"questions"} and result.questions_only == {}
    assert result.in_sample == {"questions": calibrate.score(result.policy, rows)}
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
    assert written["settings"] == {"folds": 2, "repeats": 1, "target": 0.03, "seed": 0, "cases": 22, "followups": 0}
    assert len(written["folds"]) == 2 and set(written["policy"]) == set(AbstainPolicy().__dict__)
    assert "abstain_accuracy" in written["held_out"]["questions"]
    assert "abstain_accuracy" in written["in_sample"]["questions"]
    assert cli_main(["eval", "--calibrate", "--index", str(index_dir), "--report", str(report)]) == 1


# ---------------------------------------------------------------- follow-ups


def _with_followups() -> list[Row]:
    """The questions of `_rows`, whose Dutch abstain cases (at most 0.83) and answerable ones (0.87 on) leave the
    score threshold open in between, and conversations: answerable follow-ups at 0.88..0.92, an abstain case at 0.862
    the questions leave open, one answerable at 0.86 that its conversation backs, and an abstain case at 0.95 only
    catchable by refusing questions."""
    rows = _rows()
    rows += [_row(2, 0.88 + 0.002 * i, conversation=f"conv-{i}") for i in range(20)]
    rows.append(_row(2, 0.862, abstain=True, conversation="conv-near"))
    rows.append(_row(3, 0.86, conversation="conv-near", backed=True))
    rows.append(_row(2, 0.95, abstain=True, conversation="conv-far"))
    return rows


def test_follow_ups_choose_among_what_the_questions_leave_open_and_never_cost_a_question() -> None:
    rows = _with_followups()
    questions = [r for r in rows if not r.followup]
    alone = calibrate.choose(questions, target=0.03)
    both = calibrate.choose(rows, target=0.03)
    near = next(r for r in rows if r.id == "conv-near#2")
    assert not alone.abstains(near.evidence) and both.abstains(near.evidence)
    figures = calibrate.by_population(both, rows)
    assert figures["questions"] == calibrate.by_population(alone, questions)["questions"]  # not one question worse
    assert figures["followups"]["abstain_accuracy"] == 0.5  # the case at 0.95 is given up, not bought with questions
    assert figures["followups"]["false_abstain_rate"] == 0.0  # the backed follow-up at 0.86 is answered
    assert calibrate.by_population(alone, rows)["followups"]["abstain_accuracy"] == 0.0
    unbacked = [replace(r, backed=False) for r in rows]  # not backed, the follow-up at 0.86 is refused with it
    assert calibrate.by_population(calibrate.choose(unbacked), unbacked)["followups"]["false_abstain_rate"] == 1 / 21


def test_the_conversation_backs_a_follow_up_unless_it_names_a_rare_unknown_word() -> None:
    """followup.compose_resolved's rule, as the calibration counts it: a backed follow-up is answered below every
    threshold, but not when it names a word the corpus lacks that is rare (by the policy's Zipf cut-off)."""
    policy = AbstainPolicy(dutch=0.9, unknown_words=0.9, rare_zipf=3.0)
    plain = Evidence(0.8, 0.5, (), (), "nl")
    rare = Evidence(0.8, 0.5, ("iqos",), (1.0,), "nl")
    common = Evidence(0.8, 0.5, ("geld",), (5.0,), "nl")
    assert calibrate.refuses(policy, plain, no_hits=False) and not calibrate.refuses(policy, plain, False, backed=True)
    assert calibrate.refuses(policy, rare, no_hits=False, backed=True)
    assert not calibrate.refuses(policy, common, no_hits=False, backed=True)
    assert calibrate.refuses(policy, plain, no_hits=True, backed=True)  # nothing found: nothing to back


def test_folds_keep_the_turns_of_a_conversation_together() -> None:
    rows = _with_followups()
    splits = calibrate.splits(rows, folds=5, repeats=3, seed=2)
    assert len(splits) == 15
    for n in range(3):
        tests = [set(test.tolist()) for _, test in splits[5 * n : 5 * n + 5]]
        assert sorted(i for t in tests for i in t) == list(range(len(rows)))  # each row held out once per repeat
        iqos = {i for i, r in enumerate(rows) if r.group == "conv-iqos"}
        assert any(iqos <= t for t in tests)
    result = calibrate.cross_validate(rows, folds=5, repeats=2, seed=2)
    assert set(result.held_out) == {"questions", "followups"} == set(result.questions_only)
    assert result.settings["followups"] == 23 and result.settings["cases"] == len(rows) - 23
    lines = calibrate.summary_lines(result)
    assert any(line.startswith("followups") for line in lines) and "q-only" in lines[1]


def test_own_words_evidence_replaces_only_the_follow_ups() -> None:
    rows = _with_followups()
    own = calibrate.on_own_words(rows)
    assert [r.evidence for r in own if not r.followup] == [r.evidence for r in rows if not r.followup]
    assert all(r.evidence == r.own and r.evidence.unknown_words == () for r in own if r.followup)


def test_follow_up_rows_carry_the_evidence_and_decision_of_ask_in_the_conversation(tmp_path: Path) -> None:
    """collect_followups answers each turn as `eval --conversations` does; its row's evidence is what
    `Assistant.ask(..., history=...)` composes the follow-up from, and `refuses` decides as `ask` does."""
    from assistant.evaluate.run import conversation_reply
    from assistant.evaluate_conversations import Conversation
    from assistant.followup import Turn
    from tests.conftest import fake_assistant

    index_dir = tmp_path / "idx"
    ingest([CORPUS], Index.open(index_dir), FakeEmbedder, model_name="fake", progress=False)
    app = fake_assistant(index_dir)
    turns = [
        {
            "question": "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?",
            "gold": [{"doc": "sv_2023_0302", "part": "1"}],
        },
        {"question": "En hoeveel werd daarin geïnvesteerd?", "gold": [{"doc": "sv_2023_0302", "part": "2"}]},
        {"question": "Geldt dat ook voor elektrische steps zoals Lime?", "gold": []},
    ]
    conversation = Conversation.from_dict({"id": "c1", "kind": "abstain", "turns": turns})
    rows = calibrate.collect_followups(app, [conversation], progress=False)
    assert [(r.id, r.group, r.followup, r.abstain) for r in rows] == [
        ("c1#2", "c1", True, False),
        ("c1#3", "c1", True, True),
    ]
    history: list[Turn] = []
    for turn, row in zip(conversation.turns, [None, *rows], strict=True):
        if row is not None:
            for policy in (AbstainPolicy(), AbstainPolicy(dutch=0.99, unknown_words=0.99), AbstainPolicy(dutch=-1.0)):
                answer = app.ask(turn.question, top_k=10, history=history, policy=policy)
                assert answer.evidence == row.evidence
                assert answer.abstained == calibrate.refuses(policy, row.evidence, row.no_hits, row.backed)
        reply = conversation_reply(app.ask(turn.question, top_k=10, history=history))
        history.append(Turn(turn.question, () if reply.abstained else tuple(reply.cited or ())))
    assert rows[1].own is not None and "lime" in [w.lower() for w in rows[1].own.unknown_words]
