"""Parametrized tables of awkward snippets: every shape of numbering the parser must understand."""

from __future__ import annotations

import pytest

from assistant.parse.numbering import split_parts
from assistant.types import Document


def doc_of(question: str, answer: str) -> Document:
    s = split_parts(question, answer)
    return Document(doc_id="t", title="t", question_text=question, answer_text=answer, parts=tuple(s.parts))


def labels(question: str, answer: str) -> list[str]:
    return [p.label for p in split_parts(question, answer).parts]


# (question, answer, expected labels, {label: expected start of the resolved answer})
CASES = [
    pytest.param(
        "Inleiding. 1. Hoeveel stages waren er? 2. Hoeveel jobs?",
        "1. Er waren 12 stages. 2. Er waren 3 jobs.",
        ["1", "2"],
        {"1": "Er waren 12", "2": "Er waren 3"},
        id="clean",
    ),
    pytest.param(
        "Context. 1. Wat was de oorzaak?2. Zou er een procedure komen?3. Hoe vaak gebeurt dit?",
        "1. De noodrem werd geactiveerd. 2. De bestuurder moet eerst zelf herstellen. 3. Maandelijks 400 keer.",
        ["1", "2", "3"],
        {"2": "De bestuurder", "3": "Maandelijks"},
        id="lost-line-breaks-question",
    ),
    pytest.param(
        "1. Hoeveel oppervlakte? 2. Wat kost het?",
        "1. De oppervlakte bedraagt 8.256 m22. Dit kost 4 miljoen euro.",
        ["1", "2"],
        {"1": "De oppervlakte bedraagt 8.256 m2", "2": "Dit kost"},
        id="label-glued-to-unit",
    ),
    pytest.param(
        "1. Hoeveel gevallen? 2. Hoeveel daders?",
        "1. Beledigingen: 1702. In 2016 werden er 333 daders gevat.",
        ["1", "2"],
        {"1": "Beledigingen: 170", "2": "In 2016"},
        id="label-glued-to-figure",
    ),
    pytest.param(
        "1. Hoeveel controles? 2. Hoeveel geld?",
        "1. Er waren 1.204 controles. 2. 750.000 euro werd uitgetrokken.",
        ["1", "2"],
        {"2": "750.000 euro"},
        id="answer-starts-with-figure",
    ),
    pytest.param(
        "In sectie 7. 3.1.2 staat het fonds. 1. Zijn er nieuwe cijfers? 2. Hoeveel zit er in het fonds?",
        "1. Ja, 1,428 miljard euro. 2. Het fonds bedroeg 151 miljoen euro.",
        ["1", "2"],
        {"1": "Ja, 1,428", "2": "Het fonds"},
        id="decoy-section-number-in-intro",
    ),
    pytest.param(
        "1. Eerste vraag? 2. Tweede vraag? 3. Derde vraag? 4. Vierde vraag?",
        "1. tot 4. Een gezamenlijk antwoord op alle vragen.",
        ["1", "2", "3", "4"],
        {"1": "Een gezamenlijk", "3": "Een gezamenlijk", "4": "Een gezamenlijk"},
        id="range-tot",
    ),
    pytest.param(
        "1. Sinds wanneer? 2. Hoeveel centra? 3. Hoeveel controles? 4. a) Waarop? b) Hoeveel inbreuken? "
        "c) Welke? d) Welke sancties? 5. Hoe vaak gesloten?",
        "1. en 2. Sinds 1 maart 2017. 3. en 4. a) b) en c) Hierna de cijfers. 4. d) Boetes tot 150.000 euro. "
        "5. Bij 55 centra.",
        ["1", "2", "3", "4a", "4b", "4c", "4d", "5"],
        {"2": "Sinds 1 maart", "4a": "Hierna de cijfers", "4c": "Hierna", "4d": "Boetes", "5": "Bij 55"},
        id="joint-ranges-with-letters",
    ),
    pytest.param(
        "1. Hoeveel stages? 2. Hoeveel schoolstages? 3. Wat was het profiel? a) Scholingsgraad? b) Meisjes? "
        "c) Leeftijd? d) Departementen? e) Kansengroepen? 4. Hoeveel overeenkomsten?",
        "1. Entiteiten beslissen autonoom. 2. Zie vraag 1. 3. a-d) Zie vraag 1. e) Van de 68 stagiairs waren "
        "er 28 van buitenlandse herkomst. 4. Zie antwoord op vraag 1.",
        ["1", "2", "3", "3a", "3b", "3c", "3d", "3e", "4"],
        {"2": "Entiteiten", "3a": "Entiteiten", "3d": "Entiteiten", "3e": "Van de 68", "4": "Entiteiten"},
        id="letter-range-and-references",
    ),
    pytest.param(
        "1. Welke kosten? 2. Graag preciseringen:a) welke vaartuigen;b) hoeveel militairen;c) welke kostprijs?",
        "1. Geen kosten in 2016. 2. a) Het jacht ALPA.b) Geen militairen.c) Zie punt 1.",
        ["1", "2", "2a", "2b", "2c"],
        {"2a": "Het jacht", "2b": "Geen militairen", "2c": "Geen kosten"},
        id="glued-letters-and-zie-punt",
    ),
    pytest.param(
        "1. Hoeveel controles? 2. a) Hoeveel wegcontroles?b) Hoeveel in partnerschap? 3. Hoeveel inbreuken?",
        "1. Veel. 2. a) Aantal 24083 wegcontroles2451 bedrijfscontrolesb) Partnerschap 231 wegcontroles3. "
        "Aantal inbreuken: 538.",
        ["1", "2a", "2b", "3"],
        {"2a": "Aantal 24083", "2b": "Partnerschap", "3": "Aantal inbreuken"},
        id="letters-glued-to-words",
    ),
    pytest.param(
        "1. Welke maatregelen? 2. Hoeveel budget? 3. Wanneer?",
        "1. Er komen drie maatregelen. 2. Het budget is 2 miljoen euro. 3. Ik verwijs naar mijn antwoord op vraag 2.",
        ["1", "2", "3"],
        {"3": "Het budget"},
        id="ik-verwijs-naar",
    ),
    pytest.param(
        "1. Hoeveel klachten? 2. Hoeveel boetes? 3. Welke sancties?",
        "De inspectie ontving 45 klachten en legde 12 boetes op; de sancties staan in de wet.",
        ["1", "2", "3"],
        {"1": "De inspectie", "2": "De inspectie", "3": "De inspectie"},
        id="unnumbered-answer-answers-every-part",
    ),
    pytest.param(
        "Kan de minister zeggen hoeveel laadpalen er in 2023 werden geplaatst?",
        "In 2023 werden 1.250 laadpalen geplaatst.",
        ["1"],
        {"1": "In 2023"},
        id="unnumbered-question-is-part-1",
    ),
    pytest.param(
        "1. Wat kost het project? 2. Wie betaalt?",
        "1. Het project kost 3 miljoen euro. 2. Zie het antwoord op vraag 1, en daarnaast betaalt de "
        "federale overheid een bijkomend deel van 20 procent via het Beliris-fonds.",
        ["1", "2"],
        {"2": "Zie het antwoord op vraag 1, en daarnaast"},
        id="reference-with-own-text-is-no-reference",
    ),
    pytest.param(
        "1. Hoeveel in 2022? 2. Hoeveel in 2023? 3. Evolutie?",
        "1-3. Zie onderstaande tabel met de cijfers per jaar.",
        ["1", "2", "3"],
        {"3": "Zie onderstaande tabel"},
        id="range-with-dash",
    ),
    pytest.param(
        "1. Hoeveel werkenden? 2. Hoeveel experts? 3. Prognoses?",
        "1 en 2. Zie de tabel hieronder. 3. Ik beschik niet over vooruitzichten.",
        ["1", "2", "3"],
        {"1": "Zie de tabel", "2": "Zie de tabel", "3": "Ik beschik"},
        id="range-without-dot-after-first",
    ),
    pytest.param(
        "1. Een? 2. Twee? 3. Drie? 4. Bestaat er een wet? 5. Welke regels?",
        "1. Nee. 2. Geen cijfers. 3. Cijfers over 2013 en 2014. Ze stijgen.\n4. en 5. Er is geen specifieke wet.",
        ["1", "2", "3", "4", "5"],
        {"3": "Cijfers over 2013 en 2014. Ze stijgen.", "4": "Er is geen", "5": "Er is geen"},
        id="year-before-a-joint-range-is-no-label",
    ),
    pytest.param(
        "1. Hoeveel liters? 2. Hoeveel personen?",
        "1. Gebruikte brandstoffen:- officieel gebruik 2. 404.939,68 liters;- persoonlijk 4. 852.028,57 liters. "
        "2. Deze cijfers zijn te bekomen bij Buitenlandse Zaken.",
        ["1", "2"],
        {"1": "Gebruikte brandstoffen:- officieel gebruik 2. 404.939,68 liters", "2": "Deze cijfers"},
        id="figure-split-after-its-thousands-dot-is-no-label",
    ),
    pytest.param(
        "1. Hoeveel dossiers? 2. Wat kost het? 3. Werden inbreuken vastgesteld?",
        "1. 1.487 dossiers. 2. De kostprijs:- 2012: 3. 770.000 euro;- 2013: 3. 000.000 euro. 3. Het is niet duidelijk.",
        ["1", "2", "3"],
        {"2": "De kostprijs:- 2012: 3. 770.000 euro;- 2013: 3. 000.000 euro.", "3": "Het is niet duidelijk"},
        id="figure-with-leading-zero-group-is-no-label",
    ),
    pytest.param(
        "1. Wat is bevoegd? 2. Wie beslist? 3. Wat kost het? 4. Wat met de terugbetaling? 5. En de budgettaire impact?",
        "1 tot 3. Dit behoort tot de bevoegdheid van mijn collega van Economie.4 en 5. Het opheffen heeft een "
        "weerslag op de sociale zekerheid.",
        ["1", "2", "3", "4", "5"],
        {"3": "Dit behoort", "4": "Het opheffen", "5": "Het opheffen"},
        id="187027-range-glued-to-the-sentence-before-it",
    ),
    pytest.param(
        "1. Hoeveel parkings? 2. Hoeveel plaatsen? 3. Wat kost het?",
        "De NMBS heeft mij het volgende laten weten.1 en 2. Haar parkeerstrategie is gericht op treinreizigers. "
        "3. Het tarief is 2 euro.",
        ["1", "2", "3"],
        {"1": "Haar parkeerstrategie", "2": "Haar parkeerstrategie", "3": "Het tarief"},
        id="193286-joint-range-after-an-introduction",
    ),
    pytest.param(
        "1. Hoeveel toestellen telt het kadaster? 2. Is melden verplicht?",
        "Het landelijk kadaster voor zware toestellen voor medische beeldvorming omvat op heden 272 CT en 145 NMR. "
        "2. Het melden van zware toestellen in het kadaster is een wettelijke verplichting.",
        ["1", "2"],
        {"1": "Het landelijk kadaster", "2": "Het melden"},
        id="193116-unnumbered-answer-to-the-first-part",
    ),
    pytest.param(
        "1. Hoeveel toestellen telt het kadaster? 2. Is melden verplicht?",
        "De minister deelt mee: 2. Het melden van zware toestellen in het kadaster is een wettelijke verplichting.",
        ["1", "2"],
        {"1": "", "2": "Het melden"},
        id="a-short-introduction-answers-no-part",
    ),
    pytest.param(
        "1. Is de dag erkend? 2. Wat doet de regering? 3. Wanneer?",
        "1 . De WGO heeft 5 mei inderdaad uitgeroepen tot Internationale Dag van de Handhygiene, al jaren "
        "lang. 2. De regering steunt de campagne. 3. Volgend jaar.",
        ["1", "2", "3"],
        {"1": "De WGO heeft", "2": "De regering"},
        id="189976-a-label-the-chain-cannot-take-is-not-shown",
    ),
    pytest.param(
        "1. Hoeveel personeel? 2. Welke leeftijd? 3. Welke evolutie? 4. Welke visie?",
        "1. en 3. De gegevens staan in tabel 1 in bijlage.\n2. De gegevens staan in tabel 2 in bijlage. "
        "4. Zoals beschreven in de Strategische Visie.",
        ["1", "2", "3", "4"],
        {
            "1": "De gegevens staan in tabel 1",
            "2": "De gegevens staan in tabel 2",
            "3": "De gegevens staan in tabel 1",
            "4": "Zoals beschreven",
        },
        id="185391-a-list-that-skips-a-number-answers-it-later",
    ),
    pytest.param(
        "1. Wat? 2. Wie? 3. Waar? 4. Wanneer? 5. Hoeveel?",
        "1. en 5. Dit valt onder de bevoegdheid van de staatssecretaris. 2. Deze gegevens zijn niet beschikbaar. "
        "3. en 4. De databank laat tellingen toe.",
        ["1", "2", "3", "4", "5"],
        {"1": "Dit valt", "2": "Deze gegevens", "3": "De databank", "4": "De databank", "5": "Dit valt"},
        id="189646-list-then-the-numbers-it-skipped-in-order",
    ),
    pytest.param(
        "1. Wat? 2. Wie? 3. Waar? 4. Wanneer? 5. Hoeveel? 6. Waarom?",
        "1. Het koninklijk besluit van 21 juli 2016 regelt dat. 2., 4. en 6. Het agentschap is niet bevoegd. "
        "3. Er zijn 59.669 veebedrijven. 5. De inspecties startten in 2017.",
        ["1", "2", "3", "4", "5", "6"],
        {"2": "Het agentschap", "4": "Het agentschap", "6": "Het agentschap", "3": "Er zijn 59.669", "5": "De insp"},
        id="186008-comma-list-opening-a-sentence",
    ),
    pytest.param(
        "1. Wat? 2. Wie? 3. Waar? 4. Wanneer? 5. Hoeveel? 6. Waarom? 7. Wat nu?",
        "1., 4. a 6. Er werd gewerkt aan een overeenkomst. 2. Er werd gesproken met de president. "
        "3. Er werd een tekst overeengekomen. 7. Er is een nieuwe zending gepland.",
        ["1", "2", "3", "4", "5", "6", "7"],
        {"1": "Er werd gewerkt", "5": "Er werd gewerkt", "2": "Er werd gesproken", "7": "Er is een nieuwe"},
        id="185148-a-as-in-4-a-6",
    ),
    pytest.param(
        "1. Wat? 2. Wie? 3. Waar? 4. Wanneer?",
        "1. De FOD heeft geen restaurant. Ik verwijs voor het antwoord op de vragen 2., 3. en 4. naar het antwoord "
        "van de Eerste minister.",
        ["1", "2", "3", "4"],
        {"4": "1. De FOD heeft geen restaurant. Ik verwijs voor het antwoord op de vragen 2., 3. en 4. naar"},
        id="190782-a-list-inside-a-sentence-is-no-label",
    ),
    pytest.param(
        "1. Hoeveel controleagenten? 2. Hoeveel meldingen? 3. Hoeveel inbreuken?",
        "1. Er zijn 90 controleagenten actief. 2.2016201715480-2-1378-nl-fr-1 Deze meldingen betreffen niet altijd "
        "inbreuken. 3.2016201715480-2-1378-nl-fr-2 Daardoor ligt het totaal van vraag 3 hoger dan dat van vraag 2.",
        ["1", "2", "3"],
        {"1": "Er zijn 90", "2": "2016201715480-2-1378-nl-fr-1 Deze meldingen", "3": "2016201715480-2-1378-nl-fr-2"},
        id="188721-label-glued-to-a-table-placeholder",
    ),
    pytest.param(
        "1. Graag per jaar: a) het aantal meldingen; b) het aantal dossiers bij het parket; c) de seponeringen? "
        "2. Hoe vaak gebeurt het?",
        "1. a) Tabel 1 (bijlage 1) bevat de meldingen. b) Tabel 2 (bijlage 2) toont de dossiers. c) en 2. Op grond "
        "van de gegevens van het College werden 884 zaken geseponeerd.",
        ["1", "1a", "1b", "1c", "2"],
        {"1b": "Tabel 2 (bijlage 2) toont", "1c": "Op grond van de gegevens", "2": "Op grond van de gegevens"},
        id="184523-an-item-joined-to-the-next-number-and-a-table-named-in-a-sentence",
    ),
    pytest.param(
        "1. Welk plan? 2. Sinds wanneer? 3. a) Wat? b) Waarom? c) Wanneer? d) Hoe? 4. Wie?",
        "1. Het veiligheidsplan. 2. Sinds 2016. 3. a) tot d) Verkeersveiligheid is een prioriteit van het plan. "
        "4. De politie.",
        ["1", "2", "3a", "3b", "3c", "3d", "4"],
        {"3a": "Verkeersveiligheid", "3c": "Verkeersveiligheid", "4": "De politie"},
        id="185685-letters-a-tot-d",
    ),
    pytest.param(
        "1. Welke rechtbanken? 2. a) Hoeveel zaken? b) Hoe lang? c) Wat is de mediaan? d) Hoeveel hangend?",
        "1. De arbeidsrechtbanken. 2. a) en d) Er kunnen geen cijfers worden aangeleverd. b) Gemiddeld 14 maanden. "
        "c) Er wordt verwezen naar de mediane duurtijd in de tabel.",
        ["1", "2a", "2b", "2c", "2d"],
        {"2a": "Er kunnen geen", "2d": "Er kunnen geen", "2b": "Gemiddeld 14", "2c": "Er wordt verwezen"},
        id="185495-a-letter-list-that-skips-answers-the-others-after-it",
    ),
    pytest.param(
        "1. Hoeveel gedetacheerden? 2. Welk statuut? 3. Sinds wanneer?",
        "Op moment van schrijven:1. - FOD Financien: 3;- Defensie: 1. 2. Twee contractuelen. 3. Een detachering.",
        ["1", "2", "3"],
        {"1": "- FOD Financien: 3;", "2": "Twee contractuelen"},
        id="190034-a-figure-right-before-a-label-is-no-label",
    ),
    pytest.param(
        "1. Hoeveel stations? 2. Welke diensten? 3. a) Welke ruimtes? b) Welke winkels? 4. Welke mix? 5. Welke huur?",
        "1. Er zijn 550 stations. 2. Loketten en automaten. 3. a) en b), 4. en 5. Een optimale benutting van de "
        "ruimtes vertrekt van space management.",
        ["1", "2", "3a", "3b", "4", "5"],
        {"3a": "Een optimale", "3b": "Een optimale", "5": "Een optimale"},
        id="188183-items-then-numbers-sharing-one-text",
    ),
    pytest.param(
        "1. Wat gebeurde er? 2. Waarom? 3. Wat nu?",
        "1. et 2. De FSMA verduidelijkt dat de koers een tijdelijk gebrek aan liquiditeit volgde. 3. Niets.",
        ["1", "2", "3"],
        {"1": "De FSMA", "2": "De FSMA", "3": "Niets"},
        id="185059-french-et-in-a-joint-label",
    ),
    pytest.param(
        "1. Welk dossier? 2. Sinds wanneer? 3. a) Wat? b) Wie? c) Waar? d) Wanneer? e) Hoe? f) Hoeveel? g) Waarom? "
        "h) Sinds? i) Tot?",
        "1. Het dossier Kazachgate. 2. Sinds 2011. 3. a) tot d) Zie de tabel. e) tot en met i) moet ik u doorverwijzen "
        "naar de minister van Justitie.",
        ["1", "2", "3a", "3b", "3c", "3d", "3e", "3f", "3g", "3h", "3i"],
        {"3e": "moet ik u doorverwijzen", "3i": "moet ik u doorverwijzen"},
        id="185003-a-long-letter-range",
    ),
    pytest.param(
        "In 2013 werden er 21.102 telefoontaps uitgevoerd en in 2014 waren dat er 22. 552.1. Wat zijn de cijfers "
        "voor 2015 en 2016?2. Over hoeveel personen gaat het?3. Wat is het budget?",
        "1. In 2015 waren er 23.000 taps. 2. Het gaat om 8.256 personen. 3. Er is geen vast budget.",
        ["1", "2", "3"],
        {"1": "In 2015", "2": "Het gaat om 8.256", "3": "Er is geen"},
        id="192761-a-label-right-after-a-figure",
    ),
    pytest.param(
        "1. Hoeveel tenten stelt Defensie ter beschikking? 2. Stelt Defensie nog ander materieel ter beschikking? "
        "3. Hoeveel bedroeg de vergoeding?",
        "1. In 2017 stelt Defensie 399 tenten ter beschikking. 1. Behalve de tenten stelt Defensie geen ander "
        "materiaal ter beschikking. 2. Defensie ontvangt geen vergoeding.",
        ["1", "2", "3"],
        {"1": "In 2017", "2": "Behalve de tenten", "3": "Defensie ontvangt geen"},
        id="192262-answers-numbered-1-1-2",
    ),
    pytest.param(
        "1. Wat houden de maatregelen in? 2. Hoe is de situatie geevolueerd?",
        "1. Het verdrag bepaalt in artikel 52. 1. Om de vijf jaar evalueert de Kamer de wet. 2. Het verbeterde.",
        ["1", "2"],
        {"2": "Het verbeterde"},
        id="two-parts-are-not-renumbered",
    ),
    pytest.param(
        "1. a) Hoeveel interventies? b) Hoe verhoudt zich dat tot 2015? 2. Hoeveel vals alarm?",
        "1. a. Gelieve in de tabel hieronder een overzicht te vinden. b) Er is een stijgende trend. 2. Geen cijfers.",
        ["1a", "1b", "2"],
        {"1a": "a. Gelieve in de tabel", "1b": "Er is een stijgende", "2": "Geen cijfers"},
        id="193147-text-before-the-first-letter-answers-the-items-before-it",
    ),
]


