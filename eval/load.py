"""A bounded load run on loopback: N clients ask `POST /api/ask` for T seconds while a probe checks that the chat
page `/` and a source view `/doc/...` still answer; counts every error, reports latency percentiles and throughput.

    .venv/bin/python eval/load.py --clients 20 --seconds 60 --out reports/load        # starts its own server
    .venv/bin/python eval/load.py --embedder fake --clients 4 --seconds 3             # no model: the tests' fake
    .venv/bin/python eval/load.py --url http://127.0.0.1:7860 --questions ../shared/eval/be2017-dev.questions.jsonl

Without --url it starts the app (what `assistant serve` runs) in a child process over --index, or over corpus/
ingested into a temporary index, with the real model or the deterministic hashing embedder (ASSISTANT_MODEL=fake).
Traffic goes to loopback only: a --url on another host is refused. It stops by itself: the clients stop sending after T
seconds and every request has a timeout. Writes load.json into --out (when given), prints a table, and exits 1 when
any request or probe failed. It measures; it does not decide what is fast enough.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = ROOT / "eval" / "sample.questions.jsonl"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Sample:
    """One request: when it started (seconds into the run), how long it took, and its outcome."""

    at: float
    seconds: float
    outcome: str
    """The HTTP status ("200", "503") or the exception's class name ("ReadTimeout")."""

    @property
    def ok(self) -> bool:
        return self.outcome.startswith("2")


@dataclass
class Run:
    """Everything one load run observed."""

    asks: list[Sample] = field(default_factory=list)
    probes: dict[str, list[Sample]] = field(default_factory=dict)
    elapsed: float = 0.0


# ---------------------------------------------------------------- the load


def read_questions(path: Path) -> list[dict[str, Any]]:
    """The `/api/ask` bodies of a gold questions file: the question and its filters."""
    bodies = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            bodies.append({"question": case["question"], "filters": case.get("filters") or {}})
    if not bodies:
        raise SystemExit(f"{path} holds no questions")
    return bodies


