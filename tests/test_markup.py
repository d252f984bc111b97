"""The chat's answer as HTML and Markdown, over the sample corpus's real documents: the direct answer first, one
header per document, no paragraph twice, references as links, readable line breaks; permalinks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.answer import Answer, compose
from assistant.parse import read_file
from assistant.retrieve import make_hit
from assistant.types import Citation, Document, Hit, Retrieval
from assistant.web.chat import link_query, permalink
from assistant.web.markup import (
    ANNEX_NOTE,
    answer_html,
    answer_markdown,
    meta_line,
    pending_html,
    readable,
    short_who,
)
from tests.conftest import CORPUS

STAGE = "Hoeveel stagiairs van buitenlandse herkomst liepen in 2023 stage bij de Vlaamse overheid?"


def _doc(name: str) -> Document:
    (doc,) = read_file(CORPUS / f"{name}.txt")
    assert isinstance(doc, Document)
    return doc


def _hits(doc: Document, *labels: str) -> tuple[Hit, ...]:
    hits = tuple(make_hit(doc, label, 1.0 - i / 10) for i, label in enumerate(labels))
    assert all(h is not None for h in hits)
    return hits  # type: ignore[return-value]


def _visible(html: str) -> str:
    """The answer as read: without the copy's Markdown (an attribute) and without tags."""
    return re.sub(r"<[^>]+>", " ", html.split('<div class="pqa-actions"')[0])


def test_the_answer_opens_with_the_sentence_holding_the_figure() -> None:
    answer = compose(STAGE, Retrieval(_hits(_doc("sv_2024_0213"), "3e", "4", "2")))
    html = answer_html(answer, permalink(STAGE, {}))
    first = html.index('<p class="pqa-direct-text"><mark>')
    assert html.index("34 van buitenlandse herkomst") > first
    assert first < html.index('<section class="pqa-doc">')
    assert html.count('<section class="pqa-doc">') == 1  # three parts, one document: one header
    assert html.count("pqa-doc-title") == 1
    assert "<mark>" not in html[html.index('href="doc/sv_2024_0213?part=4') :].split("</blockquote>")[0]
    assert "\n" not in html


def test_no_paragraph_is_shown_twice() -> None:
    doc = _doc("000_7cb658cc4d654e89")  # vraag 2, 3a-3d, 4 and 5 all point to vraag 1
    answer = Answer("stages", _hits(doc, "1", "2", "3", "3e"), 4)
    html = answer_html(answer)
    visible = _visible(html)
    opening = doc.answer_for("1")[:50]
    assert visible.count(opening) == 1
    assert visible.count("Van de 68 schoolstagiairs") == 1
    assert 'vraag 2: zie <a class="pqa-link pqa-chip" href="doc/000_7cb658cc4d654e89?part=1#part-1"' in html
    assert "3a-3d) zie" in visible  # the items answer keeps its labels, and points where the text is


def test_readable_gives_glued_sentences_a_space_and_inline_items_a_line() -> None:
    assert readable("volledig beschikbaar.De bijlagen") == "volledig beschikbaar. De bijlagen"
    assert readable("Het gaat om: a) de eerste; b) de tweede.") == "Het gaat om:\na) de eerste;\nb) de tweede."
    assert readable("107.384 plaatsen, 3,7 procent") == "107.384 plaatsen, 3,7 procent"
    assert readable("art. 9ter. Zie K.B. van 2017") == "art. 9ter. Zie K.B. van 2017"


def test_readable_says_a_table_is_in_an_annex_instead_of_its_code() -> None:
    got = readable("Aantal koperdiefstallen per jaar:2016201713947-11-405-nl-fr Er is een daling.")
    assert got.splitlines() == ["Aantal koperdiefstallen per jaar:", ANNEX_NOTE, " Er is een daling."]
    assert readable("2016201714157-2-1249-bil-1") == f"\n{ANNEX_NOTE}\n"
    assert readable("in de tabel hieronder. 2016201714297-6-1676 * uitgezonderd").splitlines()[1] == ANNEX_NOTE
    assert readable("dossier 2016201714157 van 2017") == "dossier 2016201714157 van 2017"


@pytest.mark.parametrize(
    ("who", "short"),
    [
        ("Vlaams minister van Binnenlands Bestuur, Bestuurszaken, Inburgering en Gelijke Kansen, Jeroen Maes",
         "Jeroen Maes"),
        ("Minister van Financien, belast met Bestrijding van de fiscale fraude", "Minister van Financien"),
        ("Minister van Justitie", "Minister van Justitie"),
    ],
)  # fmt: skip
def test_short_who(who: str, short: str) -> None:
    assert short_who(who) == short


def test_a_minister_is_never_a_code() -> None:
    # indexes built before the Belgian fix hold answer_deptpres ("7") as the minister
    c = Citation("189302", "1", "RIZIV", "2017-04-05", minister="7", department="Minister van Sociale Zaken")
    assert c.who == "Minister van Sociale Zaken"
    assert " - 7 - " not in c.label() and meta_line(c) == "Minister van Sociale Zaken \u00b7 2017-04-05 \u00b7 189302"


def test_markdown_has_the_citations_and_no_html() -> None:
    doc = _doc("sv_2023_1019")  # its answer quotes <script> on purpose
    answer = compose("Hoeveel meldingen van phishing kregen scholen?", Retrieval(_hits(doc, "1", "3")))
    md = answer_markdown(answer, "https://example.org/")
    assert "### Scholen - Phishing en kwaadaardige e-mails" in md
    assert "[vraag 1](https://example.org/doc/sv_2023_1019?part=1#part-1)" in md
    assert "<script>" not in md and "\\<script\\>" in md
    assert md.startswith("**") and "312 meldingen" in md.split("\n")[0]


def test_permalink_round_trip() -> None:
    link = permalink("Hoeveel kost het? & meer", {"minister": "Jeroen Maes", "party": ""})
    assert link.startswith("?q=Hoeveel+kost+het%3F+%26+meer&minister=Jeroen+Maes")
    params = dict(p.split("=", 1) for p in link[1:].split("&"))
    from urllib.parse import unquote_plus

    assert link_query({k: unquote_plus(v) for k, v in params.items()}) == (
        "Hoeveel kost het? & meer",
        {"minister": "Jeroen Maes"},
    )
    assert link_query({"q": "  ", "nonsense": "x"}) == ("", {})


def test_pending_is_dutch_and_a_status() -> None:
    assert "Bezig met zoeken" in pending_html() and 'role="status"' in pending_html()


def test_the_widget_says_the_same_of_an_annexed_table() -> None:
    """The widget renders answers itself (textContent): same pattern, same words."""
    from assistant.parse.clean import ANNEX
    from assistant.web import markup

    script = (Path(markup.__file__).parent / "static" / "widget.js").read_text(encoding="utf-8")
    assert f"/{ANNEX.pattern}/g" in script
    assert f'" {ANNEX_NOTE} "' in script
