"""References that carry text of their own, and references to questions of other documents: found in real answer
snippets of the Belgian Chamber corpus (document id and part in each case id), followed in what a hit shows, and
counted by fact recall as shown."""

from __future__ import annotations

import pytest

from assistant.answer import compose
from assistant.crossref import Directory
from assistant.evaluate.gold import Case
from assistant.evaluate.run import outcome_from_answer
from assistant.parse.build import build_document
from assistant.parse.references import mentioned_parts, other_questions
from assistant.retrieve import make_hit
from assistant.types import Document, OtherQuestion, Part, Retrieval
from assistant.web.markup import Shown, hit_html

SIX = ["1", "2", "3", "4", "5", "6"]

# (answer text of part `index`, the document's labels, index, the parts it points to)
MENTIONS = [
    pytest.param(
        "Zoals vermeld in het antwoord op vraag 1 is de adviesaanvraag aan de Raad van State gebeurd. "
        "We wachten het advies af.",
        ["1", "2", "3", "4"],
        1,
        ["1"],
        id="186862-2-zoals-vermeld-in-het-antwoord-op-vraag-1",
    ),
    pytest.param(
        "Behalve de maatregelen vermeld in het antwoord op vraag 4, heeft de IDPB van de RSZ in 2016 een algemene "
        "analyse doorgevoerd van de psychosociale risico's",
        ["1", "2", "3", "4", "5", "6", "7"],
        5,
        ["4"],
        id="185824-6-mid-sentence",
    ),
    pytest.param(
        "Zoals gezegd in punt 3, aangezien er geen onderscheid kan gemaakt worden tussen de GAS-boetes en de "
        "klassieke PV's kan ook het bedrag niet bepaald worden.",
        SIX,
        3,
        ["3"],
        id="185402-4-punt-3",
    ),
    pytest.param(
        "Zoals vermeld in het antwoord op de tweede vraag kan het koninklijk besluit van 24 januari 1969 niet "
        "zomaar worden aangepast.",
        ["1", "2", "3", "4", "5"],
        2,
        ["2"],
        id="186946-3-ordinal-de-tweede-vraag",
    ),
    pytest.param(
        "ren ontwikkelen. Ik verwijs daarom naar mijn antwoord op de derde vraag. De vraag naar de omvang van het "
        "gebruik kan ik niet beantwoorden.",
        SIX,
        5,
        ["3"],
        id="192384-6-mijn-antwoord-op-de-derde-vraag",
    ),
    pytest.param(
        "Zie mijn antwoord op de eerste vraag.",
        ["1", "2", "3"],
        1,
        ["1"],
        id="186850-2-zie-mijn-antwoord-op-de-eerste-vraag",
    ),
    # the corpus words its numbers only as ordinals; "punt twee" is the form users and other sources write
    pytest.param(
        "Zie punt twee; daarnaast loopt er een proefproject in Gent.",
        ["1", "2", "3"],
        2,
        ["2"],
        id="worded-punt-twee",
    ),
    pytest.param(
        "Uit het antwoord op vorige vraag blijkt duidelijk dat dit een lokale bevoegdheid is.",
        ["1", "2", "3", "4", "5"],
        4,
        ["4"],
        id="191261-5-vorige-vraag",
    ),
    pytest.param(
        "Of het geneesmiddel Ocaliva daadwerkelijk op de Belgische markt komt hangt af van de vergunninghouder, "
        "gelieve het antwoord op de vorige vraag hiervoor ook in acht te nemen.",
        ["1", "2", "3"],
        1,
        ["1"],
        id="184781-2-het-antwoord-op-de-vorige-vraag",
    ),
    pytest.param(
        "Er wordt verwezen naar het antwoord hierboven.Binnen de huidige veiligheidsrichtlijnen is dat niet "
        "toegelaten.",
        ["1a", "1b", "2a", "2b", "3", "3a", "3b", "4"],
        7,
        ["3b"],
        id="185981-4-het-antwoord-hierboven",
    ),
    pytest.param(
        "Ik verwijs naar mijn antwoord voor de vragen 1 tot 3, en wens er aan toe te voegen dat de in het ontwerp "
        "van noodplan voorziene dimensionering volstaat.",
        ["1", "2", "3", "4", "5", "6", "7"],
        3,
        ["1", "2", "3"],
        id="185891-4-vragen-1-tot-3",
    ),
    pytest.param("Zie punten 4 en 5.", SIX + ["7"], 5, ["4", "5"], id="190666-6-punten-4-en-5"),
    pytest.param(
        "De elementen van antwoord zijn hernomen in de punten 2 en 3 hierboven.",
        ["1", "2", "3", "4"],
        3,
        ["2", "3"],
        id="186881-4-punten-2-en-3-hierboven",
    ),
    pytest.param(
        "Gedetailleerde gegevens zijn niet beschikbaar. Zie ook antwoord op vraag 2.c).",
        ["1a", "1b", "2a", "2b", "2c", "2g"],
        5,
        ["2c"],
        id="186192-2g-lettered-target",
    ),
    # the verb after the number, a table under a point, and "zoals hierboven" as the answer's first words
    pytest.param(
        'Zoals in vraag 2 vermeld, gebeurde in 2015 reeds een "Onderzoek naar de rechtmatigheid".',
        ["1", "2", "3", "4", "5", "6", "7"],
        6,
        ["2"],
        id="188114-7-zoals-in-vraag-2-vermeld",
    ),
    pytest.param(
        "Zoals in vraag 1 werd aangegeven beschikt de Algemene Administratie van de Douane niet over deze gegevens.",
        ["1", "2", "3", "4"],
        2,
        ["1"],
        id="192246-3-zoals-in-vraag-1-werd-aangegeven",
    ),
    pytest.param(
        "Zoals vermeld in de tabel onder punt 1 is het aantal reizen gestegen.",
        ["1", "2", "3"],
        1,
        ["1"],
        id="186179-2-de-tabel-onder-punt-1",
    ),
    pytest.param(
        "De beoordeling moet verder afgewacht worden in functie van de omstandigheden geschetst onder punt 3.",
        ["1", "2", "3", "4", "5", "6"],
        5,
        ["3"],
        id="188911-6-geschetst-onder-punt-3",
    ),
    pytest.param(
        "Zoals hierboven vermeld, daalt het aantal bestuurders dat alcohol heeft gedronken elk jaar.",
        ["1", "2", "3", "4"],
        3,
        ["3"],
        id="185682-4-zoals-hierboven-at-the-start",
    ),
    pytest.param(
        "Zoals hoger aangehaald ben ik tussengekomen om de behoeften goed te keuren.",
        ["1", "2"],
        1,
        ["1"],
        id="191439-2-zoals-hoger-at-the-start",
    ),
    pytest.param(
        "Deze stoffen zijn gevaarlijk. De hierboven vermelde vennootschappen betalen de bezoldigingen rechtstreeks.",
        ["1", "2", "3", "4", "5"],
        4,
        [],
        id="186981-5-hierboven-within-its-own-text",
    ),
    pytest.param(
        "Zoals hierboven aangegeven is dat niet mogelijk.",
        ["1", "2"],
        0,
        [],
        id="first-part-has-nothing-above",
    ),
    pytest.param(
        "Zoals in vraag 2019 vermeld, is dat niet mogelijk.",
        ["1", "2"],
        1,
        [],
        id="a-year-is-no-part",
    ),
    # labels without their number and references elsewhere are no pointers to a part of this answer
    pytest.param(
        "ijgevolg nog geen betalingen gebeurd.In antwoord op uw zevende vraag kan ik ten eerste opmerken dat de "
        "verschillen groot zijn.",
        ["1", "2", "3", "4", "5", "6", "7"],
        0,
        [],
        id="184961-1-label-in-antwoord-op-uw-zevende-vraag",
    ),
    pytest.param(
        "Wat uw derde vraag betreft, laat de Europese wetgeving geen andere keuze.",
        ["1", "2", "3"],
        0,
        [],
        id="184682-1-label-wat-uw-derde-vraag-betreft",
    ),
    pytest.param(
        "Als antwoord op uw eerste vraag kan ik u volgende gegevens meedelen.",
        ["1", "2"],
        0,
        [],
        id="192155-1-label-als-antwoord-op",
    ),
    pytest.param(
        "Dat blijkt uit het antwoord op vraag 6-673 van Francois Desquesnes.",
        ["1", "2", "3", "4", "5", "6"],
        1,
        [],
        id="191608-2-senate-question-number",
    ),
    pytest.param(
        "Het antwoord op uw vraag 4 valt onder de bevoegdheid van de minister van Financien.",
        ["1", "2", "3", "4"],
        3,
        [],
        id="186546-4-itself",
    ),
]


