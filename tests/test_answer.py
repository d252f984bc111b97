"""Abstaining: the calibrated policy's rules, and the plain message users see."""

from __future__ import annotations

import pytest

from assistant.answer import NEVER, NO_ANSWER, AbstainPolicy, compose
from assistant.types import Citation, Hit

DUTCH = "Hoeveel eieren werden vernietigd na de fipronilcrisis?"
ENGLISH = "How many eggs were destroyed after the fipronil crisis?"


def _hit(similarity: float, coverage: float | None = 0.5, unknown: tuple[str, ...] = ()) -> Hit:
    citation = Citation(doc_id="1", part="2", title="Eieren")
    answer = "Er werden 1.200 eieren vernietigd."
    return Hit(citation, 0.03, "Hoeveel eieren?", answer, (), similarity, coverage, unknown)


@pytest.mark.parametrize(
    ("question", "hit", "abstains"),
    [
        pytest.param(DUTCH, _hit(0.90), False, id="close-enough"),
        pytest.param(DUTCH, _hit(0.84), True, id="too-far"),
        pytest.param(DUTCH, _hit(0.87, coverage=1.0), False, id="coverage-lifts-it"),
        pytest.param(DUTCH, _hit(0.88, unknown=("fipronilcrisis",)), True, id="unknown-word-needs-more"),
        pytest.param(DUTCH, _hit(0.90, unknown=("fipronilcrisis",)), False, id="unknown-word-but-very-close"),
        pytest.param(ENGLISH, _hit(0.83, unknown=("fipronil",)), False, id="english-ignores-words"),
        pytest.param(ENGLISH, _hit(0.81), True, id="english-too-far"),
    ],
)
def test_policy(question: str, hit: Hit, abstains: bool) -> None:
    assert AbstainPolicy().abstains(question, hit) is abstains
    assert NEVER.abstains(question, hit) is False


def test_abstaining_names_the_unknown_words_and_offers_suggestions() -> None:
    answer = compose(DUTCH, [_hit(0.86, unknown=("fipronilcrisis",))], AbstainPolicy())
    assert answer.abstained and not answer.hits and answer.suggestions
    assert answer.message.startswith(NO_ANSWER) and "'fipronilcrisis'" in answer.message
    assert compose(DUTCH, [_hit(0.80)], AbstainPolicy()).message == NO_ANSWER
