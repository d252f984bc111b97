"""Answers that only send the question on to another minister: recognised, counted apart in coverage."""

from __future__ import annotations

import pytest

from assistant.render import coverage, coverage_line
from assistant.text import REFERRAL_MAX_CHARS, is_referral
from tests.test_numbering import doc_of


@pytest.mark.parametrize(
    "answer",
    [
        "De vraag van het geachte lid wordt toegezonden aan de minister van Telecommunicatie, aangezien het voorwerp "
        "ervan tot zijn bevoegdheden behoort.",
        "Dit behoort tot de bevoegdheid van mijn collega, de minister van Justitie.",
        "Voor deze vragen verwijs ik naar de minister van Justitie, de heer Geens.",
        "Ik heb de eer het geachte lid mee te delen dat het antwoord op deze vraag tot de bevoegdheden van de minister "
        "van Energie behoort.",
        "Deze vraag valt onder de bevoegdheid van de minister van Justitie.",
        "Deze cijfers zijn te bekomen bij mijn collega van Buitenlandse Zaken.",
    ],
)
def test_referrals(answer: str) -> None:
    assert is_referral(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "In 2016 waren 296 op 8.610 stalen niet conform.",
        "De Regie heeft zich geen burgerlijke partij gesteld.",
        # a long answer that also mentions another minister's competence still answers
        "De controles behoren tot de bevoegdheid van het FAVV. " + "In 2016 werden 1.204 controles uitgevoerd. " * 20,
    ],
)
def test_answers_that_are_no_referral(answer: str) -> None:
    assert len(answer) <= REFERRAL_MAX_CHARS or "bevoegdheid" in answer
    assert not is_referral(answer)


def test_coverage_counts_referred_parts_apart() -> None:
    doc = doc_of(
        "1. Hoeveel boetes? 2. Hoeveel werden betaald? 3. Hoeveel staan open?",
        "1. Er waren 230 boetes. 2. Dit behoort tot de bevoegdheid van de minister van Justitie. 3. Zie vraag 2.",
    )
    c = coverage(doc)
    assert c["own"] == ["1"] and c["referred"] == ["2", "3"] and c["reference"] == [] and c["none"] == []
    line = "1 van 3 deelvragen inhoudelijk beantwoord, 2 doorverwezen naar een andere bevoegde minister of dienst"
    assert coverage_line(doc) == line
