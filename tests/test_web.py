"""The web layer over the sample corpus: JSON API, errors with readable messages, source view, CORS, escaping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.answer import NO_ANSWER, AbstainPolicy, Answer, compose
from assistant.application import Assistant
from assistant.config import Settings
from assistant.errors import IndexMissingError, StoreUnavailableError
from assistant.index import Index
from assistant.index.memory import MemoryVectors
from assistant.retrieve import make_hit
from assistant.web import app as web_app
from assistant.web import chat
from assistant.web.app import create_app
from assistant.web.chat import earlier, form_filters, reply
from assistant.web.markup import answer_html, marked, similar_html
from assistant.web.views import similar
from tests.conftest import fake_assistant, ingest_sample
from tests.fakes import FAKE_SIMILAR, FakeEmbedder

UNLIMITED = 1_000_000
"""A per-client limit these tests never reach: they are not about it (tests/test_security.py is)."""

ALLOWED = "https://widget.example.org"
FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
PHISHING = "Hoeveel meldingen van phishing en kwaadaardige e-mails kregen scholen en AGODI in het schooljaar 2022-2023?"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_sample(tmp_path_factory.mktemp("web") / "idx")


@pytest.fixture(scope="module")
def retriever(index_dir: Path) -> Assistant:
    return fake_assistant(index_dir, similar_policy=FAKE_SIMILAR)


@pytest.fixture(scope="module")
def client(retriever: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(client_per_minute=UNLIMITED), retriever, cors_origins=[ALLOWED])) as c:
        yield c


ALWAYS = AbstainPolicy(dutch=2.0, english=2.0)


def _ask(client: TestClient, question: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/api/ask", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- /api/ask


def test_ask_returns_the_ministers_words_cited_to_the_part(client: TestClient) -> None:
    data = _ask(client, FIETS)
    best = data["answers"][0]
    assert (best["citation"]["doc_id"], best["citation"]["part"]) == ("sv_2023_0302", "1")
    assert "74,6 km" in best["answer"]
    assert best["source_url"] == "http://testserver/doc/sv_2023_0302?part=1#part-1"
    lo, hi = best["highlights"][0]
    assert "74,6 km" in best["answer"][lo:hi]
    assert not data["abstained"]
    assert all(h["source_url"].startswith("http://testserver/doc/") for h in data["answers"] + data["related"])


def test_ask_answers_a_reference_with_the_text_it_points_to(client: TestClient) -> None:
    data = _ask(
        client, "Wordt de ondersteuning opengesteld voor het basisonderwijs?", filters={"doc_id": "sv_2023_1019"}
    )
    by_part = {h["citation"]["part"]: h for h in data["answers"] + data["related"]}
    assert by_part["4"]["citation"]["via_ref"] == "3"
    assert "1,8 miljoen euro" in by_part["4"]["answer"]
    assert by_part["4"]["source_url"].endswith("/doc/sv_2023_1019?part=4#part-4")


def test_ask_filters_narrow_the_documents(client: TestClient) -> None:
    data = _ask(client, "Hoeveel budget werd vastgelegd?", filters={"party": "Groen"}, top_k=10)
    docs = {h["citation"]["doc_id"] for h in data["answers"] + data["related"]}
    assert docs == {"sv_2023_0302"}


def test_ask_resolves_a_loose_filter_and_says_so(client: TestClient, retriever: Assistant) -> None:
    data = _ask(client, "Hoeveel m² verharding werd weggenomen?", filters={"party": "open-vld"}, top_k=10)
    assert data["answers"] and not data["abstained"]
    cited = {h["citation"]["doc_id"] for h in data["answers"] + data["related"]}
    assert {retriever.document(d).party for d in cited} == {"Open VLD"}  # type: ignore[union-attr]
    assert data["filters"] == [
        {"key": "party", "label": "fractie", "given": "open-vld", "values": ["Open VLD"], "how": "loose"}
    ]
    assert data["found_without_filters"] is None


def test_ask_refuses_a_filter_value_that_matches_nothing_with_the_closest(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": FIETS, "filters": {"party": "Vlaams Blok"}})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "Onbekende fractie 'Vlaams Blok'; bedoelt u 'Vlaams Belang'" in detail and "Unknown party" in detail


FILTERED_OUT = {"party": "groen", "date_from": "2030-01-01"}
"""Filters no document passes: the question finds nothing under them, and is answered without them."""


def test_ask_that_finds_nothing_under_filters_names_them_and_offers_to_drop_them(client: TestClient) -> None:
    data = _ask(client, FIETS, filters=FILTERED_OUT)
    assert data["abstained"] and data["found_without_filters"] is True
    assert data["message"] == (
        "Ik vond geen antwoord op deze vraag in de schriftelijke vragen met deze filters: fractie 'groen' (Groen), "
        "gesteld vanaf 2030-01-01. Zonder die filters is er wel een antwoord: zoek opnieuw zonder filters."
    )
    assert [f["key"] for f in data["filters"]] == ["party", "date_from"]


def test_nothing_found_with_or_without_filters_says_so(retriever: Assistant) -> None:
    answer = retriever.ask(FIETS, {"party": "Groen"}, policy=ALWAYS)
    assert answer.abstained and answer.found_without_filters is False
    assert "met deze filters: fractie 'Groen'. Ook zonder filters vond ik geen antwoord." in answer.message
    # filters the reader cannot drop (a widget key's) are named, and no search without them is offered
    scoped = retriever.ask(FIETS, {"party": "Groen"}, policy=ALWAYS, try_unfiltered=False)
    assert scoped.found_without_filters is None and scoped.message.endswith("met deze filters: fractie 'Groen'.")


def test_chat_reply_that_finds_nothing_under_filters_names_them(retriever: Assistant) -> None:
    html = reply(lambda: retriever, FIETS, form_filters("", "", "groen", "1-1-2030", ""), None)
    assert "met deze filters: fractie &#x27;groen&#x27; (Groen), gesteld vanaf 2030-01-01." in html
    assert "Zonder die filters is er wel een antwoord" in html and "pqa-hit" not in html


def test_ask_abstains_plainly_with_suggestions(retriever: Assistant) -> None:
    with TestClient(create_app(Settings(client_per_minute=UNLIMITED), retriever, abstain_policy=ALWAYS)) as c:
        data = c.post("/api/ask", json={"question": FIETS}).json()
    assert data["abstained"] and data["message"] == NO_ANSWER and data["answers"] == []
    assert data["suggestions"] and data["suggestions"][0]["source_url"].startswith("http://testserver/doc/")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": ""}, 422, "De vraag is leeg"),
        ({"question": "   \n\t "}, 422, "The question is empty"),
        ({"question": "x" * 2001}, 422, "De vraag is te lang: 2001 tekens, maximaal 2000"),
        ({"question": FIETS, "filters": {"ministre": "x"}}, 400, "Onbekende filter 'ministre'"),
        ({"question": FIETS, "filters": {"ministre": "x"}}, 400, "Unknown filter 'ministre'"),
        (
            {"question": FIETS, "filters": {"date_from": "2.3.2023"}},
            400,
            "Ongeldige datum voor Gesteld vanaf (date_from)",
        ),
        ({"question": FIETS, "filters": {"date_to": "2023-02-30"}}, 400, "Invalid date for date_to"),
        ({"question": FIETS, "filters": {"date_from": "2024-01-01", "date_to": "2023-01-01"}}, 400, "ligt na"),
        ({"question": FIETS, "top_k": 0}, 422, "Ongeldige invoer in top_k"),
        ({"question": FIETS, "top_k": 21}, 422, "less than or equal to 20"),
        ({"filters": {}}, 422, "Ongeldige invoer in question"),
    ],
)
def test_ask_rejects_bad_input_readably(client: TestClient, body: dict[str, Any], status: int, message: str) -> None:
    response = client.post("/api/ask", json=body)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_ask_rejects_a_body_that_is_not_json(client: TestClient) -> None:
    response = client.post("/api/ask", content=b"{question", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "geen geldige JSON" in response.json()["detail"]


def test_a_question_of_exactly_the_limit_is_accepted(client: TestClient) -> None:
    assert client.post("/api/ask", json={"question": ("fiets " * 400)[:2000]}).status_code == 200


# ---------------------------------------------------------------- documents and source view


def test_document_json_has_parts_and_coverage(client: TestClient) -> None:
    data = client.get("/api/documents/sv_2023_1019").json()
    assert data["doc_id"] == "sv_2023_1019" and [p["label"] for p in data["parts"]] == ["1", "2", "3", "4"]
    assert data["coverage"]["reference"] == ["4"]
    assert data["coverage"]["line"] == "3 van 4 deelvragen inhoudelijk beantwoord, 1 via een verwijzing"
    assert data["source_url"] == "http://testserver/doc/sv_2023_1019"


@pytest.mark.parametrize("path", ["/api/documents/sv_9999_0000", "/doc/sv_9999_0000"])
def test_unknown_document_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "sv_9999_0000" in response.text


def test_source_view_shows_every_part_and_highlights_the_cited_one(client: TestClient) -> None:
    response = client.get("/doc/sv_2024_0213", params={"part": "3e"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<section id="part-3e" class="part highlight"' in page
    assert page.count('class="part highlight"') == 1
    assert 'id="part-1"' in page and 'id="part-5"' in page
    assert "34 van buitenlandse herkomst" in page
    assert "5 van 10 deelvragen inhoudelijk beantwoord, 5 via een verwijzing" in page
    assert ".part:target" in page


def test_source_view_says_where_a_reference_points(client: TestClient) -> None:
    page = client.get("/doc/sv_2023_1019").text
    part3, part4 = page[page.index('id="part-3"') : page.index('id="part-4"')], page[page.index('id="part-4"') :]
    # A link to vraag 3, which is on the same page: its text is not repeated under vraag 4.
    assert 'vraag 4: zie <a href="#part-3">vraag 3</a>' in part4
    assert "1,8 miljoen euro" in part3 and "1,8 miljoen euro" not in part4
    assert page.count("1,8 miljoen euro") == 1


def test_source_view_marks_the_sentences_the_chat_marked(client: TestClient, retriever: Assistant) -> None:
    hit = retriever.ask("Hoeveel stagiairs van buitenlandse herkomst liepen in 2023 stage?").hits[0]
    assert (hit.citation.doc_id, hit.citation.part) == ("sv_2024_0213", "3e") and hit.highlights
    (lo, hi), *_ = hit.highlights
    page = client.get("/doc/sv_2024_0213", params={"part": "3e", "hl": f"{lo}-{hi},x-1,5-99999"}).text
    part = page[page.index('id="part-3e"') :]
    assert f"<mark>{hit.answer[lo:hi]}</mark>" in part
    assert page.count("<mark>") == 1  # the malformed and out-of-range spans are left out


def test_a_reference_in_the_source_view_is_marked_in_the_text_it_points_to(client: TestClient) -> None:
    # vraag 4 of sv_2023_1019 is answered by vraag 3's text: the chat's offsets are into that text
    page = client.get("/doc/sv_2023_1019", params={"part": "4", "hl": "0-30"}).text
    part3 = page[page.index('id="part-3"') : page.index('id="part-4"')]
    assert "<mark>" in part3 and page.count("<mark>") == 1
    assert '<section id="part-4" class="part highlight"' in page


def test_source_view_escapes_document_text(client: TestClient) -> None:
    response = client.get("/doc/sv_2023_1019", params={"part": "1"})
    page = response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none' forbids scripts
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_source_view_escapes_the_part_parameter(client: TestClient) -> None:
    page = client.get("/doc/sv_2023_1019", params={"part": '"><script>alert(3)</script>'}).text
    assert "alert(3)" not in page


# ---------------------------------------------------------------- /api/similar


STAGES = "Hoeveel stagiairs van buitenlandse herkomst liepen in 2023 stage bij de Vlaamse overheid?"
UNRELATED = "Welke kleur hebben paleisdeuren?"


def test_similar_answers_per_sub_question_of_the_draft_with_the_similarity(client: TestClient) -> None:
    intro = "Ik wil weten hoe de Vlaamse overheid omgaat met stages en met haar gebouwen. " * 30
    draft = f"{intro}\n1. {STAGES}\n2. {UNRELATED}"
    assert 2000 < len(draft) < 5000  # longer than a chat question may be
    response = client.post("/api/similar", json={"question": draft})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["found"] is True and data["cutoff"] == FAKE_SIMILAR.cutoff
    first, second = data["parts"]
    assert (first["label"], first["question"]) == ("1", STAGES) and second["label"] == "2"
    best = first["earlier"][0]
    assert (best["citation"]["doc_id"], best["citation"]["part"]) == ("sv_2024_0213", "3e")
    assert best["similarity"] >= FAKE_SIMILAR.strong and best["similarity_word"] == "sterk gelijkend"
    assert all(h["similarity"] >= FAKE_SIMILAR.cutoff for h in first["earlier"]) and len(first["earlier"]) <= 3
    assert best["source_url"] == "http://testserver/doc/sv_2024_0213?part=3e#part-3e"
    assert second["earlier"] == []  # nothing about palace doors was asked before


def test_similar_says_plainly_when_nothing_earlier_is_like_the_draft(client: TestClient) -> None:
    data = client.post("/api/similar", json={"question": UNRELATED}).json()
    assert data["found"] is False and [p["earlier"] for p in data["parts"]] == [[]]


def test_similar_shows_no_paragraph_twice(client: TestClient) -> None:
    # the same sub-question twice, and a document whose parts share answers by reference (sv_2023_1019)
    draft = f"1. {STAGES}\n2. {STAGES}\n3. {PHISHING}"
    parts = client.post("/api/similar", json={"question": draft, "top_k": 5}).json()["parts"]
    shown = [(h["citation"]["doc_id"], " ".join(h["answer"].split())) for p in parts for h in p["earlier"]]
    assert shown and len(shown) == len(set(shown))
    assert [p["earlier"] == [] for p in parts].count(True) >= 1  # the repeated sub-question gets nothing new


def test_similar_rejects_a_draft_over_5000_characters(client: TestClient) -> None:
    response = client.post("/api/similar", json={"question": "x" * 5001})
    assert response.status_code == 422 and "maximaal 5000" in response.json()["detail"]


# ---------------------------------------------------------------- CORS, errors, OpenAPI


def test_cors_only_for_allowed_origins(client: TestClient) -> None:
    # Only /api/* has CORS; that Gradio's routes and /doc have none is tests/test_security.py's.
    def origin_header(origin: str) -> str | None:
        response = client.post("/api/ask", json={"question": FIETS}, headers={"Origin": origin})
        return response.headers.get("access-control-allow-origin")

    assert origin_header("https://evil.example") is None
    assert origin_header(ALLOWED) == ALLOWED


def test_cors_preflight(client: TestClient) -> None:
    def preflight(origin: str) -> Any:
        return client.options(
            "/api/ask",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )

    assert preflight(ALLOWED).headers.get("access-control-allow-origin") == ALLOWED
    assert preflight("https://evil.example").headers.get("access-control-allow-origin") is None


def test_no_origin_is_allowed_by_default(retriever: Assistant) -> None:
    with TestClient(create_app(Settings(client_per_minute=UNLIMITED), retriever)) as c:
        response = c.post("/api/ask", json={"question": FIETS}, headers={"Origin": ALLOWED})
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers


class DownVectors(MemoryVectors):
    """A vector store that has gone away."""

    def query(self, vector: Any, k: int, filters: Any) -> Any:
        raise StoreUnavailableError("Chroma at http://127.0.0.1:8000 cannot be reached - is `chroma run` running?")


def test_store_unavailable_is_503(index_dir: Path) -> None:
    down = Assistant(Settings(), Index(index_dir, DownVectors(), DownVectors()), FakeEmbedder())
    with TestClient(create_app(Settings(client_per_minute=UNLIMITED), down)) as c:
        for path in ("/api/ask", "/api/similar"):
            response = c.post(path, json={"question": FIETS})
            assert response.status_code == 503
            assert "cannot be reached" in response.json()["detail"]


def test_missing_index_is_503_and_the_server_still_starts(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(index_dir=tmp_path / "nothing", client_per_minute=UNLIMITED))) as c:
        response = c.post("/api/ask", json={"question": FIETS})
        assert response.status_code == 503
        assert "No index in" in response.json()["detail"] and "assistant ingest" in response.json()["detail"]
        assert c.get("/doc/sv_2023_0302").status_code == 503
        assert c.get("/").status_code == 200


def test_openapi_documents_the_api(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/similar", "/api/documents/{doc_id}", "/doc/{doc_id}"} <= set(paths)


def test_chat_page_is_served_at_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and "<html" in response.text.lower()


# ---------------------------------------------------------------- chat HTML (pure)


def test_chat_answer_escapes_document_text(retriever: Assistant) -> None:
    answer = compose(PHISHING, retriever.search(PHISHING, {"doc_id": "sv_2023_1019"}, 5))
    html = answer_html(answer)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html
    assert 'href="doc/sv_2023_1019?part=1&amp;hl=' in html  # the part, with the sentences to mark there
    assert 'title="Scholen - Phishing en kwaadaardige e-mails - sv_2023_1019, vraag 1 - ' in html  # on hover
    assert "\n" not in html  # one Markdown HTML block (the copy's Markdown too)


def test_chat_answer_marks_highlights_says_references_and_lists_related(retriever: Assistant) -> None:
    answer = compose(FIETS, retriever.search(FIETS, {}, 8))
    html = answer_html(answer)
    assert "<mark>In 2022 werd 74,6 km fietssnelweg aangelegd of heraangelegd.</mark>" in html
    assert html.index("sv_2023_0302, vraag 1") < html.index("Ook relevant")
    # one header per document: the title once as a header, however many of its parts are shown
    assert html.count('class="pqa-link pqa-doc-title" href="doc/sv_2023_0302"') == 1
    doc = retriever.document("sv_2023_1019")
    assert doc is not None
    part3, part4 = make_hit(doc, "3", 1.0), make_hit(doc, "4", 0.9)
    assert part3 is not None and part4 is not None and part4.citation.via_ref == "3"
    text = part3.answer.split("\n")[0][:60]
    # vraag 4 alone: where it points, then vraag 3's text
    alone = answer_html(Answer("basisonderwijs", (part4,), 1)).split('<div class="pqa-actions"')[0]  # what is read
    assert 'vraag 4: zie <a class="pqa-link pqa-chip" href="doc/sv_2023_1019?part=3#part-3"' in alone
    assert alone.count(text) == 1
    # vraag 4 with vraag 3 shown: the link only, not the text twice
    both = answer_html(Answer("basisonderwijs", (part3, part4), 2)).split('<div class="pqa-actions"')[0]
    assert 'vraag 4: zie <a class="pqa-link pqa-chip" href="doc/sv_2023_1019?part=3#part-3"' in both
    assert both.count(text) == 1


def test_chat_abstain_is_a_plain_message_with_suggestions(retriever: Assistant) -> None:
    answer = compose(FIETS, retriever.search(FIETS, {}, 5), ALWAYS)
    html = answer_html(answer)
    assert NO_ANSWER in html and "Misschien bedoelt u:" in html and "<blockquote" not in html


def test_similar_html_shows_each_sub_question_with_how_similar_and_escapes(retriever: Assistant) -> None:
    html = similar_html(similar(retriever, f"1. {STAGES}\n2. {UNRELATED} <script>alert(1)</script>"))
    assert "<strong>Uw vraag 1:</strong> " + STAGES in html
    assert 'href="doc/sv_2024_0213?part=3e' in html and ">vraag 3e</a>" in html
    assert '<p class="pqa-sim">sterk gelijkend (' in html and "vanaf 70% gelijkenis" in html
    assert "Uw vraag 2:</strong> Welke kleur hebben paleisdeuren? &lt;script&gt;" in html and "<script" not in html
    assert "Geen eerdere vraag lijkt hier voldoende op." in html
    none = similar_html(similar(retriever, UNRELATED))
    assert "Geen eerder gestelde vraag lijkt voldoende op uw ontwerp (alle gelijkenissen liggen onder 70%)" in none


@pytest.mark.parametrize(
    ("text", "spans", "limit", "expected"),
    [
        ("Een. Twee <b>. Drie.", [(5, 14)], 100, "Een. <mark>Twee &lt;b&gt;.</mark> Drie."),
        ("regel 1\nregel 2", [], 100, "regel 1<br>regel 2"),
        ("abcdefghij", [], 4, "abcd &hellip;"),
        ("abcdefghij", [(2, 8)], 4, "ab<mark>cdefgh</mark> &hellip;"),
    ],
)
def test_marked(text: str, spans: list[tuple[int, int]], limit: int, expected: str) -> None:
    assert marked(text, spans, limit) == expected


# ---------------------------------------------------------------- chat callbacks and serve


def test_chat_reply_uses_the_filters_from_the_form(retriever: Assistant) -> None:
    filters = form_filters("", "", " Groen ", "", "")
    assert filters == {"party": "Groen"}
    html = reply(lambda: retriever, "Hoeveel budget werd vastgelegd?", filters, None)
    assert "sv_2023_0302, vraag" in html and "sv_2022_0524" not in html


@pytest.mark.parametrize(
    ("question", "date_from", "message"),
    [
        (
            FIETS,
            "vorig jaar",
            "Ongeldige datum voor Gesteld vanaf (date_from): &#x27;vorig jaar&#x27;; gebruik JJJJ-MM-DD",
        ),
        (FIETS, "31-02-2023", "Ongeldige datum voor Gesteld vanaf (date_from): &#x27;31-02-2023&#x27;"),
        ("x" * 2001, "", "De vraag is te lang"),
    ],
)
def test_chat_says_what_is_wrong_with_the_input(
    retriever: Assistant, question: str, date_from: str, message: str
) -> None:
    html = reply(lambda: retriever, question, form_filters("", "", "", date_from, ""), None)
    assert message in html and "pqa-hit" not in html


def test_chat_says_there_is_no_index_yet() -> None:
    def missing() -> Assistant:
        raise IndexMissingError("No index in index/ - run `assistant ingest corpus/ --index index` first.")

    assert "run `assistant ingest corpus/" in reply(missing, FIETS, {}, None)
    assert "run `assistant ingest corpus/" in earlier(missing, FIETS)


def test_serve_runs_uvicorn_on_the_configured_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    import uvicorn

    ran: dict[str, Any] = {}
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda self, sockets=None: ran.update(app=self.config.app, sockets=sockets)
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    web_app.serve(Settings(index_dir=tmp_path / "none", host="127.0.0.1", port=port))
    [bound] = ran["sockets"]  # serve binds the port itself, before anything is loaded
    assert bound.getsockname() == ("127.0.0.1", port)
    bound.close()
    out = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}/" in out and "No index in" in out
    with TestClient(ran["app"]) as c:
        assert c.post("/api/ask", json={"question": FIETS}).status_code == 503


def _on_load(blocks: Any) -> Any:
    (fn,) = [f.fn for f in blocks.fns.values() if getattr(f.fn, "__name__", "") == "opened"]
    return fn


def test_the_filter_lists_follow_the_index_when_a_page_opens(retriever: Assistant) -> None:
    # built before any ingest (no documents): a page opened once the index exists lists its ministers and parties
    state: dict[str, Any] = {"app": None}

    def get() -> Assistant:
        if state["app"] is None:
            raise IndexMissingError("No index yet")
        return state["app"]

    opened = _on_load(chat.build(get, None, docs=()))
    before = opened({}, None)[-6:]
    assert [u["choices"] for u in before[:4]] == [[(every, chat.ALL)] for _, every in chat.DROPDOWNS.values()]
    assert not any(u["visible"] for u in before[:4])
    state["app"] = retriever
    after = opened({}, None)[-6:]
    ministers = [value for _, value in after[0]["choices"][1:]]
    assert ministers == retriever.choices("minister") and ministers and after[0]["visible"]
    assert [value for _, value in after[2]["choices"][1:]] == retriever.choices("party")
    assert all("value" not in u for u in after[:4])  # no permalink: the lists keep "Alle ..."
    link = SimpleNamespace(query_params={"q": FIETS, "minister": ministers[-1], "party": "Geen fractie"})
    chosen = opened({}, link)[-6:]
    assert chosen[0]["value"] == ministers[-1] and "value" not in chosen[2]  # a party no document has is not set
