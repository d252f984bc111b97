"""What a filtered question asks: phrases that only repeat a filter are taken out before searching, others stay."""

from __future__ import annotations

import pytest

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
