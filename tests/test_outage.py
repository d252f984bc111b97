"""Nothing lost under interruption and load: a Chroma server that stops, stalls or loses its collection costs the
requests made meanwhile a readable 503 (never a 500 or a hang), the app answers again by itself when the server is
back, and a load run on loopback (eval/load.py) sees no errors.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.answer import NEVER
from assistant.config import Settings
from assistant.errors import StoreUnavailableError
from assistant.index import Index
from assistant.index import vectors as index_module
from assistant.ingest import ingest
from assistant.web.app import create_app
from assistant.web.chat import reply
from tests.conftest import CORPUS, ROOT, fake_assistant
from tests.fakes import FakeEmbedder

FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
DOWN = "is not answering"


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("load", ROOT / "eval" / "load.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["load"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


load = _load_module()


class ChromaServer:
    """A `chroma run` on loopback that a test can stop, pause and start again on the same port and data folder."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, path: Path | None = None) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        cmd = [str(chroma), "run", "--path", str(path or self.path), "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/v2/heartbeat", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        pytest.fail("chroma run did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def pause(self) -> None:
        """Stalled, not gone: it still accepts connections but answers nothing."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-data"), load.free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def running(chroma: ChromaServer) -> Iterator[ChromaServer]:
    """The server, up at the start of the test and again at its end, whatever the test did to it."""
    if chroma.proc is None:
        chroma.start()
    yield chroma
    if chroma.proc is not None:
        chroma.resume()
    else:
        chroma.start()


@pytest.fixture(scope="module")
def index_dir(chroma: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("outage") / "idx"
    ingest([CORPUS], Index.open(folder, chroma.url), FakeEmbedder, model_name="fake", progress=False)
    assert not (folder / "chroma").exists()  # the vectors are on the server
    return folder


def _app(index_dir: Path, url: str) -> FastAPI:
    # the load below comes from one loopback client: no per-client limit in the way of what this test measures
    settings = Settings(index_dir=index_dir, chroma_url=url, model="fake", client_per_minute=1_000_000)
    return create_app(settings, fake_assistant(index_dir, url))


@pytest.fixture(scope="module")
def app(index_dir: Path, chroma: ChromaServer) -> FastAPI:
    return _app(index_dir, chroma.url)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def _best(response: Any) -> tuple[str, str]:  # a TestClient response (httpx or httpx2, by Starlette version)
    assert response.status_code == 200, response.text
    best = response.json()["answers"][0]["citation"]
    return best["doc_id"], best["part"]


def _timed_post(client: TestClient, path: str, body: dict[str, Any]) -> tuple[Any, float]:
    t = time.monotonic()
    response = client.post(path, json=body)
    return response, time.monotonic() - t


# ---------------------------------------------------------------- the server goes away and comes back


@pytest.mark.integration
def test_chroma_stopped_gives_a_readable_503_and_the_app_recovers_by_itself(
    client: TestClient, app: FastAPI, running: ChromaServer
) -> None:
    assert _best(client.post("/api/ask", json={"question": FIETS})) == ("sv_2023_0302", "1")

    running.stop()
    for path in ("/api/ask", "/api/similar"):
        response, seconds = _timed_post(client, path, {"question": FIETS})
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert DOWN in detail and running.url in detail and "`chroma run`" in detail
        assert seconds < 5
    # The chat shows the same message instead of failing (its callback catches what the API turns into 503) ...
    html = reply(app.state.backend.get, FIETS, {}, NEVER)
    assert DOWN in html and "chroma run" in html
    # ... and the pages that do not need the vectors still answer.
    assert client.get("/").status_code == 200
    assert client.get("/doc/sv_2023_0302").status_code == 200

    running.start()  # same port, same data folder; the app is not restarted
    assert _best(client.post("/api/ask", json={"question": FIETS})) == ("sv_2023_0302", "1")
    assert "74,6 km" in reply(app.state.backend.get, FIETS, {}, NEVER)


@pytest.mark.integration
def test_a_stalled_chroma_fails_within_the_timeout_not_never(
    index_dir: Path, running: ChromaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "READ_TIMEOUT_S", 1.5)
    with TestClient(_app(index_dir, running.url)) as c:
        assert _best(c.post("/api/ask", json={"question": FIETS})) == ("sv_2023_0302", "1")
        running.pause()
        response, seconds = _timed_post(c, "/api/ask", {"question": FIETS})
        assert response.status_code == 503 and DOWN in response.json()["detail"]
        assert seconds < 1.5 + 3
        t = time.monotonic()
        with pytest.raises(StoreUnavailableError, match=DOWN):
            Index.open_existing(index_dir, running.url)  # opening asks the heartbeat with the same timeouts
        assert time.monotonic() - t < 1.5 + 3
        running.resume()
        assert _best(c.post("/api/ask", json={"question": FIETS})) == ("sv_2023_0302", "1")


@pytest.mark.integration
def test_app_started_while_chroma_is_down_opens_the_index_once_it_is_up(
    index_dir: Path, running: ChromaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    running.stop()
    with TestClient(create_app(Settings(index_dir=index_dir, chroma_url=running.url, model="fake"))) as c:
        assert c.get("/").status_code == 200  # the chat starts anyway
        response = c.post("/api/ask", json={"question": FIETS})
        assert response.status_code == 503 and DOWN in response.json()["detail"]
        running.start()
        assert _best(c.post("/api/ask", json={"question": FIETS})) == ("sv_2023_0302", "1")


@pytest.mark.integration
def test_a_lost_or_rebuilt_collection(
    client: TestClient, index_dir: Path, running: ChromaServer, tmp_path: Path
) -> None:
    # Restarted on an empty data folder: the collection is gone; say so and how to fill it.
    running.stop()
    running.start(tmp_path / "empty")
    response = client.post("/api/ask", json={"question": FIETS})
    assert response.status_code == 503
    assert "no collection 'parts'" in response.json()["detail"] and "assistant ingest" in response.json()["detail"]
    running.stop()
    running.start()
    assert _best(client.post("/api/ask", json={"question": FIETS})) == ("sv_2023_0302", "1")
    # Rebuilt by another ingest while the app serves: a new collection of the same name, found again by name.
    ingest([CORPUS], Index.open(tmp_path / "other", running.url), FakeEmbedder, model_name="fake", rebuild=True)
    assert _best(client.post("/api/ask", json={"question": FIETS})) == ("sv_2023_0302", "1")


# ---------------------------------------------------------------- load


class Uvicorn:
    """The app on a loopback port, served by uvicorn in a thread of this process."""

    def __init__(self, app: FastAPI) -> None:
        import uvicorn

        self.url = f"http://127.0.0.1:{load.free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.mark.integration
def test_load_through_an_outage_gets_only_503s_and_answers_again(app: FastAPI, running: ChromaServer) -> None:
    bodies = load.read_questions(ROOT / "eval" / "sample.questions.jsonl")
    found: dict[str, Any] = {}
    with Uvicorn(app) as url:

        def drive() -> None:
            found["run"] = load.run_load(
                url, bodies, clients=4, seconds=10, probe_paths=["/", "/doc/sv_2023_0302"], probe_every=0.5, timeout=10
            )

        started = time.monotonic()
        driver = threading.Thread(target=drive)
        driver.start()
        time.sleep(1.5)
        running.stop()
        time.sleep(1.5)
        running.start()  # returns once the server answers its heartbeat
        back = time.monotonic() - started
        driver.join(timeout=60)
    assert not driver.is_alive()
    run = found["run"]
    result = load.summarize(run, {})
    assert set(result["errors"]) <= {"503"}, result["errors"]  # never a 500, a timeout or a dropped connection
    assert result["errors"], "the outage was not seen: the test proves nothing"
    assert result["timeline"][0]["ok"] > 0 and result["timeline"][0]["errors"] == 0
    # Sample times count from the load's own start, a little after `started`: these began after the server was up.
    after = [s for s in run.asks if s.at > back + 0.5]
    assert after, f"no requests after the server was back at {back:.1f} s: make the run longer"
    assert all(s.ok for s in after), [s for s in after if not s.ok][:5]  # answering again by itself
    assert all(p["n"] > 0 and not p["errors"] for p in result["probes"].values()), result["probes"]


def test_load_script_smoke(tmp_path: Path) -> None:
    """eval/load.py end to end: it starts its own server (fake embedder), 4 clients for 3 s, no errors."""
    cmd = [sys.executable, str(ROOT / "eval" / "load.py"), "--embedder", "fake", "--clients", "4", "--seconds", "3"]
    done = subprocess.run([*cmd, "--out", str(tmp_path)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "POST /api/ask" in done.stdout and "throughput" in done.stdout
    result = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    assert result["ok"] > 0 and result["errors"] == {} and result["ok"] == result["requests"]
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p95"] <= result["latency_ms"]["max"]
    assert {"/", "/doc/sv_2024_0213"} <= set(result["probes"])
    assert all(p["n"] > 0 and p["ok"] == p["n"] for p in result["probes"].values())


def test_load_refuses_a_server_elsewhere() -> None:
    with pytest.raises(SystemExit, match="this machine"):
        load.check_loopback("http://192.0.2.1:7860")
    assert load.check_loopback("http://127.0.0.1:7860/") == "http://127.0.0.1:7860"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        ([], {"p50": 0.0, "p95": 0.0, "max": 0.0}),
        ([0.001 * i for i in range(1, 101)], {"p50": 50, "p95": 95, "max": 100}),
    ],
)
def test_latency_percentiles_nearest_rank(seconds: list[float], expected: dict[str, float]) -> None:
    samples = [load.Sample(0.0, s, "200") for s in seconds]
    assert load.latency_ms(samples) == pytest.approx(expected)
