"""Abstaining: the calibrated policy's rules over retrieval's evidence, and the plain message users see."""

from __future__ import annotations

import pytest

from assistant.answer import NEVER, NO_ANSWER, NO_ANSWER_EN, AbstainPolicy, compose, highlight
from assistant.types import Citation, Evidence, Hit, Retrieval

DUTCH = "Hoeveel eieren werden vernietigd na de fipronilcrisis?"
POLICY = AbstainPolicy(dutch=0.88, english=0.8225, coverage_weight=0.075, unknown_words=0.8725, rare_zipf=4.0)
"""Thresholds fixed here, so the table below tests the rules, not whatever the calibration last shipped."""


def _evidence(  # noqa: ANN202
    similarity: float,
    coverage: float | None = 0.5,
    unknown: tuple[str, ...] = (),
    language: str = "nl",
    frequency: tuple[float, ...] | None = None,
):
    """Evidence with unknown words as rare as an invented word (Zipf 0) unless their frequencies are given."""
    return Evidence(similarity, coverage, unknown, frequency or tuple(0.0 for _ in unknown), language)


def _retrieval(evidence: Evidence) -> Retrieval:
    citation = Citation(doc_id="1", part="2", title="Eieren")
    hit = Hit(citation, 0.03, "Hoeveel eieren?", "Er werden 1.200 eieren vernietigd.", (), evidence.similarity)
    return Retrieval((hit,), evidence)


@pytest.mark.parametrize(
    ("evidence", "abstains"),
    [
        pytest.param(_evidence(0.90), False, id="close-enough"),
        pytest.param(_evidence(0.84), True, id="too-far"),
        pytest.param(_evidence(0.86, coverage=1.0), False, id="coverage-lifts-it"),
        pytest.param(_evidence(0.87, unknown=("fipronilcrisis",)), True, id="rare-unknown-word-needs-more"),
        pytest.param(_evidence(0.87, unknown=("geld",), frequency=(5.61,)), False, id="common-word-the-corpus-lacks"),
        pytest.param(_evidence(0.90, unknown=("fipronilcrisis",)), False, id="unknown-word-but-very-close"),
        pytest.param(_evidence(0.83, unknown=("fipronil",), language="en"), False, id="english-ignores-words"),
        pytest.param(_evidence(0.81, language="en"), True, id="english-too-far"),
        pytest.param(_evidence(0.81, language="fr"), True, id="french-judged-like-english"),
        pytest.param(_evidence(0.87, coverage=None), True, id="no-content-words-similarity-alone"),
        pytest.param(_evidence(0.885, coverage=None), False, id="no-content-words-but-close"),
    ],
)
def test_policy(evidence: Evidence, abstains: bool) -> None:
    assert POLICY.abstains(evidence) is abstains
    assert NEVER.abstains(evidence) is False


def test_abstaining_names_the_rare_unknown_words_and_offers_suggestions() -> None:
    evidence = _evidence(0.86, unknown=("geld", "fipronilcrisis"), frequency=(5.61, 1.11))
    answer = compose(DUTCH, _retrieval(evidence), POLICY)
    assert answer.abstained and not answer.hits and answer.suggestions
    assert answer.message == f"{NO_ANSWER} Geen enkele vraag of antwoord vermeldt 'fipronilcrisis'."
    assert compose(DUTCH, _retrieval(_evidence(0.80)), POLICY).message == NO_ANSWER
    assert answer.to_dict()["evidence"]["unknown_words"] == ["geld", "fipronilcrisis"]
    assert answer.to_dict()["evidence"]["unknown_frequency"] == [5.61, 1.11]


def test_english_question_gets_the_refusal_in_english() -> None:
    answer = compose("Where can victims get help?", _retrieval(_evidence(0.80, language="en")), POLICY)
    assert answer.abstained and answer.message == NO_ANSWER_EN
    assert answer.to_dict()["evidence"]["english"] is True
    french = compose("Où les victimes trouvent-elles de l'aide?", _retrieval(_evidence(0.80, language="fr")), POLICY)
    assert french.message == NO_ANSWER


def test_highlight_marks_the_sentences_sharing_stemmed_words() -> None:
    text = "De dienst begeleidde 83 stagiairs. Er was geen budget. Van hen waren er 34 van buitenlandse herkomst."
    spans = highlight("Hoeveel stagiairs van buitenlandse herkomst?", text)
    marked = [text[a:b] for a, b in spans]
    assert marked == ["De dienst begeleidde 83 stagiairs.", "Van hen waren er 34 van buitenlandse herkomst."]
    assert highlight("de het een", text) == ()
