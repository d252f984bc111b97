"""What a filtered question asks: phrases that only repeat a filter are taken out before searching, others stay."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.asked import content_query
from assistant.filters import Filters

LEEFMILIEU = {"department": "Minister van Energie, Leefmilieu en Duurzame Ontwikkeling"}
MARCH = {"date_from": "2017-03-01", "date_to": "2017-03-31"}


@pytest.mark.parametrize(
    ("question", "filters", "asked"),
    [
        pytest.param(
            "Wat zei de minister van Leefmilieu in antwoord op een vraag van maart 2017 over plastic microbolletjes?",
            {**LEEFMILIEU, **MARCH},
            "Wat zei over plastic microbolletjes?",
            id="role-and-period",
        ),
        pytest.param(
            "Hoeveel landbouwbedrijven zijn er sinds 1980 verdwenen volgens de minister van Landbouw?",
            {"department": "Minister van Middenstand, Zelfstandigen, KMO's, Landbouw en Maatschappelijke Integratie"},
            "Hoeveel landbouwbedrijven zijn er sinds 1980 verdwenen?",
            id="volgens-at-the-end-keeps-the-question-mark",
        ),
        pytest.param(
            "Volgens de minister van Financiën: wordt de topman van de FPIM betaald als natuurlijke persoon?",
            {"department": "Minister van Financien, belast met Bestrijding van de fiscale fraude"},
            "Wordt de topman van de FPIM betaald als natuurlijke persoon?",
            id="accents-and-a-colon",
        ),
        pytest.param(
            "Hoe groot is volgens de minister van Begroting de inspanning voor 2017?",
            {"department": "Minister van Begroting, belast met de Nationale Loterij"},
            "Hoe groot is de inspanning voor 2017?",
            id="glue-word-the-department-also-has-stays",
        ),
        pytest.param(
            "Wat zei de minister van Landbouw over de mestbank?",
            {"department": "Minister van Justitie"},
            "Wat zei de minister van Landbouw over de mestbank?",
            id="another-minister-than-the-filter-stays",
        ),
        pytest.param(
            "Hoeveel asielaanvragen waren er in maart 2016?",
            MARCH,
            "Hoeveel asielaanvragen waren er in maart 2016?",
            id="a-period-outside-the-filter-stays",
        ),
        pytest.param(
            "Wat werd er geantwoord op de parlementaire vraag van januari 2017 over de overwegen in Herentals?",
            {"date_from": "2017-01-01"},
            "Wat werd er geantwoord over de overwegen in Herentals?",
            id="open-ended-date-filter",
        ),
        pytest.param(
            "What did the minister of Justitie answer in reply to a question of March 2017 about prisons?",
            {"department": "Minister van Justitie", **MARCH},
            "What did answer about prisons?",
            id="english-role-and-period",
        ),
        pytest.param(
            "Hoeveel fietssnelweg werd aangelegd?",
            {"party": "Vooruit"},
            "Hoeveel fietssnelweg werd aangelegd?",
            id="a-filter-the-question-does-not-name",
        ),
        pytest.param(
            "De minister van Justitie?",
            {"department": "Minister van Justitie"},
            "De minister van Justitie?",
            id="nothing-left-keeps-the-question",
        ),
    ],
)
def test_phrases_that_repeat_a_filter_are_taken_out(question: str, filters: dict[str, str], asked: str) -> None:
    assert content_query(question, Filters.parse(filters)) == asked


@settings(max_examples=300, deadline=None)
@given(
    question=st.text(min_size=1, max_size=200),
    department=st.sampled_from([None, "Minister van Justitie", "Minister van Begroting, belast met de Loterij"]),
    month=st.sampled_from([None, "2017-03"]),
)
def test_any_question_keeps_something_to_search_and_no_filter_changes_nothing(
    question: str, department: str | None, month: str | None
) -> None:
    raw = {"department": department} if department else {}
    if month:
        raw.update({"date_from": f"{month}-01", "date_to": f"{month}-31"})
    asked = content_query(question, Filters.parse(raw))
    assert asked.strip() or not question.strip()
    assert len(asked) <= len(question) + 1  # only ever shorter (a "?" may follow what was left)
    assert content_query(question, Filters()) == question


ASKED = r"Wat zei de minister van (Justitie|Landbouw) in (maart|april) 201[67] over [a-z ]{3,30}\?"


@settings(max_examples=200, deadline=None)
@given(st.from_regex(ASKED, fullmatch=True))
def test_a_phrase_is_taken_out_exactly_when_its_filter_says_the_same(question: str) -> None:
    filters = Filters.parse({"department": "Minister van Justitie", "date_from": "2017-03-01", "date_to": "2017-03-31"})
    asked = content_query(question, filters)
    assert "Justitie" not in asked  # the filtered department goes
    assert ("Landbouw" in question) == ("Landbouw" in asked)  # another one stays
    assert "maart 2017" not in asked  # the filtered month goes
    for kept in ("maart 2016", "april 2016", "april 2017"):  # months outside it stay
        assert (kept in question) == (kept in asked)
