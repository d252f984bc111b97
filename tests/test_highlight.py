"""What the chat marks: only sentences that answer (key terms, or the asked kind of value), only in parts that match
the question; the direct answer is the best part's best sentence. Over the sample corpus's real texts."""

from __future__ import annotations

import pytest

from assistant.answer import compose
from assistant.highlight import asked_kind, best_sentence, has_kind, highlight, key_terms, matching, sentences
from assistant.parse import read_file
from assistant.retrieve import make_hit
from assistant.types import Document, Retrieval
from tests.conftest import CORPUS

STAGE = "Hoeveel stagiairs van buitenlandse herkomst liepen in 2023 stage bij de Vlaamse overheid?"


def _doc(name: str) -> Document:
    (doc,) = read_file(CORPUS / f"{name}.txt")
    assert isinstance(doc, Document)
    return doc


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Hoeveel stagiairs liepen stage?", "number"),
        ("Hoe lang staat een sociale huurwoning gemiddeld leeg?", "number"),
        ("Wat kost het verlaagd tarief de begroting?", "number"),
        ("Welk budget trok de Vlaamse Regering uit?", "number"),
        ("How many interns were supported?", "number"),
        ("Wanneer werd de beslissing genomen?", "date"),
        ("Welke steun krijgen scholen?", None),
    ],
)
def test_the_asked_kind_of_value(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_question_words_are_no_key_terms() -> None:
    assert "hoeveel" not in key_terms(STAGE) and "stagiair" in key_terms(STAGE)


@pytest.mark.parametrize(
    ("sentence", "kind", "holds"),
    [
        ("Daarvan werden er 2.088 voortijdig stopgezet.", "number", True),
        ("Negen stagiairs kregen een contract.", "number", True),
        ("In 2022 was er geen overzicht.", "number", False),  # the question's own year is no answer
        ("Sinds 2016 heeft Elia te lijden aan koperdiefstallen.", "number", False),  # a year counts nothing
        ("De totale kostprijs bedraagt 2.25 miljoen euro.", "number", True),
        ("Op 31 oktober 2023 viel de beslissing.", "date", True),
        ("Er werd nog niet beslist.", "date", False),
    ],
)
def test_a_sentence_holds_the_asked_value(sentence: str, kind: str, holds: bool) -> None:
    assert has_kind(sentence, kind, "Hoeveel trajecten werden in 2022 stopgezet?") is holds  # type: ignore[arg-type]


def test_only_sentences_with_the_asked_value_are_marked_when_some_have_it() -> None:
    text = "Nog niet alle projecten van de oproep 2022 zijn afgerond. De onthard oppervlakte bedraagt 48.256 m2."
    spans = highlight("Hoeveel m2 werd onthard via de oproep 2022?", text)
    assert [text[a:b] for a, b in spans] == ["De onthard oppervlakte bedraagt 48.256 m2."]


def test_an_unrelated_part_of_the_same_document_gets_no_marks() -> None:
    doc = _doc("sv_2024_0213")
    hits = tuple(h for label in ("3e", "4", "2") if (h := make_hit(doc, label, 1.0)) is not None)
    # vraag 4's answer mentions "buitenlandse herkomst", but vraag 4 asks about contracts, not this
    assert "buitenlandse herkomst" in hits[1].answer
    assert matching(STAGE, [h.question for h in hits]) == [True, False, False]
    answer = compose(STAGE, Retrieval(hits))
    assert answer.hits[0].highlights and answer.hits[1].highlights == () and answer.hits[2].highlights == ()
    assert "34 van buitenlandse herkomst" in answer.direct_text
    assert answer.to_dict()["direct"]["text"] == answer.direct_text


def test_the_direct_answer_is_the_sentence_with_the_figure() -> None:
    doc = _doc("sv_2023_1109")
    (hit,) = [h for h in (make_hit(doc, p.label, 1.0) for p in doc.parts) if h is not None][:1]
    span = best_sentence("Hoeveel werd er uitbetaald voor de droogteschade van 2022 in de landbouw?", hit.answer)
    assert span is not None and "9.412.650 euro" in hit.answer[span[0] : span[1]]


def test_no_key_terms_no_marks() -> None:
    assert highlight("de het een", "Er werden 83 stagiairs begeleid.") == ()
    assert best_sentence("Hoeveel?", "Er werden 83 stagiairs begeleid.") is None


def test_a_terse_answer_is_marked_by_the_asked_value() -> None:
    """An answer that repeats nothing of the question ("750.000 euro, verdeeld over twee oproepen ...") still leads
    with its figure, and a part without any number gets no mark for a "hoeveel" question."""
    doc = _doc("sv_2022_0915")
    hit = make_hit(doc, "2", 1.0)
    assert hit is not None and hit.answer.startswith("750.000 euro")
    question = "Hoeveel geld trok de regering uit voor het instrumentenfonds voor fanfares?"
    span = best_sentence(question, hit.answer)
    assert span is not None and hit.answer[span[0] : span[1]].startswith("750.000 euro, verdeeld over twee oproepen")
    assert highlight(question, "De oproep loopt nog. Meer informatie volgt later.") == ()


def test_an_annexed_tables_placeholder_ends_a_sentence_and_is_none() -> None:
    answer = (
        "Aantal koperdiefstallen Elia per jaar:2016201713947-11-405-nl-fr Er is een significante daling van het "
        "aantal koperdiefstallen in 2016. De daling bedraagt 52,5 %."
    )
    assert [answer[lo:hi] for lo, hi in sentences(answer)] == [
        "Aantal koperdiefstallen Elia per jaar:",
        "Er is een significante daling van het aantal koperdiefstallen in 2016.",
        "De daling bedraagt 52,5 %.",
    ]


@pytest.mark.parametrize("question", ["Wat kostte de reparatie?", "Wat kosten de werken?", "Wat is de kostprijs?"])
def test_what_it_cost_asks_a_number(question: str) -> None:
    assert asked_kind(question) == "number"


def test_the_forms_of_one_verb_meet() -> None:
    """ "Verhaalt" (the stemmer keeps its -t) finds "verhaald" (and "verhalen"): the sentence that answers."""
    answer = (
        "De Regie heeft zich geen burgerlijke partij gesteld. De investering van de Regie betrof een nieuwe "
        "investering en zal bijgevolg niet verhaald worden."
    )
    span = best_sentence("Verhaalt de Regie de kosten op de daders?", answer)
    assert span is not None and answer[span[0] : span[1]].startswith("De investering")
