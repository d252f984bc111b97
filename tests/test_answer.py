"""Abstaining: the calibrated policy's rules over retrieval's evidence, and the plain message users see."""

from __future__ import annotations

import pytest

from assistant.answer import NEVER, NO_ANSWER, AbstainPolicy, compose, highlight
from assistant.types import Citation, Evidence, Hit, Retrieval

DUTCH = "Hoeveel eieren werden vernietigd na de fipronilcrisis?"


def _evidence(similarity: float, coverage: float | None = 0.5, unknown: tuple[str, ...] = (), english: bool = False):  # noqa: ANN202
    return Evidence(similarity, coverage, unknown, english)


def _retrieval(evidence: Evidence) -> Retrieval:
    citation = Citation(doc_id="1", part="2", title="Eieren")
    hit = Hit(citation, 0.03, "Hoeveel eieren?", "Er werden 1.200 eieren vernietigd.", (), evidence.similarity)
    return Retrieval((hit,), evidence)


@pytest.mark.parametrize(
    ("evidence", "abstains"),
    [
        pytest.param(_evidence(0.90), False, id="close-enough"),
        pytest.param(_evidence(0.84), True, id="too-far"),
        pytest.param(_evidence(0.87, coverage=1.0), False, id="coverage-lifts-it"),
        pytest.param(_evidence(0.88, unknown=("fipronilcrisis",)), True, id="unknown-word-needs-more"),
        pytest.param(_evidence(0.90, unknown=("fipronilcrisis",)), False, id="unknown-word-but-very-close"),
        pytest.param(_evidence(0.83, unknown=("fipronil",), english=True), False, id="english-ignores-words"),
        pytest.param(_evidence(0.81, english=True), True, id="english-too-far"),
        pytest.param(_evidence(0.5, coverage=None), True, id="no-content-words-judged-like-english"),
    ],
)
def test_policy(evidence: Evidence, abstains: bool) -> None:
    assert AbstainPolicy().abstains(evidence) is abstains
    assert NEVER.abstains(evidence) is False


def test_abstaining_names_the_unknown_words_and_offers_suggestions() -> None:
    answer = compose(DUTCH, _retrieval(_evidence(0.86, unknown=("fipronilcrisis",))), AbstainPolicy())
    assert answer.abstained and not answer.hits and answer.suggestions
    assert answer.message.startswith(NO_ANSWER) and "'fipronilcrisis'" in answer.message
    assert compose(DUTCH, _retrieval(_evidence(0.80)), AbstainPolicy()).message == NO_ANSWER
    assert answer.to_dict()["evidence"]["unknown_words"] == ["fipronilcrisis"]


def test_highlight_marks_the_sentences_sharing_stemmed_words() -> None:
    text = "De dienst begeleidde 83 stagiairs. Er was geen budget. Van hen waren er 34 van buitenlandse herkomst."
    spans = highlight("Hoeveel stagiairs van buitenlandse herkomst?", text)
    marked = [text[a:b] for a, b in spans]
    assert marked == ["De dienst begeleidde 83 stagiairs.", "Van hen waren er 34 van buitenlandse herkomst."]
    assert highlight("de het een", text) == ()
