"""Filter values as people type them: resolved loosely to the values the documents use, or refused with the
closest ones; dates with a message that names the field as the chat shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main as cli_main
from assistant.errors import ConfigError
from assistant.filters import Filters, FilterValues, match_key
from assistant.index import Index
from assistant.ingest import ingest
from assistant.parse.read import read_paths
from assistant.types import Document
from assistant.web.chat import form_date, form_filters
from tests.conftest import CORPUS
from tests.fakes import FakeEmbedder

PEETERS = "Vlaams minister van Mobiliteit en Openbare Werken, An Peeters"
DIERICKX = "Vlaams minister van Financiën en Begroting, Koen Dierickx"


@pytest.fixture(scope="module")
def values() -> FilterValues:
    """The sample corpus's own values, plus a Belgian Chamber asker ("Name, First name") and a second spelling."""
    docs = [d for d in read_paths([CORPUS]) if isinstance(d, Document)]
    known = FilterValues.of(docs).known
    return FilterValues({**known, "asker": (*known["asker"], "Pas, Barbara"), "party": (*known["party"], "Open Vld")})


@pytest.mark.parametrize(
    ("key", "given", "expected", "how"),
    [
        ("party", "Groen", ("Groen",), "exact"),
        ("party", "open vld", ("Open VLD", "Open Vld"), "loose"),  # both spellings the documents use
        ("party", "OPEN-VLD", ("Open VLD", "Open Vld"), "loose"),
        ("party", "openvld", ("Open VLD", "Open Vld"), "loose"),
        ("party", "nva", ("N-VA",), "loose"),
        ("party", "cd&v", ("CD&V",), "loose"),
        ("party", "vlaams", ("Vlaams Belang",), "loose"),  # the start of a word
        ("party", "Groenn", ("Groen",), "fuzzy"),
        ("minister", "An Peeters", (PEETERS,), "loose"),
        ("minister", "an peeters", (PEETERS,), "loose"),
        ("minister", "Peters", (PEETERS,), "fuzzy"),
        ("minister", "financien", (DIERICKX,), "loose"),  # accents do not matter
        ("minister", "Financiën", (DIERICKX,), "loose"),
        ("asker", "Barbara Pas", ("Pas, Barbara",), "loose"),  # word order does not matter
        ("asker", "hermans", ("Lotte Hermans",), "loose"),
        ("asker", "Lote Hermans", ("Lotte Hermans",), "fuzzy"),
        ("asker", "  Lotte   Hermans ", ("Lotte Hermans",), "loose"),
    ],
)
def test_a_loose_value_resolves_to_the_known_ones(
    values: FilterValues, key: str, given: str, expected: tuple[str, ...], how: str
) -> None:
    assert values.match(key, given) == (expected, how)
    resolved = values.resolve({key: given})
    assert getattr(resolved.filters, key) == expected
    assert [(a.key, a.given.strip(), a.values, a.how) for a in resolved.active] == [(key, given.strip(), expected, how)]


@pytest.mark.parametrize(
    ("filters", "messages"),
    [
        (
            {"party": "Vlaams Blok"},
            ["Onbekende fractie 'Vlaams Blok'; bedoelt u 'Vlaams Belang'", "Unknown party 'Vlaams Blok'"],
        ),
        ({"asker": "Jan Jambon"}, ["Onbekende vraagsteller 'Jan Jambon'; bedoelt u", "(filter 'asker')"]),
        ({"minister": "vlaams minister"}, ["Minister 'vlaams minister' past op 13 waarden", "be more specific"]),
        ({"department": "Onderwijs"}, ["Geen enkel document heeft een departement", "No document has a department"]),
    ],
)
def test_a_value_that_matches_nothing_names_the_field_and_the_closest(
    values: FilterValues, filters: dict[str, str], messages: list[str]
) -> None:
    with pytest.raises(ConfigError) as err:
        values.resolve(filters)
    for message in messages:
        assert message in str(err.value)


def test_resolved_filters_say_what_they_stand_for(values: FilterValues) -> None:
    resolved = values.resolve({"party": "open vld", "date_from": "2023-01-01", "minister": "An Peeters"})
    assert resolved.filters == Filters(minister=(PEETERS,), party=("Open VLD", "Open Vld"), date_from="2023-01-01")
    assert resolved.describe() == (
        f"minister 'An Peeters' ({PEETERS}), fractie 'open vld' (Open VLD; Open Vld), gesteld vanaf 2023-01-01"
    )
    assert values.resolve({"party": "Groen"}).describe() == "fractie 'Groen'"


def test_match_key_ignores_case_accents_punctuation_and_order() -> None:
    assert match_key("Open VLD") == match_key("open-vld") == "open vld"
    assert match_key("Pas, Barbara") == match_key("Barbara  Pas") == "barbara pas"
    assert match_key("Financiën") == "financien"


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("2023-03-02", "2023-03-02"),
        ("2-3-2023", "2023-03-02"),
        ("02/03/2023", "2023-03-02"),
        ("2.3.2023", "2023-03-02"),
        (" 31-12-2023 ", "2023-12-31"),
        ("31-02-2023", "31-02-2023"),  # no such day: left for the check to refuse
        ("vorig jaar", "vorig jaar"),
    ],
)
def test_the_chat_reads_dates_day_first(typed: str, iso: str) -> None:
    assert form_date(typed) == iso


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        ("vorig jaar", "", "Ongeldige datum voor Gesteld vanaf (date_from): 'vorig jaar'; gebruik JJJJ-MM-DD"),
        ("", "2023-02-30", "Ongeldige datum voor Gesteld tot en met (date_to)"),
        ("2024-01-01", "1-1-2023", "De begindatum (Gesteld vanaf, date_from) ligt na de einddatum"),
    ],
)
def test_a_bad_date_is_named_as_the_chat_shows_it(date_from: str, date_to: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Filters.parse(form_filters("", "", "", date_from, date_to))


def test_the_cli_resolves_loosely_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    index_dir = tmp_path / "idx"
    ingest([CORPUS], Index.open(index_dir), FakeEmbedder, model_name="fake", progress=False)
    monkeypatch.setenv("ASSISTANT_MODEL", "fake")
    ask = ["ask", "Hoeveel m² verharding werd weggenomen?", "--index", str(index_dir), "--json"]
    assert cli_main([*ask, "--party", "open-vld"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["filters"][0]["values"] == ["Open VLD"]
    assert {h["citation"]["doc_id"] for h in answer["answers"]} == {"sv_2023_0628"}
    assert cli_main([*ask, "--party", "Vlaams Blok"]) == 1
    assert "bedoelt u 'Vlaams Belang'" in capsys.readouterr().err
