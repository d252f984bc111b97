"""API fuzzing: schemathesis sends what the OpenAPI schema allows, and much it does not, to every route of the app
(over the sample corpus with the fake embedder, in process, no network); no request may end in a server error.

Bounded: a fixed number of generated examples per route, so the whole file runs in well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from assistant.config import Settings
from assistant.index import Index
from assistant.ingest import ingest
from assistant.staff import StaffLog
from assistant.web.app import Backend, create_app
from tests.conftest import CORPUS, fake_assistant
from tests.fakes import FakeEmbedder

EXAMPLES = 100
"""Generated examples per route (and per phase); the coverage phase adds its own edge cases on top."""


# Loaded when the module is imported (schemathesis's lazy `from_fixture` does not run on pytest 9): the schema does
# not depend on the index, so the app starts without one and the fixture below gives it the sample corpus.
APP = create_app(
    Settings(index_dir=Path("/nonexistent/fuzz-index"), client_per_minute=1_000_000)
)  # fuzzing is no flood
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """APP serving the sample corpus (fake embedder) for this module's tests."""
    folder = tmp_path_factory.mktemp("fuzz") / "idx"
    ingest([CORPUS], Index.open(folder), FakeEmbedder, model_name="fake", progress=False)
    before = APP.state.backend, APP.state.staff
    APP.state.backend = Backend(Settings(index_dir=folder), fake_assistant(folder))
    APP.state.staff = StaffLog.open(Settings(index_dir=folder))  # feedback beside this index, not /nonexistent
    yield APP
    APP.state.backend, APP.state.staff = before


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible, not a flake
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])


def test_the_schema_covers_the_api(app: FastAPI) -> None:
    """The fuzzing above reaches every route of the API, the widget's and the source view."""
    with TestClient(app) as c:
        paths = set(c.get("/openapi.json").json()["paths"])
    assert {"/api/ask", "/api/similar", "/api/documents/{doc_id}", "/doc/{doc_id}"} <= paths
    assert {"/api/widget/{key}/ask", "/api/widget/{key}/check"} <= paths


SURROGATE = '{"question": "fiets \\ud800"}'
"""A lone UTF-16 surrogate, which JSON can spell but no UTF-8 text holds (the fuzzer never sends one)."""


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/ask", {"question": "fiets", "top_k": 10**30}, 422),
        ("/api/ask", {"question": "fiets", "filters": {"date_from": "2023-02-30"}}, 400),
        ("/api/ask", {"question": "fiets", "filters": {"date_from": "\x00"}}, 400),
        ("/api/ask", {"question": "fiets", "filters": {"doc_id": "x" * 10_000}}, 200),
        ("/api/ask", {"question": "fiets \x00"}, 200),
        ("/api/similar", {"question": " " * 3 + "?" * 4_990}, 200),
        ("/api/ask", SURROGATE, 422),
        ("/api/similar", SURROGATE, 422),
        ("/api/widget/demo/ask", SURROGATE, 422),
        ("/api/ask", '{"question": "fiets", "filters": {"party": "\\udc00"}}', 422),
        ("/api/ask", '{"question": "\\ud800", "filters": {"\\udc00": 1}}', 422),  # echoed back in the 422
        ("/api/ask", b'{"question": "fiets \xff"}', 400),  # not UTF-8: FastAPI's own "error parsing the body"
        ("/api/ask", '{"question": "fiets", "top_k": 1e400}', 422),  # Python's json reads inf
        ("/api/ask", '{"question": "fiets", "top_k": NaN}', 422),
        ("/api/widget/demo/ask", "[1e400]", 422),
    ],
)
def test_odd_inputs_are_answered_or_refused_not_crashed(
    app: FastAPI, path: str, body: dict[str, object] | str | bytes, status: int
) -> None:
    """Inputs a fuzzer may or may not reach, kept as a table so that they run every time; each found a 500 once."""
    headers = {"Content-Type": "application/json", "Origin": "http://testserver"}  # the widget's own page
    with TestClient(app, raise_server_exceptions=False) as c:
        if isinstance(body, dict):
            response = c.post(path, json=body, headers=headers)
        else:
            response = c.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    data = response.json()
    assert ("answers" in data or "parts" in data) if status == 200 else data["detail"]
