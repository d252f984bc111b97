"""Follow-up questions over HTTP: `history` on /api/ask and the widget's ask is checked like a question (a clear
4xx, never a 500), and a follow-up's answer says what was understood."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.application import Assistant
from assistant.config import Settings, WidgetKey
from assistant.index import Index
from assistant.ingest import ingest
from assistant.web.app import create_app
from assistant.web.chat import converse
from tests.conftest import fake_assistant
from tests.fakes import FakeEmbedder
from tests.series import FIN_ID, FIRST, FOLLOWUP, JUS_FIGURE, JUS_ID, write_series_corpus

HOST = "https://host.example"
KEY = WidgetKey("conv", origins=(HOST,), per_minute=1000, per_client_per_minute=1000)


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("history")
    folder = root / "idx"
    ingest([write_series_corpus(root / "corpus")], Index.open(folder), FakeEmbedder, model_name="fake", progress=False)
    return fake_assistant(folder)


@pytest.fixture(scope="module")
def client(series: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(widgets=(KEY,)), series)) as c:
        yield c


def _post(client: TestClient, body: dict[str, Any], widget: bool = False) -> Any:
    # json.dumps writes a lone surrogate as \ud800, as a browser's JSON.stringify does
    headers = {"Content-Type": "application/json", **({"Origin": HOST} if widget else {})}
    path = f"/api/widget/{KEY.name}/ask" if widget else "/api/ask"
    return client.post(path, content=json.dumps(body), headers=headers)


def _cited(data: dict[str, Any]) -> list[str]:
    return [f"{h['citation']['doc_id']}#{h['citation']['part']}" for h in data["answers"] + data["related"]]


@pytest.mark.parametrize("widget", [False, True], ids=["api", "widget"])
def test_a_followup_is_answered_from_the_conversation_and_says_what_was_understood(
    client: TestClient, widget: bool
) -> None:
    first = _post(client, {"question": FIRST}, widget)
    assert first.status_code == 200, first.text
    data = first.json()
    assert data["understood"] == ""
    assert _cited(data)[0] == f"{FIN_ID}#1"
    history = [{"question": FIRST, "cited": _cited(data)}]
    response = _post(client, {"question": FOLLOWUP, "history": history}, widget)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["answers"][0]["citation"]["doc_id"] == JUS_ID
    assert data["answers"][0]["citation"]["part"] == "1"
    assert JUS_FIGURE in data["answers"][0]["answer"]
    assert data["understood"].startswith("Ik begreep: ")
    assert "justitie" in data["understood"].lower()
    assert data["understood"].endswith("(vervolg op uw vorige vraag)")
    assert data["resolved"]["followup"] is True
    assert "Justitie" in data["resolved"]["query"]
    # the same question without the conversation is taken as it stands
    alone = _post(client, {"question": FOLLOWUP}, widget).json()
    assert alone["understood"] == ""
    assert alone["resolved"] is None


def test_an_empty_history_is_a_plain_question(client: TestClient) -> None:
    data = _post(client, {"question": FIRST, "history": []}).json()
    assert data["understood"] == ""
    assert _cited(data)[0] == f"{FIN_ID}#1"


TURN = {"question": FIRST, "cited": [f"{FIN_ID}#1"]}


@pytest.mark.parametrize("widget", [False, True], ids=["api", "widget"])
@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([TURN] * 11, "De geschiedenis telt 11 beurten, maximaal 10. / The history has 11 turns, at most 10."),
        ([TURN, {"cited": []}], "Beurt 2 van de geschiedenis is onleesbaar (question)"),
        ([{"question": FIRST, "cited": "vd_2017_fin#1"}], "Beurt 1 van de geschiedenis is onleesbaar (cited)"),
        ([{"question": FIRST, "cited": [3]}], "History turn 1 is malformed (cited.0"),
        (["Hoeveel?"], "Beurt 1 van de geschiedenis is onleesbaar"),
        ([{"question": FIRST, "cited": [], "answer": "x"}], "History turn 1 is malformed (answer"),
        ("Hoeveel?", "Invalid input in history"),
        ([TURN, {"question": "x" * 2001, "cited": []}], "Geschiedenis, beurt 2: De vraag is te lang: 2001 tekens"),
        ([{"question": "  ", "cited": []}], "Geschiedenis, beurt 1: De vraag is leeg"),
        ([{"question": FIRST, "cited": [f"{FIN_ID}#1"] * 11}], "At most 10 cited parts per turn"),
        ([{"question": FIRST, "cited": ["x" * 201]}], "as 'doc#part'"),
        ([{"question": "a\ud800b", "cited": []}], "Geschiedenis, beurt 1: De vraag bevat een ongeldig teken"),
    ],
    ids=[
        "11-turns",
        "no-question",
        "cited-not-a-list",
        "cited-not-text",
        "turn-not-an-object",
        "unknown-field",
        "history-not-a-list",
        "question-too-long",
        "question-empty",
        "too-many-cited",
        "cited-too-long",
        "surrogate",
    ],
)
def test_bad_history_is_a_4xx_with_a_clear_message(
    client: TestClient, history: Any, expected: str, widget: bool
) -> None:
    response = _post(client, {"question": FOLLOWUP, "history": history}, widget)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert expected in detail
    assert "/" in detail  # Dutch / English


def test_a_history_too_big_for_the_widget_body_cap_is_413_not_500(client: TestClient) -> None:
    history = [{"question": "é" * 2000, "cited": []}] * 10
    response = _post(client, {"question": FOLLOWUP, "history": history}, widget=True)
    assert response.status_code == 413
    assert "bytes" in response.json()["detail"]


def test_the_chat_sends_its_turns_and_shows_what_it_understood(series: Assistant) -> None:
    html, first = converse(lambda: series, FIRST, {}, None, [])
    assert first is not None and first["cited"][0] == f"{FIN_ID}#1" and first["understood"] == ""
    assert "pqa-understood" not in html
    # a question that could not be asked is said to the user and is no part of the conversation
    html, failed = converse(lambda: series, "x" * 2001, {}, None, [first])
    assert failed is None and "te lang" in html
    html, followup = converse(lambda: series, FOLLOWUP, {}, None, [first])
    assert followup is not None and followup["cited"][0] == f"{JUS_ID}#1"
    assert followup["understood"].startswith("Ik begreep: ")
    assert '<p class="pqa-understood">Ik begreep: ' in html
    assert html.index("pqa-understood") < html.index(JUS_FIGURE)