def first_gold_doc(path: Path) -> str | None:
    """A document the gold file cites, for the source-view probe."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            for gold in json.loads(line).get("gold") or []:
                return str(gold["doc"])
    return None


def check_loopback(url: str) -> str:
    """The URL without a trailing slash; SystemExit unless it points at this machine."""
    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"--url must point at this machine ({', '.join(LOOPBACK)}), not {host!r}: load stays local")
    return url.rstrip("/")


async def _timed(http: httpx.AsyncClient, method: str, url: str, start: float, **kw: Any) -> Sample:
    t = time.monotonic()
    try:
        response = await http.request(method, url, **kw)
        outcome = str(response.status_code)
    except httpx.HTTPError as exc:
        outcome = type(exc).__name__
    return Sample(round(t - start, 3), time.monotonic() - t, outcome)


def client_address(n: int) -> str:
    """The address asker `n` claims in X-Forwarded-For: a server that trusts loopback as its proxy
    (ASSISTANT_FORWARDED_ALLOW_IPS=127.0.0.1, as the one this script starts does) counts each asker as one visitor;
    any other server ignores the header and sees one client."""
    return f"10.77.{n // 250}.{n % 250 + 1}"


async def _asker(
    http: httpx.AsyncClient, url: str, bodies: Sequence[dict[str, Any]], first: int, start: float, stop: float, run: Run
) -> None:
    i = first
    headers = {"X-Forwarded-For": client_address(first // 7)}
    while time.monotonic() < stop:
        body = bodies[i % len(bodies)]
        run.asks.append(await _timed(http, "POST", url + "/api/ask", start, json=body, headers=headers))
        i += 1


async def _prober(
    http: httpx.AsyncClient, url: str, paths: Sequence[str], every: float, start: float, stop: float, run: Run
) -> None:
    while True:
        for path in paths:
            run.probes.setdefault(path, []).append(await _timed(http, "GET", url + path, start))
        left = stop - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(every, left))


async def run_load_async(
    url: str,
    bodies: Sequence[dict[str, Any]],
    clients: int = 20,
    seconds: float = 60.0,
    probe_paths: Sequence[str] = ("/",),
    probe_every: float = 2.0,
    timeout: float = 30.0,
) -> Run:
    """`clients` concurrent askers for `seconds`, plus one prober; returns when the last request has come back."""
    url = check_loopback(url)
    run = Run()
    limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)
    # trust_env=False: a proxy from the environment must not carry loopback traffic elsewhere.
    async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as http:
        start = time.monotonic()
        stop = start + seconds
        tasks = [_asker(http, url, bodies, n * 7, start, stop, run) for n in range(clients)]
        tasks.append(_prober(http, url, probe_paths, probe_every, start, stop, run))
        # Every request has `timeout`, so this bound is never reached unless something is badly wrong.
        await asyncio.wait_for(asyncio.gather(*tasks), seconds + 2 * timeout + 10)
        run.elapsed = time.monotonic() - start
    return run


def run_load(url: str, bodies: Sequence[dict[str, Any]], **kw: Any) -> Run:
    """The blocking form of `run_load_async`."""
    return asyncio.run(run_load_async(url, bodies, **kw))


# ---------------------------------------------------------------- figures


def latency_ms(samples: Sequence[Sample]) -> dict[str, float]:
    """p50, p95 and max in milliseconds (nearest rank); zeros for no samples."""
    ms = sorted(s.seconds * 1000 for s in samples)
    if not ms:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}

    def rank(p: int) -> float:
        return round(ms[max(0, math.ceil(len(ms) * p / 100) - 1)], 1)

    return {"p50": rank(50), "p95": rank(95), "max": round(ms[-1], 1)}


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a child server, killing it if it has not exited within 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def summarize(run: Run, config: dict[str, Any]) -> dict[str, Any]:
    """The JSON result: counts, errors by outcome, latency, throughput, probes and a per-second timeline."""
    ok = [s for s in run.asks if s.ok]
    bad = [s for s in run.asks if not s.ok]
    timeline: dict[int, Counter[str]] = {}
    for s in run.asks:
        timeline.setdefault(int(s.at), Counter())["ok" if s.ok else "errors"] += 1
    return {
        "config": config,
        "elapsed_s": round(run.elapsed, 2),
        "requests": len(run.asks),
        "ok": len(ok),
        "errors": dict(Counter(s.outcome for s in bad)),
        "throughput_rps": round(len(ok) / run.elapsed, 2) if run.elapsed else 0.0,
        "latency_ms": latency_ms(ok),
        "error_latency_ms": latency_ms(bad),
        "probes": {
            path: {
                "n": len(samples),
                "ok": sum(s.ok for s in samples),
                "errors": dict(Counter(s.outcome for s in samples if not s.ok)),
                "latency_ms": latency_ms(samples),
            }
            for path, samples in run.probes.items()
        },
        "timeline": [{"second": t, "ok": c["ok"], "errors": c["errors"]} for t, c in sorted(timeline.items())],
    }


def failed(result: dict[str, Any]) -> bool:
    """Whether any ask or probe failed (or nothing was asked at all)."""
    return bool(result["errors"]) or not result["ok"] or any(p["errors"] for p in result["probes"].values())


def table(result: dict[str, Any]) -> str:
    c = result["config"]
    rows = [
        f"load: {c['clients']} clients x {c['seconds']} s on {c['url']} ({c['questions']})",
        f"{'':24}{'n':>7}{'ok':>7}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}  errors",
    ]

    def row(name: str, n: int, ok: int, lat: dict[str, float], errors: dict[str, int]) -> str:
        shown = ", ".join(f"{k} x{v}" for k, v in errors.items()) or "-"
        return f"{name:24}{n:>7}{ok:>7}{lat['p50']:>10}{lat['p95']:>10}{lat['max']:>10}  {shown}"

    rows.append(row("POST /api/ask", result["requests"], result["ok"], result["latency_ms"], result["errors"]))
    for path, p in result["probes"].items():
        rows.append(row(f"GET {path}"[:24], p["n"], p["ok"], p["latency_ms"], p["errors"]))
    rows.append(f"throughput: {result['throughput_rps']} answers/s over {result['elapsed_s']} s")
    return "\n".join(rows)


# ---------------------------------------------------------------- the server under load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes] | None, limit: float) -> None:
    """Poll the chat page until it answers; SystemExit when the server died or did not come up in `limit` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode} before it answered")
        try:
            if httpx.get(url + "/", timeout=5, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server at {url} did not answer within {limit:.0f} s")


def start_server(index: Path, embedder: str, port: int, ingest_from: Path | None) -> subprocess.Popen[bytes]:
    """This script in --serve-child mode: the app over `index` on 127.0.0.1:`port`, in its own process."""
    cmd = [sys.executable, __file__, "--serve-child", "--index", str(index), "--embedder", embedder]
    cmd += ["--port", str(port)] + (["--ingest", str(ingest_from)] if ingest_from else [])
    return subprocess.Popen(cmd, env=dict(os.environ), stdin=subprocess.DEVNULL)


def serve_child(index: Path, embedder: str, port: int, ingest_from: Path | None) -> None:
    """Ingest `ingest_from` into `index` if given, then serve the app with uvicorn on loopback until terminated."""
    sys.path.insert(0, str(ROOT))
    from dataclasses import replace

    import uvicorn

    from assistant.config import Settings, go_offline

    go_offline()
    from assistant.application import Assistant
    from assistant.web.app import create_app

    settings = replace(
        Settings.from_env(),
        index_dir=index,
        host="127.0.0.1",
        port=port,
        forwarded_allow_ips=("127.0.0.1",),
        client_per_minute=1_000_000,  # a load test measures throughput; tests/test_security.py tests the limit
    )
    if embedder == "fake":
        settings = replace(settings, model="fake")  # the model-free hashing embedder
    app = Assistant.open(settings, create=bool(ingest_from))
    if ingest_from:
        app.ingest([ingest_from], progress=False)
    uvicorn.run(create_app(settings, app), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server on this machine; default: start one")
    p.add_argument("--index", type=Path, help="the index to serve; default: corpus/ ingested into a temporary one")
    p.add_argument("--embedder", choices=["real", "fake"], default="real", help="for the server this script starts")
    p.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="a gold questions file (JSONL)")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--probe-every", type=float, default=2.0, help="seconds between probes of / and /doc/...")
    p.add_argument("--doc", help="the document the source-view probe opens; default: the first one the gold cites")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds one request may take")
    p.add_argument("--start-timeout", type=float, default=300.0, help="seconds the started server may take to answer")
    p.add_argument("--out", type=Path, help="write load.json into this folder")
    p.add_argument("--serve-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--ingest", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_child:
        serve_child(args.index, args.embedder, args.port, args.ingest)
        return 0
    if args.clients < 1 or args.seconds <= 0:
        p.error("--clients and --seconds must be positive")

    bodies = read_questions(args.questions)
    doc = args.doc or first_gold_doc(args.questions)
    probe_paths = ["/"] + ([f"/doc/{quote(doc, safe='')}"] if doc else [])
    proc = None
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        try:
            if args.url:
                url = check_loopback(args.url)
            else:
                port = free_port()
                url = f"http://127.0.0.1:{port}"
                index = args.index or Path(tmp) / "index"
                proc = start_server(index, args.embedder, port, None if args.index else ROOT / "corpus")
            wait_ready(url, proc, args.start_timeout)
            run = run_load(
                url,
                bodies,
                clients=args.clients,
                seconds=args.seconds,
                probe_paths=probe_paths,
                probe_every=args.probe_every,
                timeout=args.timeout,
            )
        finally:
            if proc is not None:
                stop(proc)
    config = {
        "url": url,
        "clients": args.clients,
        "seconds": args.seconds,
        "questions": str(args.questions),
        "embedder": None if args.url else args.embedder,
        "index": str(args.index) if args.index else ("corpus/ (temporary index)" if not args.url else None),
        "probe_every_s": args.probe_every,
        "timeout_s": args.timeout,
        "cpus": os.cpu_count(),
    }
    result = summarize(run, config)
    print(table(result))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "load.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out / 'load.json'}")
    return 1 if failed(result) else 0


if __name__ == "__main__":
    sys.exit(main())