@pytest.mark.parametrize(("text", "labels", "index", "expected"), MENTIONS)
def test_mentioned_parts(text: str, labels: list[str], index: int, expected: list[str]) -> None:
    assert mentioned_parts(text, labels, index) == expected


# (answer text, what it says of the other question)
OTHERS = [
    pytest.param(
        "Ik deel het geachte lid mee dat ik voor het antwoord op de vraag verwijs naar het antwoord op de vraag 205 "
        "van 30 januari 2017 gesteld aan de heer Charles Michel, eerste minister.",
        {"number": "205", "date": "2017-01-30", "addressee": "eerste minister", "same_asker": False},
        id="185837-number-date-addressee",
    ),
    pytest.param(
        "Ik verwijs naar het antwoord van de eerste minister op haar vraag nr. 205 van 30 januari 2017 (Vragen en "
        "Antwoorden, Kamer, 2016-2017, nr. 107).",
        {"number": "205", "date": "2017-01-30", "addressee": "eerste minister", "same_asker": True},
        id="185835-addressee-before-the-number",
    ),
    pytest.param(
        "Voor de kosten van het Koningshuis wordt verwezen naar het antwoord op de vraag nr. 530 van mevrouw "
        "Barbara Pas van 12 januari 2016 (Vragen en Antwoorden, Kamer, 2015-2016, nr. 61)",
        {"number": "530", "date": "2016-01-12", "asker": "Barbara Pas"},
        id="184769-asker-and-date",
    ),
    pytest.param(
        "Ik verwijs naar het antwoord op de vraag nr. 1016 gesteld aan de heer Fancken Theo, Staatssecretaris voor "
        "Asiel en Migratie, belast met Administratieve Vereenvoudiging.",
        {"number": "1016", "date": None, "addressee": "staatssecretaris voor asiel en migratie"},
        id="184943-staatssecretaris",
    ),
    pytest.param(
        "Zoals reeds meegedeeld in mijn antwoord op uw mondelinge vraag nr. 17058 blijft dit zo.",
        {"number": "17058", "oral": True, "same_asker": True, "same_minister": True},
        id="191943-oral",
    ),
    pytest.param(
        "Deze vraag werd doorgestuurd naar de minister van Justitie aangezien het voorwerp ervan tot zijn bevoegdheden "
        "behoort (Vraag nr. 1750 van 21 februari 2017).",
        {"number": "1750", "date": "2017-02-21", "addressee": "minister van justitie"},
        id="185161-office-ends-where-a-clause-starts",
    ),
    pytest.param(
        "Gelieve uw vragen te richten aan de minister van Telecommunicatie als voogdijminister (Vraag nr. 837 van 22 "
        "februari 2017).",
        {"number": "837", "addressee": "minister van telecommunicatie"},
        id="186223-office-then-als",
    ),
    pytest.param(
        "Zie vraag nr. 1281 van 3 februari 2017).",
        {"number": "1281", "date": "2017-02-03", "addressee": None},
        id="186183-zie-vraag-nr",
    ),
]