@pytest.mark.parametrize(("question", "answer", "expected", "answers"), CASES)
def test_numbering(question: str, answer: str, expected: list[str], answers: dict[str, str]) -> None:
    doc = doc_of(question, answer)
    assert [p.label for p in doc.parts] == expected
    for label, head in answers.items():
        assert " ".join(doc.answer_for(label).split()).startswith(head), (label, doc.answer_for(label))


def test_reference_keeps_that_it_was_a_reference() -> None:
    doc = doc_of("1. Wat? 2. Waarom?", "1. Omdat het moet. 2. Zie vraag 1.")
    part = doc.part("2")
    assert part is not None
    assert part.answer == "Zie vraag 1."
    assert (part.ref, part.ref_kind) == ("1", "reference")
    assert doc.answer_for("2") == "Omdat het moet."


def test_joint_answer_marks_the_other_parts() -> None:
    doc = doc_of("1. Wat? 2. Waarom? 3. Wanneer?", "1. en 2. Samen beantwoord. 3. Morgen.")
    p2 = doc.part("2")
    assert p2 is not None and (p2.ref, p2.ref_kind) == ("1", "joint")


def test_question_offsets_point_at_the_text() -> None:
    q = "Inleiding. 1. Eerste vraag?2. Tweede vraag?"
    a = "1. Eerste antwoord. 2. Tweede antwoord."
    for p in split_parts(q, a).parts:
        assert p.question_span is not None and p.answer_span is not None
        assert q[p.question_span[0] : p.question_span[1]] == p.question
        assert a[p.answer_span[0] : p.answer_span[1]] == p.answer


def test_reference_cycle_does_not_hang() -> None:
    doc = doc_of("1. Wat? 2. Waarom?", "1. Zie vraag 2. 2. Zie vraag 1.")
    assert doc.resolve("1") is not None


def test_number_answered_through_its_items_shows_every_item() -> None:
    doc = doc_of(
        "1. Hoeveel stagiairs? 2. Welk profiel? a) Leeftijd? b) Geslacht? c) Herkomst?",
        "1. Er waren 68 stagiairs. 2. a) en b) Zie vraag 1. c) 28 van buitenlandse herkomst.",
    )
    assert doc.part("2") is not None and doc.part("2").ref_kind == "items"  # type: ignore[union-attr]
    assert doc.answer_for("2") == "2a-2b) Er waren 68 stagiairs.\n2c) 28 van buitenlandse herkomst."
    resolved = doc.resolve("2")
    assert resolved is not None and resolved.label == "1"  # what alignment checks: the text it resolves to
