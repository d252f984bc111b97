"""Two `assistant serve` processes over one `chroma run` and one `redis-server`: the rate limits are the replicas'
together (Redis), and both see what one ingest, run as its own process, wrote. ASSISTANT_MODEL=fake: the model-free
hashing embedder, so nothing loads a model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import CORPUS, ROOT
from tests.test_outage import ChromaServer, load

CLI = [sys.executable, "-c", "import sys; from assistant.cli import main; sys.exit(main())"]

ORIGIN = "https://intranet.example.org"
PER_MINUTE = 6
FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
LATE = {
    "id": "late_2024_0001",
    "title": "Mobiliteit - Deelsteps op het voetpad",
    "question": "1. Hoeveel deelsteps werden in 2024 door de politie van het voetpad verwijderd?",
    "answer": "1. In 2024 verwijderde de politie 4.812 deelsteps van het voetpad.",
}


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server is not installed (apt-get install -y redis-server; `make test` does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _wait(url: str, proc: subprocess.Popen[bytes], what: str, limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with status {proc.returncode}")
        try:
            if httpx.get(url, timeout=2, trust_env=False).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{what} did not answer {url} within {limit:.0f} s")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    port = load.free_port()
    cmd = [_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    import redis

    client = redis.Redis(port=port)
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                load.stop(proc)
                pytest.fail("redis-server did not start")
            time.sleep(0.2)
    yield f"redis://127.0.0.1:{port}/0"
    load.stop(proc)


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("replicas-chroma"), load.free_port())
    server.start()
    yield server
    server.stop()


def _ingest(path: Path, index_dir: Path, chroma: ChromaServer) -> None:
    """`assistant ingest` as its own job, as in a deployment."""
    env = {**os.environ, "ASSISTANT_MODEL": "fake", "ASSISTANT_CHROMA_URL": chroma.url}
    cmd = [*CLI, "ingest", str(path), "--index", str(index_dir), "--quiet"]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, timeout=300)


@pytest.fixture(scope="module")
def index_dir(chroma: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("replicas") / "idx"
    _ingest(CORPUS, folder, chroma)
    return folder


@pytest.fixture(scope="module")
def replicas(
    index_dir: Path, chroma: ChromaServer, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    widgets = tmp_path_factory.mktemp("widgets") / "widgets.json"
    key = {"origins": [ORIGIN], "per_minute": PER_MINUTE, "per_client_per_minute": 100}
    widgets.write_text(json.dumps({"intranet": key}), encoding="utf-8")
    procs, urls = [], []
    try:
        for _ in range(2):
            port = load.free_port()
            env = {
                **os.environ,
                "ASSISTANT_INDEX": str(index_dir),
                "ASSISTANT_CHROMA_URL": chroma.url,
                "ASSISTANT_RATE_LIMIT_STORAGE": redis_url,
                "ASSISTANT_WIDGETS": str(widgets),
                "ASSISTANT_MODEL": "fake",
                "ASSISTANT_HOST": "127.0.0.1",
                "ASSISTANT_PORT": str(port),
            }
            proc = subprocess.Popen([*CLI, "serve"], cwd=ROOT, env=env)
            procs.append(proc)
            urls.append(f"http://127.0.0.1:{port}")
        for proc, url in zip(procs, urls, strict=True):
            _wait(url + "/embed-demo", proc, "a replica")
        yield urls
    finally:
        for proc in procs:
            load.stop(proc)


def test_a_widget_keys_limit_holds_across_replicas(replicas: list[str]) -> None:
    statuses = []
    with httpx.Client(timeout=30, trust_env=False) as http:
        for i in range(PER_MINUTE + 4):
            url = replicas[i % 2] + "/api/widget/intranet/ask"
            statuses.append(http.post(url, json={"question": FIETS}, headers={"Origin": ORIGIN}).status_code)
    # In each replica's own memory the key would allow PER_MINUTE per replica, 10 answers here.
    assert statuses == [200] * PER_MINUTE + [429] * 4, statuses


def test_both_replicas_answer_a_document_ingested_after_they_started(
    replicas: list[str], index_dir: Path, chroma: ChromaServer, tmp_path: Path
) -> None:
    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps(LATE) + "\n", encoding="utf-8")
    _ingest(late, index_dir, chroma)
    question = "Hoeveel deelsteps werden in 2024 van het voetpad verwijderd?"
    seen: dict[str, int] = {}
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=30, trust_env=False) as http:
        while time.monotonic() < deadline and len(seen) < 2:
            for url in replicas:
                doc = http.get(f"{url}/api/documents/{LATE['id']}")
                answer = http.post(f"{url}/api/ask", json={"question": question})
                if doc.status_code == 200 and answer.status_code == 200:
                    cited = [a["citation"]["doc_id"] for a in answer.json()["answers"]]
                    if cited[:1] == [LATE["id"]]:
                        seen[url] = doc.status_code
            time.sleep(0.5)
    assert sorted(seen) == sorted(replicas)