@pytest.mark.parametrize(("text", "expected"), OTHERS)
def test_other_questions(text: str, expected: dict[str, object]) -> None:
    (found,) = other_questions(text)
    for key, value in expected.items():
        assert getattr(found, key) == value, key


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Zie antwoord op vraag nr. 2.", id="192996-small-number-is-a-part-here"),
        pytest.param("Rekening houdend met het antwoord op vraag 1, behoeft deze vraag geen antwoord.", id="184945"),
    ],
)
def test_pointers_to_parts_here_are_no_other_questions(text: str) -> None:
    assert other_questions(text) == ()


def test_one_question_said_twice_is_one_pointer_with_all_it_says() -> None:
    text = (
        "Ik verwijs naar het antwoord op de vraag 208 gesteld aan de heer Charles Michel, eerste minister (vraag "
        "nr. 208 van 31 januari 2017, Vragen en Antwoorden, Kamer, 2016-2017, nr. 108)."
    )
    (found,) = other_questions(text)
    assert (found.number, found.date, found.addressee) == ("208", "2017-01-31", "eerste minister")


# -- parsed documents: a reference with a sentence of its own is kept as `see`, a bare one stays a `ref`


def test_parser_marks_a_reference_that_says_more() -> None:
    doc = build_document(
        doc_id="186862",
        title="Raad van State - Advies",
        question="1. Werd advies gevraagd? 2. Wanneer komt het advies? 3. Wat kost het?",
        answer="1. De adviesaanvraag werd op 3 januari 2017 ingediend. 2. Zoals vermeld in het antwoord op vraag 1 "
        "is de adviesaanvraag aan de Raad van State gebeurd. We wachten het advies af. 3. Zie vraag 1.",
    )
    assert doc.part("2") is not None and doc.part("2").see == ("1",)  # type: ignore[union-attr]
    assert (doc.part("3").ref, doc.part("3").see) == ("1", ())  # type: ignore[union-attr]
    assert doc.part("1").see == ()  # type: ignore[union-attr]


