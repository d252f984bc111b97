"""The chat under a queue flood, on loopback: one client fires N requests at Gradio's `call/respond` and N at
`queue/join`, then a second client asks the chat one normal question; prints what the flood got back (by status) and
how long the normal answer took.

    .venv/bin/python eval/flood.py --url http://127.0.0.1:7860 --requests 120
    .venv/bin/python eval/flood.py --url http://127.0.0.1:7860 --forwarded   # server behind a proxy on loopback

The two clients are told apart by X-Forwarded-For when --forwarded is given (a server started with
ASSISTANT_FORWARDED_ALLOW_IPS=127.0.0.1 believes it); without it both are 127.0.0.1, as without a proxy. It measures;
it does not decide what is fast enough. Traffic goes to loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import httpx

LOOPBACK = ("127.0.0.1", "localhost", "::1")
QUESTION = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
FLOODER, USER = "10.66.0.1", "10.66.0.2"


def respond_index(config: dict[str, Any]) -> int:
    """The fn_index of the chat's `respond` event in a Gradio /config."""
    for dep in config["dependencies"]:
        if dep.get("api_name") == "respond":
            return int(dep["id"])
    raise SystemExit("the chat has no `respond` event")


def join_body(fn_index: int, session: str, question: str = QUESTION) -> dict[str, Any]:
    """What the chat page sends for `respond`: the question being asked, the chat, the turns and language (server
    state: None), the conversation the browser keeps, and six filters."""
    return {
        "data": [question, [], None, {"messages": [], "turns": []}, None, "", "", "", "", "", ""],
        "event_data": None,
        "fn_index": fn_index,
        "trigger_id": None,
        "session_hash": session,
    }


async def _post(http: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> str:
    try:
        return str((await http.post(path, json=body, headers=headers)).status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


async def chat_answer(
    http: httpx.AsyncClient, fn_index: int, headers: dict[str, str], timeout: float = 60.0
) -> tuple[float, str]:
    """Seconds until the chat's answer to one question arrived (join + event stream), and how it ended."""
    session = secrets.token_hex(8)
    start = time.monotonic()
    joined = await http.post("/gradio_api/queue/join", json=join_body(fn_index, session), headers=headers)
    if joined.status_code != 200:
        return time.monotonic() - start, f"join {joined.status_code}"
    try:
        async with http.stream(
            "GET", "/gradio_api/queue/data", params={"session_hash": session}, headers=headers, timeout=timeout
        ) as events:
            async for line in events.aiter_lines():
                if line.startswith("data:"):
                    msg = json.loads(line[5:])
                    if msg.get("msg") == "process_completed":
                        ok = msg.get("success") and "pqa-answer" in json.dumps(msg.get("output"))
                        return time.monotonic() - start, "answer" if ok else "no answer"
    except httpx.HTTPError as exc:
        return time.monotonic() - start, type(exc).__name__
    return time.monotonic() - start, "stream ended"


async def flood(url: str, requests: int = 120, forwarded: bool = False, timeout: float = 60.0) -> dict[str, Any]:
    """The flood, then one normal chat question; the statuses the flood got and the normal answer's time."""
    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"--url must point at this machine, not {host!r}")
    flooder = {"X-Forwarded-For": FLOODER} if forwarded else {}
    user = {"X-Forwarded-For": USER} if forwarded else {}
    limits = httpx.Limits(max_connections=requests * 2 + 4)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits, trust_env=False) as http:
        fn = respond_index((await http.get("/config")).json())
        _, baseline = await chat_answer(http, fn, user, timeout)
        base_s, _ = await chat_answer(http, fn, user, timeout)
        start = time.monotonic()
        sent = [
            *(_post(http, "/gradio_api/call/respond", {"data": join_body(fn, "x")["data"]}, flooder)
              for _ in range(requests)),
            *(_post(http, "/gradio_api/queue/join", join_body(fn, secrets.token_hex(8)), flooder)
              for _ in range(requests)),
        ]  # fmt: skip
        statuses = await asyncio.gather(*sent)
        flood_s = time.monotonic() - start
        normal_s, outcome = await chat_answer(http, fn, user, timeout)
    calls, joins = statuses[:requests], statuses[requests:]
    return {
        "url": url,
        "requests": requests,
        "forwarded": forwarded,
        "flood_s": round(flood_s, 2),
        "call_respond": dict(Counter(calls)),
        "queue_join": dict(Counter(joins)),
        "normal_before_s": round(base_s, 3),
        "normal_after_s": round(normal_s, 3),
        "normal_outcome": outcome,
        "baseline_outcome": baseline,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="a running server on this machine")
    p.add_argument("--requests", type=int, default=120, help="requests to each of call/respond and queue/join")
    p.add_argument("--forwarded", action="store_true", help="tell the two clients apart by X-Forwarded-For")
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args(argv)
    result = asyncio.run(flood(args.url.rstrip("/"), args.requests, args.forwarded, args.timeout))
    print(json.dumps(result, indent=2))
    return 0 if result["normal_outcome"] == "answer" else 1


if __name__ == "__main__":
    sys.exit(main())
