"""Feedback and the question log for staff, end to end: the SQLite store, POST /api/feedback and the widget's route,
the chat's thumbs, the question log (off unless configured), the /staff page and its CSV downloads, and who may see
them (loopback, or the staff token; a forwarded header from no configured proxy makes no one loopback)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.application import Assistant
from assistant.config import Settings, WidgetKey
from assistant.errors import ConfigError
from assistant.staff import Feedback, Receipt, StaffLog, gap_key, to_csv
from assistant.web import feedback as chat_feedback
from assistant.web.app import create_app
from assistant.web.chat import converse
from assistant.web.markup import message_html
from tests.conftest import fake_assistant, ingest_sample

FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
UNKNOWN = "Hoeveel fipronilcrisissen waren er op Mars?"
TOKEN = "s3cret-staff-token-0123456789"
LOOPBACK = ("127.0.0.1", 51000)
REMOTE = ("10.1.2.3", 51000)
ORIGIN = "https://intranet.example.org"
KEY = WidgetKey("hr", origins=(ORIGIN,), per_minute=1000, per_client_per_minute=1000)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_sample(tmp_path_factory.mktemp("staff") / "idx")


@pytest.fixture(scope="module")
def assistant(index_dir: Path) -> Assistant:
    return fake_assistant(index_dir)


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "staff_db": tmp_path / "staff.sqlite3",
        "client_per_minute": 1000,
        "widgets": (KEY,),
        "question_log": True,
    }
    return Settings(**{**base, **kw})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return _settings(tmp_path, staff_token=TOKEN)


@pytest.fixture
def app(settings: Settings, assistant: Assistant) -> Any:
    from assistant.answer import AbstainPolicy

    # The fake embedder's similarities mean nothing: abstain on a question naming a word no document uses only.
    return create_app(settings, assistant, abstain_policy=AbstainPolicy(dutch=0.0, english=0.0, unknown_words=2.0))


@pytest.fixture
def local(app: Any) -> Iterator[TestClient]:
    with TestClient(app, client=LOOPBACK) as c:
        yield c


@pytest.fixture
def remote(app: Any) -> Iterator[TestClient]:
    with TestClient(app, client=REMOTE) as c:
        yield c


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------- the store


def test_the_question_log_writes_nothing_unless_configured(tmp_path: Path) -> None:
    off = StaffLog(tmp_path / "off.sqlite3")
    assert off.record(FIETS, {}, False, ["sv_2023_0302#1"], "api") is False
    assert off.questions() == [] and not (tmp_path / "off.sqlite3").exists()
    on = StaffLog(tmp_path / "on.sqlite3", log_questions=True)
    assert on.record(FIETS, {"party": "Groen"}, False, ["sv_2023_0302#1"], "chat")
    [asked] = on.questions()
    assert (asked.question, asked.channel, dict(asked.filters), asked.cited) == (
        FIETS,
        "chat",
        {"party": "Groen"},
        ("sv_2023_0302#1",),
    )


def test_feedback_beside_a_missing_index_is_refused_not_a_new_folder(tmp_path: Path, assistant: Assistant) -> None:
    settings = Settings(index_dir=tmp_path / "no-index", client_per_minute=1000)
    with TestClient(create_app(settings)) as c:
        response = c.post("/api/feedback", json={"rating": "up", "question": FIETS})
    assert response.status_code == 503 and "ASSISTANT_STAFF_DB" in response.json()["detail"]
    assert not (tmp_path / "no-index").exists()
    StaffLog.open(Settings(staff_db=tmp_path / "own" / "staff.sqlite3")).add_feedback(Feedback("up", FIETS))
    assert (tmp_path / "own" / "staff.sqlite3").exists()  # a file named on purpose gets its folder


def test_settings_keep_the_log_off_by_default_and_read_the_switches(tmp_path: Path) -> None:
    assert Settings.from_env({}).question_log is False
    s = Settings.from_env(
        {"ASSISTANT_QUESTION_LOG": "on", "ASSISTANT_STAFF_DB": str(tmp_path / "x.db"), "ASSISTANT_STAFF_TOKEN": TOKEN}
    )
    assert (s.question_log, s.staff_db, s.staff_token) == (True, tmp_path / "x.db", TOKEN)
    assert StaffLog.open(Settings(index_dir=tmp_path)).path == tmp_path / "staff.sqlite3"
    with pytest.raises(ConfigError, match="ASSISTANT_QUESTION_LOG"):
        Settings.from_env({"ASSISTANT_QUESTION_LOG": "maybe"})
    with pytest.raises(ConfigError, match="at least 16"):
        Settings.from_env({"ASSISTANT_STAFF_TOKEN": "short"})


def test_gaps_count_the_same_question_once_most_asked_first(tmp_path: Path) -> None:
    log = StaffLog(tmp_path / "s.sqlite3", log_questions=True)
    for q in (UNKNOWN, "hoeveel  fipronilcrisissen waren er op mars", "Wie won de Tour?", FIETS, UNKNOWN + "!"):
        log.record(q, {}, q != FIETS, [] if q != FIETS else ["sv_2023_0302#1"], "api")
    gaps = log.gaps()
    assert [(gap_key(g.question), g.count) for g in gaps] == [
        (gap_key(UNKNOWN), 3),
        ("wie won de tour", 1),
    ]
    assert gaps[0].question == UNKNOWN + "!"  # the latest wording
    assert gaps[0].first <= gaps[0].last


def test_feedback_is_amended_only_with_its_secret_and_can_be_withdrawn(tmp_path: Path) -> None:
    log = StaffLog(tmp_path / "s.sqlite3")
    receipt = log.add_feedback(Feedback("down", FIETS, ("sv_2023_0302#1",), "", "api"))
    assert not log.amend(Receipt(receipt.id, "wrong"), "up", "sneaky")
    assert log.amend(receipt, "down", "Over 2021, niet 2022.")
    [f] = log.feedback()
    assert (f.rating, f.comment, f.shown) == ("down", "Over 2021, niet 2022.", ("sv_2023_0302#1",))
    with pytest.raises(ConfigError, match="up"):
        log.add_feedback(Feedback("meh", FIETS))
    assert log.withdraw(receipt) and log.feedback() == []


def test_csv_quotes_cells_a_spreadsheet_would_run(tmp_path: Path) -> None:
    log = StaffLog(tmp_path / "s.sqlite3", log_questions=True)
    log.record('=HYPERLINK("http://evil")', {}, True, [], "api")
    [row] = _rows(to_csv(log, "questions"))
    assert row["question"] == '\'=HYPERLINK("http://evil")' and row["abstained"] == "ja"
    with pytest.raises(ConfigError, match="Unknown list"):
        to_csv(log, "secrets")


# ---------------------------------------------------------------- API, widget, chat


def test_api_feedback_is_stored_and_amended(local: TestClient, settings: Settings) -> None:
    body = {"rating": "down", "question": FIETS, "cited": ["sv_2023_0302#1"]}
    first = local.post("/api/feedback", json=body)
    assert first.status_code == 200, first.text
    receipt = first.json()
    amended = local.post("/api/feedback", json={**body, "comment": "Verkeerd jaar.", "amend": receipt})
    assert amended.status_code == 200 and amended.json()["id"] == receipt["id"]
    wrong = local.post("/api/feedback", json={**body, "amend": {"id": receipt["id"], "secret": "x"}})
    assert wrong.status_code == 404
    [f] = StaffLog.open(settings).feedback()
    assert (f.rating, f.comment, f.channel, f.shown) == ("down", "Verkeerd jaar.", "api", ("sv_2023_0302#1",))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"rating": "meh", "question": FIETS}, "rating"),
        ({"rating": "up", "question": ""}, "De vraag is leeg"),
        ({"rating": "up", "question": FIETS, "comment": "x" * 1001}, "comment"),
        ({"rating": "up", "question": FIETS, "cited": ["a#1"] * 21}, "cited"),
        ({"rating": "up", "question": FIETS, "extra": 1}, "extra"),
    ],
)
def test_api_feedback_refuses_bad_input_readably(local: TestClient, body: dict[str, Any], message: str) -> None:
    response = local.post("/api/feedback", json=body)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_api_feedback_is_rate_limited_per_client(tmp_path: Path, assistant: Assistant) -> None:
    with TestClient(create_app(_settings(tmp_path, client_per_minute=6), assistant)) as c:
        statuses = [c.post("/api/feedback", json={"rating": "up", "question": FIETS}).status_code for _ in range(3)]
    assert statuses == [200, 429, 429]  # a sixth of 6 in any 10 s: one
    assert len(StaffLog(tmp_path / "staff.sqlite3").feedback()) == 1


def test_questions_are_logged_from_api_widget_and_chat_with_filters_and_abstentions(
    local: TestClient, settings: Settings, assistant: Assistant
) -> None:
    answered = local.post("/api/ask", json={"question": FIETS, "filters": {"date_from": "2020-01-01"}}).json()
    assert local.post("/api/ask", json={"question": UNKNOWN}).json()["abstained"]
    widget = local.post(f"/api/widget/{KEY.name}/ask", json={"question": FIETS}, headers={"Origin": ORIGIN})
    assert widget.status_code == 200
    log = StaffLog.open(settings)
    converse(lambda: assistant, FIETS, {}, None, [], log=log)
    assert local.post("/api/ask", json={"question": ""}).status_code == 422  # not asked: not logged
    chat, widget_q, unknown, api_q = log.questions()
    assert [q.channel for q in (api_q, unknown, widget_q, chat)] == ["api", "api", "widget", "chat"]
    assert dict(api_q.filters) == {"date_from": "2020-01-01"} and not api_q.abstained
    first = answered["answers"][0]["citation"]
    assert api_q.cited[0] == f"{first['doc_id']}#{first['part']}"
    assert unknown.abstained and unknown.cited == ()
    assert [g.question for g in log.gaps()] == [UNKNOWN]


def test_nothing_is_logged_when_the_log_is_off(tmp_path: Path, assistant: Assistant) -> None:
    settings = _settings(tmp_path, question_log=False)
    with TestClient(create_app(settings, assistant), client=LOOPBACK) as c:
        assert c.post("/api/ask", json={"question": FIETS}).status_code == 200
        assert c.post("/api/feedback", json={"rating": "up", "question": FIETS}).status_code == 200
        page = c.get("/staff")
    log = StaffLog.open(settings)
    assert log.questions() == [] and len(log.feedback()) == 1
    assert "vragenlogboek staat uit" in page.text


def test_widget_feedback_needs_an_allowed_origin(local: TestClient, settings: Settings) -> None:
    body = {"rating": "up", "question": FIETS, "cited": ["sv_2023_0302#1"]}
    refused = local.post(f"/api/widget/{KEY.name}/feedback", json=body, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    given = local.post(f"/api/widget/{KEY.name}/feedback", json=body, headers={"Origin": ORIGIN})
    assert given.status_code == 200 and given.headers["access-control-allow-origin"] == ORIGIN
    [f] = StaffLog.open(settings).feedback()
    assert (f.channel, f.rating) == ("widget", "up")


@dataclass
class Like:
    """What gr.LikeData carries."""

    index: int
    liked: bool | str
    value: Any = None


def test_the_chats_thumbs_store_the_question_and_the_parts_shown(tmp_path: Path, assistant: Assistant) -> None:
    log = StaffLog(tmp_path / "s.sqlite3")
    answer_html, _ = converse(lambda: assistant, FIETS, {}, None)
    history = [
        {"role": "user", "content": message_html(FIETS)},
        # Gradio 6 hands content back as a list of text parts
        {"role": "assistant", "content": [{"type": "text", "text": answer_html}]},
    ]
    receipts, last, ask_comment = chat_feedback.liked(log, history, {}, Like(1, False))
    assert ask_comment and last == "1"
    [f] = log.feedback()
    assert (f.rating, f.question, f.channel) == ("down", FIETS, "chat")
    assert f.shown[0] == "sv_2023_0302#1"
    receipts, saved = chat_feedback.commented(log, "  Verkeerd jaar. ", receipts, last)
    assert saved and log.feedback()[0].comment == "Verkeerd jaar."
    receipts, _, _ = chat_feedback.liked(log, history, receipts, Like(1, True))  # turned to up: the same verdict
    assert [(f.rating, f.comment) for f in log.feedback()] == [("up", "Verkeerd jaar.")]
    chat_feedback.liked(log, history, receipts, Like(1, ""))  # the thumb taken back
    assert log.feedback() == []


def test_the_chat_shows_thumbs_and_wires_the_like_event(app: Any) -> None:
    blocks = next(r.app.blocks for r in app.routes if hasattr(getattr(r, "app", None), "blocks"))
    chatbot = next(b for b in blocks.blocks.values() if type(b).__name__ == "Chatbot")
    assert tuple(chatbot.feedback_options) == ("Like", "Dislike")
    assert any((chatbot._id, "like") in fn.targets for fn in blocks.fns.values())


# ---------------------------------------------------------------- the staff page


def _fill(client: TestClient) -> None:
    client.post("/api/ask", json={"question": FIETS})
    client.post("/api/ask", json={"question": UNKNOWN})
    client.post("/api/ask", json={"question": UNKNOWN.lower()})
    body = {"rating": "down", "question": "<script>alert(1)</script>", "comment": "Mis <b>", "cited": ["x#1"]}
    client.post("/api/feedback", json=body)


def test_the_staff_page_shows_gaps_feedback_and_questions_escaped(local: TestClient) -> None:
    _fill(local)
    page = local.get("/staff")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Kennislacunes" in page.text and UNKNOWN in page.text
    assert '<td class="n">2</td>' in page.text  # two askings of the unknown question, counted together
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert 'href="doc/x?part=1#part-1"' in page.text


def test_the_staff_csv_downloads(local: TestClient) -> None:
    _fill(local)
    gaps = local.get("/staff/gaps.csv")
    assert gaps.headers["content-type"].startswith("text/csv")
    assert "attachment" in gaps.headers["content-disposition"]
    assert [(r["question"], r["count"]) for r in _rows(gaps.text)] == [(UNKNOWN.lower(), "2")]
    questions = _rows(local.get("/staff/questions.csv").text)
    assert [r["abstained"] for r in questions] == ["ja", "ja", "nee"]
    [f] = _rows(local.get("/staff/feedback.csv").text)
    assert (f["rating"], f["comment"], f["shown"]) == ("down", "Mis <b>", "x#1")
    assert local.get("/staff/other.csv").status_code == 404
    assert _rows(local.get("/staff/questions.csv?sinds=2999-01-01").text) == []


@pytest.mark.parametrize("path", ["/staff", "/staff/questions.csv", "/staff/feedback.csv", "/staff/gaps.csv"])
def test_staff_routes_refuse_a_remote_client_without_the_token(remote: TestClient, path: str) -> None:
    assert remote.get(path).status_code == 403
    assert remote.get(path, headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 403
    assert remote.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert remote.get(path, headers={"X-Staff-Token": TOKEN}).status_code == 200


def test_a_forwarded_for_from_no_configured_proxy_is_never_loopback(local: TestClient) -> None:
    # A proxy on this machine that nobody configured forwards for the whole world: its requests are not loopback.
    assert local.get("/staff", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
    assert local.get("/staff", headers={"X-Forwarded-For": "8.8.8.8", "X-Staff-Token": TOKEN}).status_code == 200
    assert local.get("/staff").status_code == 200


def test_behind_a_configured_proxy_the_forwarded_client_decides(tmp_path: Path, assistant: Assistant) -> None:
    settings = _settings(tmp_path, forwarded_allow_ips=("127.0.0.1",))
    with TestClient(create_app(settings, assistant), client=LOOPBACK) as proxy:
        assert proxy.get("/staff", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
        assert proxy.get("/staff", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_without_a_token_configured_only_loopback_gets_in(tmp_path: Path, assistant: Assistant) -> None:
    with TestClient(create_app(_settings(tmp_path), assistant), client=REMOTE) as c:
        assert c.get("/staff", headers={"X-Staff-Token": TOKEN}).status_code == 403
    with TestClient(create_app(_settings(tmp_path), assistant), client=("::1", 5000)) as c:
        assert c.get("/staff").status_code == 200