def test_part_json_keeps_its_old_shape_and_round_trips_the_new_fields() -> None:
    plain = Part("1", "Wat?", "Dit.")
    assert "see" not in plain.to_dict() and "elsewhere" not in plain.to_dict()
    other = OtherQuestion("vraag nr. 205", number="205", date="2017-01-30", addressee="eerste minister")
    full = Part("2", "Waarom?", "Zie ook vraag 1 en vraag nr. 205.", see=("1",), elsewhere=(other,))
    assert Part.from_dict(full.to_dict()) == full


# -- other documents: linked where the index has them, said so where not


def _doc(doc_id: str, department: str, date: str, asker: str, title: str, answer: str = "1. Antwoord.") -> Document:
    return build_document(
        doc_id=doc_id,
        title=title,
        question="1. Hoeveel ambtenaren? 2. Welke kosten?",
        answer=answer,
        date=date,
        asker=asker,
        department=department,
    )


SOURCE_ANSWER = (
    "1. Ik deel het geachte lid mee dat ik voor het antwoord op de vraag verwijs naar het antwoord op de vraag 205 "
    "van 30 januari 2017 gesteld aan de heer Charles Michel, eerste minister. 2. Geen kosten."
)
TITLE = "De ambtenaren en personeelsleden tewerkgesteld bij koning Filip"


@pytest.fixture
def series() -> list[Document]:
    """One MP's question sent to several ministers on one day (185825, 185837 ... in the corpus)."""
    return [
        _doc("185837", "Minister van Justitie", "2017-01-30", "Wouters, Veerle", TITLE, SOURCE_ANSWER),
        _doc("185825", "Eerste minister", "2017-01-30", "Wouters, Veerle", TITLE, "1. Er zijn 12 ambtenaren."),
        _doc("185826", "Minister van Defensie", "2017-01-30", "Wouters, Veerle", TITLE),
        _doc("185900", "Eerste minister", "2017-01-30", "Pas, Barbara", "Dienstreizen in het buitenland"),
    ]


def test_reference_to_another_document_in_the_index_is_linked(series: list[Document]) -> None:
    source = series[0]
    hit = make_hit(source, "1", 1.0, directory=Directory(series))
    assert hit is not None
    (pointer,) = hit.pointers
    assert (pointer.doc_id, pointer.title) == ("185825", TITLE)
    assert "Verwijst naar een andere vraag nr. 205 van 30 januari 2017 aan de eerste minister" in hit.shown_text
    html = hit_html(hit, Shown.empty(), set())
    assert 'href="doc/185825"' in html and "eerste minister" in html


