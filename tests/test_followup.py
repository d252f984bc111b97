"""Follow-up resolution (assistant/followup.py), years (periods.py) and the conversation metrics
(evaluate_conversations.py), over a small catalog shaped like the Belgian Chamber's metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.catalog import Catalog, points_back, portfolio_phrases
from assistant.evaluate_conversations import (
    Conversation,
    Reply,
    conversations_html,
    evaluate_conversations,
    load_conversations,
)
from assistant.followup import Resolved, Turn, backed_by_conversation, resolve, search_resolved
from assistant.periods import about_years, years_in
from assistant.types import Citation, Document, Hit, Part

FIN = "Minister van Financien, belast met Bestrijding van de fiscale fraude"
JUS = "Minister van Justitie"
MOB = "Minister van Mobiliteit, belast met Belgocontrol en de Nationale Maatschappij der Belgische spoorwegen"
BEG = "Minister van Begroting, belast met de Nationale Loterij"
DEF = "Minister van Defensie, belast met Ambtenarenzaken"
ASY = (
    "Staatssecretaris voor Asiel en Migratie, belast met Administratieve Vereenvoudiging, toegevoegd aan de minister "
    "van Veiligheid en Binnenlandse Zaken"
)
VEI = "Vice-eersteminister en minister van Veiligheid en Binnenlandse Zaken, belast met de Regie der Gebouwen"


def doc(doc_id: str, title: str, department: str, answer: str, asker: str = "Jadin, Kattrin", q: str = "") -> Document:
    parts = (Part("1", q or title, answer), Part("2", "Tweede vraag.", "Tweede antwoord."))
    return Document(doc_id, title, q or title, answer, parts, asker=asker, department=department, date="2017-02-23")


DOCS = [
    doc("10", "Budget voor de vertaaldienst", FIN, "1. De vertaaldienst van de FOD Financien telt 23 personeelsleden."),
    doc("11", "Budget voor de vertaaldienst", JUS, "1. De vertaaldienst telt 16 personen."),
    doc("12", "Budget voor de vertaaldienst", BEG, "1. De vertaaldienst van de FOD Budget en Beheerscontrole: twee."),
    doc("13", "Budget voor de vertaaldienst", MOB, "1. De dienst telt acht vertalers."),
    doc(
        "20",
        "Quick Reaction Alert",
        DEF,
        "1. In 2016 stegen ze vijf keer op.",
        asker="Pas, Barbara",
        q="Hoe vaak moesten de QRA-gevechtsvliegtuigen in 2016 opstijgen voor een onderschepping?",
    ),
    doc(
        "30",
        "Asielzoekers - Lokale opvanginitiatieven",
        ASY,
        "1. Er zijn 9.290 plaatsen voor 7.617 personen.",
        asker="Pas, Barbara",
    ),
    doc("40", "Proefbank voor vuurwapens", VEI, "1. In 2015 werden 20.447 wapens vernietigd.", asker="Dedry, Anne"),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(DOCS)


@pytest.mark.parametrize(
    ("department", "phrases"),
    [
        (JUS, ("justitie",)),
        (FIN, ("financien", "bestrijding van de fiscale fraude")),
        (MOB, ("mobiliteit", "belgocontrol", "nationale maatschappij der belgische spoorwegen")),
        (ASY, ("asiel", "migratie", "administratieve vereenvoudiging")),
        (VEI, ("veiligheid", "binnenlandse zaken", "regie der gebouwen")),
        ("Eerste minister", ("eerste minister",)),
    ],
)
def test_portfolio_phrases_come_from_the_department_string(department: str, phrases: tuple[str, ...]) -> None:
    assert portfolio_phrases(department) == phrases


def test_mentions_name_departments_by_their_portfolio_and_unknown_services_by_name(catalog: Catalog) -> None:
    [m] = catalog.mentions("En bij Justitie?")
    assert (m.department, m.cued, m.text) == (JUS, True, "Justitie")
    [m] = catalog.mentions("Hoeveel mensen werken op de vertaaldienst van de FOD Financiën?")
    assert (m.department, m.text) == (FIN, "FOD Financiën")
    [m] = catalog.mentions("En bij de FOD Budget en Beheerscontrole?")
    assert (m.department, m.service) == (None, "budget en beheerscontrole")
    assert catalog.answers_for(m, ["10", "11", "12"]) == ("12",)


def test_series_are_one_members_question_to_several_ministers(catalog: Catalog) -> None:
    assert catalog.series("10") == ("11", "12", "13")
    assert catalog.series("20") == ()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hoeveel van hen zijn klimaatvluchtelingen?", True),
        ("Wat kost een vlieguur met dat toestel?", True),
        ("Is die app alleen bedoeld voor doven?", True),
        ("En geldt dat rookverbod ook voor verhitte tabak?", True),
        ("Who plans the air support for the ground troops there?", True),
        ("Hoeveel mensen die asiel vroegen kregen een verblijfsvergunning?", False),
        ("Hoeveel wapens vernietigde de Proefbank voor vuurwapens in Luik in 2015?", False),
    ],
)
def test_points_back(question: str, expected: bool) -> None:
    assert points_back(question) is expected


def test_without_history_the_question_goes_through_unchanged(catalog: Catalog) -> None:
    q = "Hoeveel mensen werken er op de vertaaldienst van de FOD Financiën?"
    r = resolve(q, [], catalog)
    assert (r.query, r.followup, r.focus, r.understood) == (q, False, (), "")


def test_en_in_year_replaces_the_year_and_keeps_the_document_in_focus(catalog: Catalog) -> None:
    history = [
        Turn("Hoe vaak moesten de QRA-gevechtsvliegtuigen in 2016 opstijgen voor een onderschepping?", (("20", "1"),))
    ]
    r = resolve("En hoe vaak al in 2017?", history, catalog)
    assert r.query == "Hoe vaak moesten de QRA-gevechtsvliegtuigen in 2017 opstijgen voor een onderschepping?"
    assert r.replaced == (("2016", "2017"),)
    assert r.focus[0] == ("20", r.settings.focus)
    assert r.understood.startswith("Ik begreep: hoe vaak moesten de QRA-gevechtsvliegtuigen in 2017")
    assert r.understood.endswith("(vervolg op uw vorige vraag)")


def test_en_bij_department_moves_to_the_same_question_put_to_that_minister(catalog: Catalog) -> None:
    history = [Turn("Hoeveel mensen werken er op de vertaaldienst van de FOD Financiën?", (("10", "1"),))]
    r = resolve("En bij Justitie?", history, catalog)
    assert r.query == "Hoeveel mensen werken er op de vertaaldienst van de Justitie?"
    assert r.focus[0] == ("11", r.settings.target)
    assert "10" not in dict(r.focus)
    assert r.department == JUS
    # the next department in the same conversation replaces Justitie in turn, also one named only in the answers
    history.append(Turn("En bij Justitie?", (("11", "1"),)))
    r = resolve("En bij de FOD Budget en Beheerscontrole?", history, catalog)
    assert r.query == "Hoeveel mensen werken er op de vertaaldienst van de FOD Budget en Beheerscontrole?"
    assert r.focus[0] == ("12", r.settings.target)
    assert r.department == BEG


def test_a_pronoun_carries_the_earlier_topic(catalog: Catalog) -> None:
    history = [Turn("Hoeveel mensen verbleven eind januari 2017 in een lokaal opvanginitiatief?", (("30", "1"),))]
    r = resolve("Hoeveel van hen zijn klimaatvluchtelingen?", history, catalog)
    assert r.followup
    assert r.query.startswith("Hoeveel van hen zijn klimaatvluchtelingen?")
    assert {"verbleven", "opvanginitiatief"} <= set(r.carried)
    assert r.focus[0] == ("30", r.settings.focus)
    assert r.understood == (
        "Ik begreep: hoeveel van hen zijn klimaatvluchtelingen? "
        "(vervolg op uw vorige vraag over 'Asielzoekers - Lokale opvanginitiatieven')"
    )
    joined = resolve("En hoeveel van die mensen zijn minderjarig?", history, catalog)
    assert joined.understood == (  # the opening "En" joins it to the previous question, which the line says itself
        "Ik begreep: hoeveel van die mensen zijn minderjarig? "
        "(vervolg op uw vorige vraag over 'Asielzoekers - Lokale opvanginitiatieven')"
    )


def test_a_new_year_after_a_follow_up_is_searched_and_said_plainly(catalog: Catalog) -> None:
    """ "En in 2018?" after a pronoun follow-up: the year the first turn named is not in the earlier query's words
    (it carries its context in brackets), so the new year is added, and the line shows no brackets."""
    history = [Turn("Hoeveel mensen verbleven eind januari 2017 in een lokaal opvanginitiatief?", (("30", "1"),))]
    history.append(Turn("Hoeveel van hen zijn minderjarig?", (("30", "1"),)))
    r = resolve("En in 2018?", history, catalog)
    assert "2018" in r.query
    assert r.understood == (
        "Ik begreep: hoeveel van hen zijn minderjarig in 2018? "
        "(vervolg op uw vorige vraag over 'Asielzoekers - Lokale opvanginitiatieven')"
    )


def test_a_self_contained_question_is_not_pulled_back(catalog: Catalog) -> None:
    history = [Turn("Welk krediet kreeg de vertaaldienst van de FOD Financiën voor 2017?", (("10", "1"),))]
    q = "Hoeveel wapens vernietigde de Proefbank voor vuurwapens in Luik in 2015?"
    r = resolve(q, history, catalog)
    assert (r.query, r.followup, r.understood, r.carried) == (q, False, "", ())
    assert dict(r.focus)["10"] == r.settings.weak_focus


@dataclass
class FakeSearch:
    """A retriever stand-in: fixed scores per part, filters by doc_id or department; records its calls."""

    scores: dict[tuple[str, str], float]
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, query: str, filters: dict[str, str], top_k: int) -> list[Hit]:
        self.calls.append((query, dict(filters)))
        by_id = {d.doc_id: d for d in DOCS}
        keys = [k for k in self.scores if filters.get("doc_id", k[0]) == k[0]]
        keys = [k for k in keys if filters.get("department", by_id[k[0]].department) == by_id[k[0]].department]
        keys.sort(key=lambda k: -self.scores[k])
        hits = []
        for d, p in keys[:top_k]:
            c = Citation(d, p, by_id[d].title, department=by_id[d].department)
            hits.append(Hit(c, self.scores[(d, p)], "", by_id[d].answer_text, similarity=0.9))
        return hits


def test_search_resolved_lifts_the_document_the_conversation_points_to(catalog: Catalog) -> None:
    search = FakeSearch({("40", "1"): 1.70, ("11", "1"): 1.60, ("10", "1"): 1.65})
    history = [Turn("Hoeveel mensen werken er op de vertaaldienst van de FOD Financiën?", (("10", "1"),))]
    r = resolve("En bij Justitie?", history, catalog)
    hits = search_resolved(r, search)
    assert (hits[0].citation.doc_id, hits[0].citation.part) == ("11", "1")
    assert any(f.get("doc_id") == "11" for _, f in search.calls)


def test_search_resolved_without_history_is_one_plain_search(catalog: Catalog) -> None:
    search = FakeSearch({("40", "1"): 1.70, ("10", "1"): 1.65})
    hits = search_resolved(resolve("Hoeveel wapens?", [], catalog), search, top_k=5)
    assert [h.citation.doc_id for h in hits] == ["40", "10"]
    assert search.calls == [("Hoeveel wapens?", {})]


def test_resolved_boost_prefers_parts_about_the_year() -> None:
    r = Resolved("En in 2017?", "q", followup=True, years=("2017",))
    assert r.boost("1", "1", text="In 2017 twee keer") > r.boost("1", "2", text="In 2016 vijf keer")


@pytest.mark.parametrize(
    ("text", "years"),
    [("tussen 2012 en 2016", ["2012", "2016"]), ("8.2016 euro en 2.016 keer", []), ("in 2017, niet 2017", ["2017"])],
)
def test_years_in(text: str, years: list[str]) -> None:
    assert years_in(text) == years
    assert about_years(text, ("2016",)) == float("2016" in years)


def test_turn_from_dict_accepts_the_api_shapes() -> None:
    assert Turn.from_dict({"question": "q", "cited": ["10#1", {"doc": "11", "part": "2"}, ["12", "3"]]}).cited == (
        ("10", "1"),
        ("11", "2"),
        ("12", "3"),
    )


CONVERSATIONS = [
    {"id": "c1", "lang": "nl", "kind": "other-doc", "turns": [
        {"question": "Hoeveel mensen werken er op de vertaaldienst van de FOD Financiën?",
         "gold": [{"doc": "10", "part": "1"}], "facts": ["23 personeelsleden"], "filters": {}},
        {"question": "En bij Justitie?", "gold": [{"doc": "11", "part": "1"}], "facts": ["16 personen"], "filters": {}},
    ]},
    {"id": "c2", "lang": "nl", "kind": "abstain", "turns": [
        {"question": "Hoeveel plaatsen hebben de lokale opvanginitiatieven?", "gold": [{"doc": "30", "part": "1"}],
         "facts": ["9.290"], "filters": {}},
        {"question": "Hoeveel van hen zijn klimaatvluchtelingen?", "gold": [], "facts": [], "filters": {}},
    ]},
]  # fmt: skip


def test_conversation_metrics_have_the_format_keys_and_the_no_history_baseline(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in CONVERSATIONS), encoding="utf-8")
    convs = load_conversations(path)
    by_id = {d.doc_id: d for d in DOCS}
    seen: list[tuple[str, tuple[Turn, ...]]] = []

    def ask(question: str, history: tuple[Turn, ...]) -> Reply:
        seen.append((question, history))
        if "klimaat" in question:
            return Reply((), "", True)
        doc_id = "11" if "Justitie" in question and history else "30" if "opvang" in question else "10"
        return Reply(((doc_id, "1"),), by_id[doc_id].answer_text, False)

    metrics, outcomes = evaluate_conversations(convs, ask)
    assert set(metrics) >= {"conversations", "turns", "followups", "first_turn", "followup", "by_kind", "baselines",
                            "latency_ms"}  # fmt: skip
    assert (metrics["conversations"], metrics["turns"], metrics["followups"]) == (2, 4, 2)
    assert metrics["followup"]["part_hit5"] == 1.0 and metrics["followup"]["abstain_accuracy"] == 1.0
    assert metrics["baselines"]["no-history"]["followup"]["part_hit5"] == 0.0
    assert metrics["by_kind"]["other-doc"]["fact_recall1"] == 1.0
    assert metrics["by_kind"]["abstain"] == {"cases": 1, "abstain_accuracy": 1.0}
    # the second turn saw the first question and the part we cited, never the gold
    assert seen[1] == ("En bij Justitie?", (Turn(CONVERSATIONS[0]["turns"][0]["question"], (("10", "1"),)),))
    page = conversations_html(metrics, outcomes)
    assert "no-history" in page and "other-doc" in page


def test_load_conversations_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(CONVERSATIONS[0]) + '\n{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        load_conversations(path)
    assert Conversation.from_dict(CONVERSATIONS[1]).kind == "abstain"


def test_a_follow_up_backed_by_the_conversation_is_answered_despite_low_similarity(catalog: Catalog) -> None:
    history = [Turn("Hoeveel mensen verbleven eind januari 2017 in een lokaal opvanginitiatief?", (("30", "1"),))]
    top = FakeSearch({("30", "1"): 1.6})("q", {}, 1)[0]
    backed = resolve("Hoeveel van hen kregen een plaats?", history, catalog)
    assert backed_by_conversation(backed, top, (), catalog)
    # its own words are not in the document: the conversation cannot vouch for it, the abstain policy decides
    absent = resolve("Hoeveel van hen zijn klimaatvluchtelingen?", history, catalog)
    assert not backed_by_conversation(absent, top, (), catalog)
    assert not backed_by_conversation(resolve("Hoeveel plaatsen?", [], catalog), top, (), catalog)
    assert not backed_by_conversation(backed, top, ("klimaatvluchtelingen",), catalog)  # a word no document uses
