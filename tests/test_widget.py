"""The widget's server side: keys select allowed origins, filters and rate limits; refusals are 403 without CORS
headers and without answers; the config file's mistakes are named; /widget.js and /embed-demo are served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.application import Assistant
from assistant.config import DEMO_KEY, Settings, WidgetKey, load_widgets
from assistant.errors import ConfigError
from assistant.web.app import create_app
from assistant.web.widget import BODY_MAX, snippet
from tests.conftest import fake_assistant, ingest_sample

ALLOWED = "https://intranet.example.org"
OTHER = "https://evil.example"
FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
KEYS = (
    WidgetKey("intranet-hr", origins=(ALLOWED,), per_minute=1000, per_client_per_minute=1000),
    WidgetKey("schools", origins=(ALLOWED,), per_minute=1000, per_client_per_minute=1000,
              filters={"doc_id": "sv_2023_1019"}),
    WidgetKey("tiny", origins=(ALLOWED,), per_minute=1000, per_client_per_minute=2),
    WidgetKey("shared", origins=(ALLOWED,), per_minute=3, per_client_per_minute=1000),
)  # fmt: skip


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    folder = ingest_sample(tmp_path_factory.mktemp("widget") / "idx")
    return fake_assistant(folder)


@pytest.fixture(scope="module")
def client(retriever: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(widgets=KEYS), retriever, cors_origins=[OTHER])) as c:
        yield c


def _ask(client: TestClient, key: str, origin: str | None, question: str = FIETS, **body: Any) -> Any:
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/api/widget/{key}/ask", json={"question": question, **body}, headers=headers)


def _preflight(client: TestClient, key: str, origin: str) -> Any:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    return client.options(f"/api/widget/{key}/ask", headers=headers)


# ---------------------------------------------------------------- answers for allowed origins


def test_allowed_origin_gets_a_cited_answer_with_cors(client: TestClient) -> None:
    response = _ask(client, "intranet-hr", ALLOWED)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "Origin" in response.headers["vary"]
    best = response.json()["answers"][0]
    assert "74,6 km" in best["answer"]
    assert best["source_url"] == "http://testserver/doc/sv_2023_0302?part=1#part-1"
    label = best["citation"]["label"]
    assert label.startswith("Fietssnelwegen - Aanleg en investeringen in 2022 - sv_2023_0302, vraag 1 - ")


def test_the_keys_filters_are_enforced_over_the_pages(client: TestClient) -> None:
    response = _ask(client, "schools", ALLOWED, filters={"doc_id": "sv_2023_0302"})
    data = response.json()
    cited = {h["citation"]["doc_id"] for h in data["answers"] + data["related"]}
    assert cited == {"sv_2023_1019"}


def test_nothing_found_under_the_keys_filters_names_them_but_offers_no_search_without(client: TestClient) -> None:
    data = _ask(client, "schools", ALLOWED, filters={"date_from": "2030-01-01"}).json()
    assert data["abstained"] and data["found_without_filters"] is None
    assert data["message"].endswith("met deze filters: gesteld vanaf 2030-01-01, document 'sv_2023_1019'.")


def test_bad_input_is_readable_by_the_allowed_page(client: TestClient) -> None:
    response = _ask(client, "intranet-hr", ALLOWED, question="x" * 2001)
    assert response.status_code == 422
    assert "maximaal 2000" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == ALLOWED
    response = _ask(client, "intranet-hr", ALLOWED, filters={"ministre": "x"})
    assert response.status_code == 400 and "Onbekende filter" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == ALLOWED


def test_a_body_over_the_cap_is_413(client: TestClient) -> None:
    body = json.dumps({"question": FIETS, "filters": {"asker": "x" * BODY_MAX}})
    response = client.post(
        "/api/widget/intranet-hr/ask", content=body, headers={"Origin": ALLOWED, "Content-Type": "application/json"}
    )
    assert response.status_code == 413 and "16384 bytes" in response.json()["detail"]
    # Without a Content-Length (chunked), the body is counted as it arrives.
    chunks = iter([body[:8000].encode(), body[8000:].encode()])
    response = client.post(
        "/api/widget/intranet-hr/ask", content=chunks, headers={"Origin": ALLOWED, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("key", "origin", "reason", "words"),
    [
        ("intranet-hr", OTHER, "origin", "widget-sleutel 'intranet-hr' niet toegestaan voor https://evil.example"),
        ("intranet-hr", "null", "origin", "niet toegestaan voor null"),
        ("intranet-hr", ALLOWED + ".evil.example", "origin", "niet toegestaan"),
        ("intranet-hr", None, "no_origin", "Geen Origin-header"),
        ("nope", ALLOWED, "unknown_key", "onbekende widget-sleutel 'nope'"),
        ("demo", ALLOWED, "origin", "widget-sleutel 'demo' niet toegestaan"),
    ],
)
def test_refused_requests_get_403_without_cors_or_answers(
    client: TestClient, key: str, origin: str | None, reason: str, words: str
) -> None:
    response = _ask(client, key, origin)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert response.json()["reason"] == reason and words in response.json()["detail"]
    assert "74,6" not in response.text and "answers" not in response.json()


def test_the_sites_cors_origins_do_not_open_the_widget(client: TestClient) -> None:
    # OTHER may call /api/ask from a browser (cors_origins), but no widget key lists it.
    site = client.post("/api/ask", json={"question": FIETS}, headers={"Origin": OTHER})
    assert site.headers.get("access-control-allow-origin") == OTHER
    response = _ask(client, "intranet-hr", OTHER)
    assert response.status_code == 403 and "access-control-allow-origin" not in response.headers


def test_preflight_is_answered_per_key(client: TestClient) -> None:
    allowed = _preflight(client, "intranet-hr", ALLOWED)
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert allowed.headers["access-control-allow-methods"] == "POST"
    assert allowed.headers["access-control-allow-headers"].lower() == "content-type"
    for key, origin in (("intranet-hr", OTHER), ("nope", ALLOWED)):
        refused = _preflight(client, key, origin)
        assert refused.status_code == 403
        assert not any(h.startswith("access-control-") for h in refused.headers)


def test_check_tells_any_page_whether_it_may_use_a_key(client: TestClient) -> None:
    def check(key: str, origin: str) -> Any:
        response = client.post(f"/api/widget/{key}/check", headers={"Origin": origin})
        assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
        return response.json()

    assert check("intranet-hr", ALLOWED)["allowed"] is True
    refused = check("intranet-hr", OTHER)
    assert refused["allowed"] is False and refused["reason"] == "origin" and refused["origin"] == OTHER
    assert "Deze website mag de assistent niet gebruiken" in refused["detail"]
    assert check("nope", ALLOWED)["reason"] == "unknown_key"


# ---------------------------------------------------------------- rate limits


def test_past_the_per_client_limit_is_429_with_retry_after(client: TestClient) -> None:
    assert [_ask(client, "tiny", ALLOWED).status_code for _ in range(2)] == [200, 200]
    response = _ask(client, "tiny", ALLOWED)
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["retry_after"] == int(response.headers["retry-after"])
    assert "Te veel vragen van uw toestel" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == ALLOWED  # the widget can read why
    assert "retry-after" in response.headers["access-control-expose-headers"].lower()
    # Another client still gets answers: the limit is per client.
    with TestClient(client.app, client=("10.0.0.7", 50000)) as other:
        assert _ask(other, "tiny", ALLOWED).status_code == 200


def test_past_the_per_key_limit_every_client_waits(client: TestClient) -> None:
    for n in range(3):
        with TestClient(client.app, client=(f"10.0.1.{n}", 50000)) as c:
            assert _ask(c, "shared", ALLOWED).status_code == 200
    with TestClient(client.app, client=("10.0.1.99", 50000)) as c:
        response = _ask(c, "shared", ALLOWED)
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
    assert "Te veel vragen via deze website" in response.json()["detail"]


def test_refusals_do_not_spend_the_keys_budget(client: TestClient) -> None:
    with TestClient(client.app, client=("10.0.2.1", 50000)) as c:
        for _ in range(3):
            assert _ask(c, "tiny", OTHER).status_code == 403
        assert _ask(c, "tiny", ALLOWED).status_code == 200


# ---------------------------------------------------------------- the built-in demo key and the pages


def test_demo_key_allows_only_the_servers_own_origin(retriever: Assistant) -> None:
    with TestClient(create_app(Settings(), retriever)) as c:
        assert _ask(c, "demo", "http://testserver").status_code == 200
        assert _ask(c, "demo", "https://testserver.evil.example").status_code == 403
        assert _ask(c, "intranet-hr", "http://testserver").status_code == 403


def test_a_widgets_file_may_redefine_the_demo_key() -> None:
    assert Settings().widget_keys() == {"demo": DEMO_KEY}
    closed = WidgetKey("demo", origins=())
    assert Settings(widgets=(closed,)).widget_keys()["demo"] == closed


def test_widget_js_is_served_and_inserts_no_html(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["x-content-type-options"] == "nosniff"
    js = response.text
    assert "attachShadow" in js and "textContent" in js and ":host { all: initial !important; }" in js
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js


def test_embed_demo_shows_the_snippet_as_text_and_loads_it(client: TestClient) -> None:
    response = client.get("/embed-demo")
    assert response.status_code == 200
    page = response.text
    tag = snippet("http://testserver/")
    assert snippet("https://x/", "k", 'Q&A "HR"').endswith(
        'data-key="k" data-title="Q&amp;A &quot;HR&quot;" defer></script>'
    )
    assert tag == (
        '<script src="http://testserver/widget.js" data-key="demo" data-title="Schriftelijke vragen" defer></script>'
    )
    assert tag in page  # loaded
    assert "&lt;script src=&quot;http://testserver/widget.js&quot; data-key=&quot;demo&quot;" in page  # shown
    assert "script-src 'self'" in response.headers["content-security-policy"]


# ---------------------------------------------------------------- the configuration file


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "widgets.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_widgets_file_is_read_from_the_environment(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        json.dumps(
            {
                "intranet-hr": {
                    "origins": ["https://intranet.example.org", "self"],
                    "per_minute": 60,
                    "per_client_per_minute": 20,
                    "filters": {"department": "Onderwijs"},
                },
                "kiosk": {"origins": ["http://127.0.0.1:8080"]},
            }
        ),
    )
    settings = Settings.from_env({"ASSISTANT_WIDGETS": str(path)})
    keys = settings.widget_keys()
    assert keys["intranet-hr"] == WidgetKey(
        "intranet-hr", ("https://intranet.example.org", "self"), 60, 20, {"department": "Onderwijs"}
    )
    assert keys["kiosk"].per_minute == DEMO_KEY.per_minute and keys["kiosk"].filters == {}
    assert set(keys) == {"intranet-hr", "kiosk", "demo"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "is not valid JSON (line 1, column 2"),
        ('["https://a.example"]', "expected a JSON object of widget keys"),
        ('{"hr": ["https://a.example"]}', "widget key 'hr': expected an object"),
        ('{"h r": {"origins": []}}', "widget key 'h r': a key is 1-64 letters"),
        ('{"hr": {}}', '"origins" must be a list'),
        ('{"hr": {"origins": "https://a.example"}}', '"origins" must be a list'),
        ('{"hr": {"origins": ["https://a.example/"]}}', "origin 'https://a.example/' must be scheme://host[:port]"),
        ('{"hr": {"origins": ["*"]}}', "origin '*' must be scheme://host[:port]"),
        ('{"hr": {"origins": ["HTTPS://A.example"]}}', "in lower case"),
        ('{"hr": {"origins": [], "per_minute": 0}}', "'per_minute' must be a whole number of at least 1, got 0"),
        ('{"hr": {"origins": [], "per_client_per_minute": "20"}}', "'per_client_per_minute' must be a whole number"),
        ('{"hr": {"origins": [], "per_minut": 5}}', "unknown field 'per_minut'"),
        ('{"hr": {"origins": [], "filters": {"ministre": "x"}}}', "Unknown filter 'ministre'"),
        ('{"hr": {"origins": [], "filters": {"date_from": "2023"}}}', "Invalid date for date_from: '2023'"),
        ('{"hr": {"origins": [], "filters": ["x"]}}', '"filters" must be an object of strings'),
    ],
)
def test_widgets_file_mistakes_name_the_file_and_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_widgets(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_a_missing_widgets_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match=f"ASSISTANT_WIDGETS file {missing} cannot be read"):
        Settings.from_env({"ASSISTANT_WIDGETS": str(missing)})