def test_reference_to_another_document_not_in_the_index_says_so(series: list[Document]) -> None:
    source = series[0]
    without = [d for d in series if d.doc_id != "185825"]
    hit = make_hit(source, "1", 1.0, directory=Directory(without))
    assert hit is not None
    assert hit.pointers[0].doc_id is None
    assert hit.shown_text.endswith("niet gevonden in de index.")
    assert "niet gevonden in de index" in hit_html(hit, Shown.empty(), set())


def test_several_fitting_documents_and_no_clear_title_link_none(series: list[Document]) -> None:
    twin = _doc("185999", "Eerste minister", "2017-01-30", "Wouters, Veerle", TITLE)
    ref = other_questions(SOURCE_ANSWER)[0]
    assert Directory([*series, twin]).find(ref, series[0]) is None
    assert Directory(series).find(ref, series[0]).doc_id == "185825"  # type: ignore[union-attr]


def test_an_oral_question_is_never_linked(series: list[Document]) -> None:
    oral = OtherQuestion("mondelinge vraag nr. 205", number="205", date="2017-01-30", oral=True)
    assert Directory(series).find(oral, series[0]) is None


# -- what a hit shows, and fact recall over it


REFERRING = build_document(
    doc_id="186862",
    title="Raad van State - Advies",
    question="1. Werd advies gevraagd? 2. Wanneer komt het advies?",
    answer="1. De adviesaanvraag werd op 3 januari 2017 ingediend onder nummer 60.512. 2. Zoals vermeld in het "
    "antwoord op vraag 1 is de adviesaanvraag aan de Raad van State gebeurd. We wachten het advies af.",
)


def test_hit_shows_its_own_text_then_the_part_it_points_to() -> None:
    hit = make_hit(REFERRING, "2", 1.0)
    assert hit is not None
    assert [(q.label, q.text[:18]) for q in hit.quotes] == [("1", "De adviesaanvraag ")]
    own, quoted = hit.shown_text.split("\n\nuit het antwoord op vraag 1:\n")
    assert own.startswith("Zoals vermeld") and quoted.startswith("De adviesaanvraag werd op 3 januari")
    html = hit_html(hit, Shown.empty(), set())
    assert html.index("Zoals vermeld") < html.index("uit het antwoord op vraag 1:") < html.index("60.512")
    assert 'href="doc/186862?part=1' in html


def test_fact_recall_counts_the_referenced_text_shown() -> None:
    hit = make_hit(REFERRING, "2", 1.0)
    assert hit is not None
    case = Case("x-1", "Wanneer werd het advies gevraagd?", "crossref", (("186862", "2"),), ("60.512",), {})
    answer = compose(case.question, Retrieval((hit,)))
    outcome = outcome_from_answer(case, answer, answer.hits, 0.0)
    assert outcome.facts_ok
    bare = make_hit(REFERRING, "2", 1.0)
    assert bare is not None and "60.512" not in bare.answer  # the fact is only in the quoted part


@pytest.mark.parametrize(
    ("text", "index", "expected"),
    [
        pytest.param("idem 1.", 6, "1", id="185761-7-idem-1"),
        pytest.param("Idem vraag 2.", 3, "2", id="idem-vraag-2"),
        pytest.param("Idem.", 3, "3", id="idem-alone-is-the-part-before"),
        pytest.param(
            "Idem 1, maar voor de jaren 2015 en 2016 zijn de cijfers gestegen tot 4.000 per jaar.",
            6,
            None,
            id="idem-with-text-of-its-own-is-no-pure-reference",
        ),
    ],
)
def test_idem_points_to_the_part_it_names(text: str, index: int, expected: str | None) -> None:
    from assistant.parse.references import reference_target

    assert reference_target(text, [str(n) for n in range(1, 10)], index) == expected
