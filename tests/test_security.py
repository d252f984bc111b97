"""The probes of issue 17 as tests: framing and security headers, Gradio's routes closed and its queue bounded,
per-client limits, body caps without echoes, trusted hosts, X-Forwarded-* only from proxies, CORS on /api/* only,
no server paths, ids with "/", short 4xx for bad chat requests, and an offline /docs.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from limits.storage import MemoryStorage
from starlette.routing import Mount

from assistant.application import Assistant
from assistant.config import Settings, WidgetKey
from assistant.errors import ConfigError
from assistant.index import Index
from assistant.ingest import ingest
from assistant.web import security
from assistant.web.app import create_app
from assistant.web.widget.gate import WidgetGate
from assistant.web.widget.policy import Policy as WidgetPolicy
from tests.conftest import CORPUS, ROOT, fake_assistant
from tests.fakes import FakeEmbedder
from tests.test_browser import serving

FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
ALLOWED = "https://widget.example.org"
SLASHED = "2024/017"
SLASHED_DOC = {
    "id": SLASHED,
    "title": "Mobiliteit - Fietspaden langs gewestwegen",
    "question": "1. Hoeveel kilometer vrijliggend fietspad langs gewestwegen werd in 2023 aangelegd?",
    "answer": "1. In 2023 werd 37 kilometer vrijliggend fietspad langs gewestwegen aangelegd.",
}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("security")
    extra = root / "slashed.jsonl"
    extra.write_text(json.dumps(SLASHED_DOC) + "\n", encoding="utf-8")
    folder = root / "idx"
    ingest([CORPUS, extra], Index.open(folder), lambda: FakeEmbedder(), model_name="fake", progress=False)
    return folder


@pytest.fixture(scope="module")
def assistant(index_dir: Path) -> Assistant:
    return fake_assistant(index_dir)


def _app(assistant: Assistant, **settings: Any) -> FastAPI:
    return create_app(Settings(**settings), assistant, cors_origins=[ALLOWED])


@pytest.fixture(scope="module")
def client(assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(_app(assistant, client_per_minute=10_000)) as c:
        yield c


def _join(fn_index: int = 1, **overrides: Any) -> dict[str, Any]:
    """A queue/join body as the chat page sends it for `respond` (the question being asked, the chat, the turns and
    the language (server state), the conversation the browser keeps, and six filters)."""
    body = {
        "data": [FIETS, [], None, {"messages": [], "turns": []}, None, "", "", "", "", "", ""],
        "event_data": None,
        "fn_index": fn_index,
        "trigger_id": 6,
        "session_hash": "abcdef1234",
    }
    return {**body, **overrides}


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize("path", ["/", "/doc/sv_2023_0302", "/doc/no-such-doc", "/embed-demo", "/docs"])
def test_every_html_page_refuses_framing_and_sends_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_the_chat_page_csp_allows_only_this_origin(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "object-src 'none'" in csp
    assert "http" not in csp  # no other origin may serve scripts, styles or connections


def test_docs_render_offline(client: TestClient) -> None:
    page = client.get("/docs").text
    assert re.findall(r'(?:src|href)="(https?:)?//', page) == []  # nothing from a CDN
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == ["/docs-assets/swagger-ui-bundle.js"]
    assert client.get(scripts[0]).status_code == 200
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
    assert client.get("/redoc").status_code == 404  # ReDoc loads from a CDN: off


# ---------------------------------------------------------------- Gradio


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/gradio_api/call/respond"),
        ("POST", "/gradio_api/run/respond"),
        ("POST", "/gradio_api/api/respond"),
        ("POST", "/gradio_api/call/v2/respond"),
        ("GET", "/gradio_api/info"),
        ("GET", "/gradio_api/file=/etc/passwd"),
        ("GET", "/gradio_api/upload_progress"),
        ("POST", "/gradio_api/mcp/"),
        ("GET", "/monitoring"),
        ("POST", "/login"),
    ],
)
def test_gradio_routes_the_ui_does_not_use_are_closed(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={"data": [FIETS]})
    assert response.status_code == 404


def test_anonymous_uploads_are_refused(client: TestClient) -> None:
    response = client.post("/gradio_api/upload", files={"files": ("x.txt", b"A" * 10_000, "text/plain")})
    assert response.status_code == 404
    cross_site = client.post(
        "/gradio_api/upload", files={"files": ("x.txt", b"A")}, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 404


def test_the_chat_still_joins_its_queue(client: TestClient) -> None:
    response = client.post("/gradio_api/queue/join", json=_join())
    assert response.status_code == 200 and "event_id" in response.json()
    with client.stream("GET", "/gradio_api/queue/data?session_hash=abcdef1234") as events:
        assert events.status_code == 200
        for line in events.iter_lines():
            if "process_completed" in line:
                assert "fietssnelweg" in line
                break


def test_events_of_an_unknown_session_are_a_404_not_a_500(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="assistant.web"):
        response = client.get("/gradio_api/queue/data?session_hash=nosuchsession")
    assert response.status_code == 404 and "Traceback" not in caplog.text


def test_gradio_queue_is_bounded(client: TestClient) -> None:
    mounts = [r.app for r in client.app.routes if isinstance(r, Mount)]  # type: ignore[attr-defined]
    gradio = next(m for m in mounts if hasattr(m, "get_blocks"))
    blocks = gradio.get_blocks()
    assert blocks._queue.max_size == security.QUEUE_MAX
    assert blocks._queue.default_concurrency_limit == security.CHAT_CONCURRENCY


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (json.dumps(_join(fn_index=999)).encode(), "no event 999"),
        (json.dumps(_join(fn_index="1")).encode(), "fn_index"),
        (json.dumps(_join(session_hash="../../x")).encode(), "session_hash"),
        (json.dumps(_join(data=[FIETS])).encode(), "takes 11 inputs"),
        (json.dumps(_join(data=[FIETS, "not a history", None, {}, None, "", "", "", "", "", ""])).encode(), "input 1"),
    ],
)
def test_bad_chat_requests_are_a_short_4xx_not_a_500(
    client: TestClient, caplog: pytest.LogCaptureFixture, body: bytes, problem: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="assistant.web"):
        response = client.post("/gradio_api/queue/join", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and problem in response.json()["detail"]
    assert len(response.content) < 300
    lines = [r.getMessage() for r in caplog.records if r.name == "assistant.web"]
    assert len(lines) == 1 and problem in lines[0] and len(lines[0]) < 200 and "Traceback" not in caplog.text


# ---------------------------------------------------------------- limits and bodies


def test_one_client_is_limited_on_ask_similar_and_the_chat(assistant: Assistant) -> None:
    # 18 a minute: at most 3 in any 10 s, counted together over the three routes
    with TestClient(_app(assistant, client_per_minute=18)) as c:
        assert c.post("/api/ask", json={"question": FIETS}).status_code == 200
        assert c.post("/api/similar", json={"question": FIETS}).status_code == 200
        assert c.post("/gradio_api/queue/join", json=_join()).status_code == 200
        for path, body in [("/api/ask", {"question": FIETS}), ("/gradio_api/queue/join", _join())]:
            refused = c.post(path, json=body)
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert c.get("/doc/sv_2023_0302").status_code == 200  # reading is not limited
        with TestClient(c.app, client=("10.0.0.8", 50000)) as other:
            assert other.post("/api/ask", json={"question": FIETS}).status_code == 200


@pytest.mark.parametrize("path", ["/api/ask", "/api/similar", "/api/widget/demo/ask", "/gradio_api/queue/join"])
def test_bodies_over_the_cap_get_413(client: TestClient, path: str) -> None:
    limit = security.CHAT_BODY_MAX if path.startswith("/gradio_api") else security.API_BODY_MAX
    huge = json.dumps({"question": "x" * (limit + 1)})
    response = client.post(path, content=huge, headers={"Content-Type": "application/json", "Origin": ALLOWED})
    assert response.status_code == 413 and len(response.content) < 200


def test_a_body_without_content_length_is_capped_while_it_streams(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(100):
            yield b"x" * 8192
        yield b'"}'

    response = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_422_does_not_echo_the_input(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "x" * 60_000, "extra": "y" * 1000})
    assert response.status_code == 422 and "maximaal 2000" in response.json()["detail"]
    assert len(response.content) < 2_000 and "xxxxxxxxxx" not in response.text
    typed = client.post("/api/ask", json={"question": FIETS, "top_k": "z" * 50_000})
    assert typed.status_code == 422 and len(typed.content) < 2_000


# ---------------------------------------------------------------- hosts and proxies


@pytest.mark.parametrize("path", ["/", "/api/documents/sv_2023_1019", "/doc/sv_2023_1019"])
def test_a_foreign_host_header_is_refused(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Host": "attacker.example:7881"})
    assert response.status_code == 400 and "attacker" not in response.text


def test_the_widget_self_origin_cannot_be_claimed_through_the_host(client: TestClient) -> None:
    headers = {"Host": "attacker.example", "Origin": "http://attacker.example"}
    assert client.post("/api/widget/demo/ask", json={"question": FIETS}, headers=headers).status_code == 400


def test_allowed_hosts_default_to_the_bind_host_and_localhost() -> None:
    assert set(Settings(host="10.1.2.3").hosts()) >= {"10.1.2.3", "localhost", "127.0.0.1"}
    assert "0.0.0.0" not in Settings(host="0.0.0.0").hosts()
    env = {"ASSISTANT_ALLOWED_HOSTS": "qa.intranet.example.org, *.example.net"}
    assert Settings.from_env(env).hosts() == ("qa.intranet.example.org", "*.example.net")
    with pytest.raises(ConfigError, match="ASSISTANT_ALLOWED_HOSTS"):
        Settings.from_env({"ASSISTANT_ALLOWED_HOSTS": "https://qa.example.org/"})
    with pytest.raises(ConfigError, match="ASSISTANT_FORWARDED_ALLOW_IPS"):
        Settings.from_env({"ASSISTANT_FORWARDED_ALLOW_IPS": "proxy.example"})
    with pytest.raises(ConfigError, match="ASSISTANT_RATE_LIMIT_STORAGE"):
        Settings.from_env({"ASSISTANT_RATE_LIMIT_STORAGE": "mysql://x"})
    assert Settings.from_env({"ASSISTANT_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0"}).rate_limit_storage


def test_a_configured_host_is_answered(assistant: Assistant) -> None:
    with TestClient(_app(assistant, allowed_hosts=("qa.intranet.example.org",))) as c:
        data = c.get("/api/documents/sv_2023_1019", headers={"Host": "qa.intranet.example.org"}).json()
        assert data["source_url"] == "http://qa.intranet.example.org/doc/sv_2023_1019"
        assert c.get("/api/documents/sv_2023_1019", headers={"Host": "localhost"}).status_code == 400


def test_forwarded_for_from_a_client_that_is_no_proxy_is_ignored(assistant: Assistant) -> None:
    with TestClient(_app(assistant, client_per_minute=12)) as c:
        statuses = [
            c.post("/api/ask", json={"question": FIETS}, headers={"X-Forwarded-For": f"10.9.0.{i}"}).status_code
            for i in range(3)
        ]
    assert statuses == [200, 200, 429]  # a fresh X-Forwarded-For per request does not make a fresh client


def test_forwarded_for_from_a_configured_proxy_names_the_client(assistant: Assistant) -> None:
    # TestClient's peer is "testclient"; a real deployment names the proxy's address (127.0.0.1, 10.0.0.0/8).
    with TestClient(_app(assistant, client_per_minute=12, forwarded_allow_ips=("testclient",))) as c:
        statuses = [
            c.post("/api/ask", json={"question": FIETS}, headers={"X-Forwarded-For": f"10.9.0.{i}"}).status_code
            for i in range(3)
        ]
        assert statuses == [200, 200, 200]
        headers = {"X-Forwarded-Host": "attacker.example", "X-Forwarded-For": "10.9.0.9"}
        assert c.get("/", headers=headers).status_code == 400


def test_forwarded_host_from_a_client_that_is_no_proxy_never_reaches_the_page(client: TestClient) -> None:
    page = client.get("/", headers={"X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"})
    assert page.status_code == 200 and "attacker.example" not in page.text


# ---------------------------------------------------------------- CORS, paths, ids


@pytest.mark.parametrize("path", ["/", "/doc/sv_2023_0302", "/gradio_api/queue/data?session_hash=abc", "/docs"])
def test_cors_is_for_the_api_only(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(path, headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}).headers.get(
        "access-control-allow-origin"
    )
    assert preflight is None
    api = client.post("/api/ask", json={"question": FIETS}, headers={"Origin": ALLOWED})
    assert api.headers["access-control-allow-origin"] == ALLOWED


def test_no_server_paths_in_responses(client: TestClient, index_dir: Path, tmp_path: Path) -> None:
    data = client.get("/api/documents/sv_2023_1019").json()
    assert data["source"] == "sv_2023_1019.txt"
    assert str(CORPUS) not in json.dumps(data)
    with TestClient(create_app(Settings(index_dir=tmp_path / "nothing"))) as c:
        missing = c.post("/api/ask", json={"question": FIETS})
    assert missing.status_code == 503 and str(tmp_path) not in missing.text and "nothing/" in missing.text


def test_an_id_with_a_slash_works_end_to_end(client: TestClient) -> None:
    data = client.post("/api/ask", json={"question": SLASHED_DOC["question"][3:]}).json()
    best = data["answers"][0]
    assert best["citation"]["doc_id"] == SLASHED
    assert best["source_url"] == "http://testserver/doc/2024%2F017?part=1#part-1"
    page = client.get(best["source_url"])
    assert page.status_code == 200 and "37 kilometer" in page.text
    doc = client.get("/api/documents/2024%2F017")
    assert doc.status_code == 200 and doc.json()["doc_id"] == SLASHED


# ---------------------------------------------------------------- the queue flood, over HTTP


def _load_flood() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flood", ROOT / "eval" / "flood.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_queue_flood_leaves_a_normal_chat_answer_fast(assistant: Assistant) -> None:
    """120 call/respond and 120 queue/join from one client behind the proxy: the calls are 404, the joins past the
    client's burst 429, and another visitor's chat question is answered in under 2 s."""
    flood = _load_flood()
    app = create_app(Settings(forwarded_allow_ips=("127.0.0.1",)), assistant)
    with serving(app) as url:
        result = asyncio.run(flood.flood(url, requests=120, forwarded=True, timeout=30))
    assert result["call_respond"] == {"404": 120}
    assert set(result["queue_join"]) == {"200", "429"} and result["queue_join"]["200"] <= 10
    assert result["normal_outcome"] == "answer" and result["normal_after_s"] < 2.0, result


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _LoopNotingStorage(MemoryStorage):
    """A memory store that notes, for each of its calls, whether it ran on the event loop (Redis would block it)."""

    def __init__(self) -> None:
        super().__init__()
        self.on_loop: list[bool] = []

    def incr(self, *args: Any, **kwargs: Any) -> int:
        self.on_loop.append(_on_event_loop())
        return super().incr(*args, **kwargs)

    def acquire_entry(self, *args: Any, **kwargs: Any) -> bool:
        self.on_loop.append(_on_event_loop())
        return super().acquire_entry(*args, **kwargs)

    def get_moving_window(self, *args: Any, **kwargs: Any) -> tuple[float, int]:
        self.on_loop.append(_on_event_loop())
        return super().get_moving_window(*args, **kwargs)


def test_the_rate_limit_stores_are_asked_off_the_event_loop() -> None:
    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    client_store, widget_store = _LoopNotingStorage(), _LoopNotingStorage()
    key = WidgetKey("intranet", origins=("https://intranet.example.org",))
    gated = WidgetGate(endpoint, policy=WidgetPolicy({key.name: key}, widget_store))
    c = TestClient(security.ClientLimits(gated, client_store, per_minute=60))  # no `with`: a bare stack, no lifespan
    assert c.post("/api/ask", json={}).status_code == 200
    widget = c.post("/api/widget/intranet/ask", json={}, headers={"Origin": "https://intranet.example.org"})
    assert widget.status_code == 200
    assert client_store.on_loop and not any(client_store.on_loop)
    assert widget_store.on_loop and not any(widget_store.on_loop)


def test_concurrent_searches_never_pass_the_limit_together() -> None:
    # _wait runs on worker threads: its test-then-count must be one step, or parallel requests slip past the limit
    class Slow(MemoryStorage):  # a store with a round trip, as Redis has: the window where requests can race
        def get_moving_window(self, *args: Any, **kwargs: Any) -> tuple[float, int]:
            time.sleep(0.01)
            return super().get_moving_window(*args, **kwargs)

    limits = security.ClientLimits(lambda *a: None, Slow(), per_minute=6)  # type: ignore[arg-type]
    key = WidgetKey("intranet", per_client_per_minute=3)
    widget = WidgetPolicy({key.name: key}, Slow())
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(lambda _: limits._wait("10.0.0.9"), range(40)))
        spent = list(pool.map(lambda _: widget.spend(key, "10.0.0.9"), range(40)))
    assert waits.count(0) == 1  # a sixth of 6 a minute in any 10 s: one
    assert spent.count(None) == 3
