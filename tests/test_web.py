"""The web layer over the sample corpus: JSON API, errors with readable messages, source view, CORS, escaping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.answer import NO_ANSWER, AbstainPolicy, compose
from assistant.application import Assistant
from assistant.config import Settings
from assistant.errors import IndexMissingError, StoreUnavailableError
from assistant.index import Index
from assistant.index.memory import MemoryVectors
from assistant.ingest import ingest
from assistant.web import app as web_app
from assistant.web.app import create_app
from assistant.web.chat import earlier, form_filters, reply
from assistant.web.markup import answer_html, marked, similar_html
from assistant.web.views import similar
from tests.conftest import CORPUS, fake_assistant
from tests.fakes import FakeEmbedder

UNLIMITED = 1_000_000
"""A per-client limit these tests never reach: they are not about it (tests/test_security.py is)."""

ALLOWED = "https://widget.example.org"
FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
PHISHING = "Hoeveel meldingen van phishing en kwaadaardige e-mails kregen scholen en AGODI in het schooljaar 2022-2023?"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web") / "idx"
    ingest([CORPUS], Index.open(folder), lambda: FakeEmbedder(), model_name="fake", progress=False)
    return folder


@pytest.fixture(scope="module")
def retriever(index_dir: Path) -> Assistant:
    return fake_assistant(index_dir)


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
        ({"question": FIETS, "filters": {"date_from": "2.3.2023"}}, 400, "Ongeldige datum voor date_from"),
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
    part4 = page[page.index('id="part-4"') :]
    assert "vraag 4: zie vraag 3" in part4
    assert "1,8 miljoen euro" in part4


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


def test_similar_groups_earlier_questions_per_document(client: TestClient) -> None:
    draft = (
        "Scholen krijgen steeds vaker phishing binnen. Hoeveel scholen werden getroffen door ransomware of een "
        "datalek? Welke ondersteuning voor cyberveiligheid is er? " * 20
    )
    assert 2000 < len(draft) < 5000  # longer than a chat question may be
    response = client.post("/api/similar", json={"question": draft, "top_k": 3})
    assert response.status_code == 200, response.text
    docs = response.json()["documents"]
    assert docs[0]["doc_id"] == "sv_2023_1019"
    assert docs[0]["minister"].endswith("Katrien Wouters") and docs[0]["date"] == "2023-10-19"
    assert docs[0]["source_url"] == "http://testserver/doc/sv_2023_1019"
    assert len({d["doc_id"] for d in docs}) == len(docs) <= 3
    first = docs[0]["parts"][0]
    assert first["answer"] and first["source_url"].startswith("http://testserver/doc/sv_2023_1019?part=")


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
    assert 'href="doc/sv_2023_1019?part=1#part-1"' in html
    assert "Scholen - Phishing en kwaadaardige e-mails - sv_2023_1019, vraag 1 - " in html
    assert "\n\n" not in html  # one Markdown HTML block


def test_chat_answer_marks_highlights_says_references_and_lists_related(retriever: Assistant) -> None:
    answer = compose(FIETS, retriever.search(FIETS, {}, 8))
    html = answer_html(answer)
    assert "<mark>In 2022 werd 74,6 km fietssnelweg aangelegd of heraangelegd.</mark>" in html
    assert html.index("sv_2023_0302, vraag 1") < html.index("Ook relevant")
    referenced = compose("basisonderwijs", retriever.search("basisonderwijs", {"doc_id": "sv_2023_1019"}, 5))
    assert "vraag 4 verwijst naar vraag 3" in answer_html(referenced)


def test_chat_abstain_is_a_plain_message_with_suggestions(retriever: Assistant) -> None:
    answer = compose(FIETS, retriever.search(FIETS, {}, 5), ALWAYS)
    html = answer_html(answer)
    assert NO_ANSWER in html and "Misschien bedoelt u:" in html and "<blockquote" not in html


def test_similar_html_escapes_and_links(retriever: Assistant) -> None:
    html = similar_html(similar(retriever, PHISHING, top_k=2))
    assert 'href="doc/sv_2023_1019"' in html and "<script" not in html
    assert '<a class="pqa-link" href="doc/sv_2023_1019?part=1#part-1">Vraag 1:</a>' in html


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
        (FIETS, "vorig jaar", "Ongeldige datum voor date_from: &#x27;vorig jaar&#x27;; gebruik JJJJ-MM-DD"),
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
