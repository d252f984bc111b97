"""The server's edge, as ASGI middleware around the whole app (installed by `install` from create_app): which Host
names it answers, whose X-Forwarded-* headers count, how big a body may be, how often one client may ask, which of
Gradio's routes are open, and the security headers of every HTML page.

It decides and refuses; it never answers a question. The widget's own per-key gate is widget/gate.py, behind this.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi.middleware.cors import CORSMiddleware
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

log = logging.getLogger("assistant.web")

API_BODY_MAX = 65_536
"""Bytes in one JSON request to our own routes (a 5,000-character draft at 4 bytes a character and its filters fit)."""
CHAT_BODY_MAX = 1_048_576
"""Bytes in one Gradio queue/join: the chat sends its whole history back with every question."""
QUEUE_MAX = 64
"""Chat events waiting in Gradio's queue, all clients together; past it Gradio answers "queue full"."""
CHAT_CONCURRENCY = 2
"""Chat events answered at once (each one is a search on the CPU)."""

HTML_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
"""For pages that set none (Gradio's chat): Gradio's page runs inline scripts and styles, so those stay allowed;
nothing may load from elsewhere, and no other site may frame the page."""
REFERRER_POLICY = "same-origin"

JOIN = "/gradio_api/queue/join"
DATA = "/gradio_api/queue/data"
GRADIO_OPEN = {("POST", JOIN), ("GET", DATA)}
"""The only /gradio_api/ routes the chat page uses (besides heartbeat/{session}); run, call, upload, file=, info,
mcp and the rest answer 404."""
GRADIO_OPEN_PREFIXES = (("GET", "/gradio_api/heartbeat/"),)
GRADIO_CLOSED = ("/gradio_api/", "/login", "/logout", "/monitoring")
LIMITED = ("/api/ask", "/api/similar", "/api/feedback", JOIN)
"""The routes a client's budget counts, together: those that cost a search, the chat's events (its thumbs too)
and the feedback."""

FORWARDING_DROPPED = "pqa.forwarding_dropped"
"""Set in the scope of a request whose X-Forwarded-* headers ProxyGuard dropped (they came from no configured
proxy)."""
_FORWARDED = {b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-port", b"forwarded"}
_WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _refuse(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail}, status, headers)


# ---------------------------------------------------------------- bodies


async def read_capped(receive: Receive, headers: Headers, limit: int) -> bytes | None:
    """The request body, or None when it is (or says it will be) over `limit` bytes."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app `body` (already read), then whatever the client sends next (its disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


DRAIN_MAX = 256 << 20
"""Bytes of a refused body read and dropped so that the client, still sending, gets to read its 413 (a connection
closed under a sending client reaches it as a reset instead); past this the connection is just closed."""


async def drain(receive: Receive, headers: Headers, budget: int = DRAIN_MAX) -> None:
    """Read and drop the rest of a refused body, up to `budget` bytes; never keeps any of it."""
    declared = headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > budget:
        return  # a body of unknown length may never end: the connection is closed instead
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def too_big(limit: int) -> str:
    return f"De aanvraag is groter dan {limit} bytes. / The request is over {limit} bytes."


class BodyCap:
    """Reads every request body up to its cap (413 past it), so no route ever sees, parses or echoes more."""

    def __init__(self, app: ASGIApp, limit: int = API_BODY_MAX, chat_limit: int = CHAT_BODY_MAX) -> None:
        self.app, self.limit, self.chat_limit = app, limit, chat_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        limit = self.chat_limit if scope["path"] == JOIN else self.limit
        headers = Headers(scope=scope)
        body = await read_capped(receive, headers, limit)
        if body is None:
            log.warning("413 %s %s from %s: body over %d bytes", scope["method"], scope["path"], _client(scope), limit)
            await drain(receive, headers)
            await _refuse(413, too_big(limit), {"Connection": "close"})(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)


# ---------------------------------------------------------------- hosts and proxies


class ProxyGuard:
    """X-Forwarded-* only from the configured proxies: their X-Forwarded-For/-Proto set the client address and
    scheme (uvicorn's ProxyHeadersMiddleware) and their X-Forwarded-Host must be an allowed host; from anyone else
    every forwarding header is dropped before the app (or Gradio, which builds URLs from X-Forwarded-Host) sees it."""

    def __init__(self, app: ASGIApp, proxies: Sequence[str], hosts: Sequence[str]) -> None:
        self.app = app
        self.proxy = ProxyHeadersMiddleware(app, trusted_hosts=list(proxies)) if proxies else None  # type: ignore[arg-type]
        self.hosts = TrustedHostMiddleware(app, allowed_hosts=list(hosts), www_redirect=False)

    def _trusted(self, scope: Scope) -> bool:
        return self.proxy is not None and _client(scope) in self.proxy.trusted_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.proxy is not None and self._trusted(scope):
            forwarded = Headers(scope=scope).get("x-forwarded-host")
            if forwarded is not None and not self._host_allowed(forwarded.split(",")[0].strip()):
                log.warning("400 from proxy %s: X-Forwarded-Host %.80r not allowed", _client(scope), forwarded)
                await _refuse(400, "Invalid host header")(scope, receive, send)
                return
            await self.proxy(scope, receive, send)  # type: ignore[arg-type]
            return
        headers = [(k, v) for k, v in scope["headers"] if k not in _FORWARDED]
        inner = {**scope, "headers": headers}
        if len(headers) != len(scope["headers"]):
            # The peer may be a proxy nobody configured, forwarding for anyone: it is no loopback client (web/staff).
            inner[FORWARDING_DROPPED] = True
        await self.app(inner, receive, send)

    def _host_allowed(self, host: str) -> bool:
        from starlette.middleware.trustedhost import parse_host_header

        parsed = parse_host_header(host)
        if parsed is None:
            return False
        name = parsed.host.lower()
        return self.hosts.allow_any or any(
            name == p or (p.startswith("*") and name.endswith(p[1:])) for p in self.hosts.allowed_hosts
        )


# ---------------------------------------------------------------- rate limits


def open_storage(uri: str) -> Storage:
    """The `limits` storage for memory:// or redis://... (Settings.rate_limit_storage)."""
    storage = storage_from_string(uri)
    assert isinstance(storage, Storage)  # not an async+ scheme: config.parse_storage refuses those
    return storage


class ClientLimits:
    """At most `per_minute` searches (/api/ask, /api/similar, chat questions) per client address, and a sixth of
    that in any 10 s (so one client cannot put a minute's worth into the chat's queue at once, ahead of everyone);
    moving windows. 429 with Retry-After past either, 503 while the shared store (Redis) cannot be reached."""

    def __init__(self, app: ASGIApp, storage: Storage, per_minute: int) -> None:
        self.app = app
        self.items = (
            RateLimitItemPerSecond(max(1, math.ceil(per_minute / 6)), 10, namespace="client-burst"),
            RateLimitItemPerMinute(per_minute, namespace="client-searches"),
        )
        self.limiter = MovingWindowRateLimiter(storage)
        self._counting = threading.Lock()
        """Test-then-hit is one step per process (_wait runs on worker threads, several at once)."""

    def _wait(self, client: str) -> int:
        """0 when the client may search now (and counts it), else the seconds until it may."""
        with self._counting:
            for item in self.items:
                if not self.limiter.test(item, client):
                    reset = self.limiter.get_window_stats(item, client).reset_time
                    return max(1, math.ceil(reset - time.time()))
            for item in self.items:
                self.limiter.hit(item, client)
            return 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in LIMITED:
            await self.app(scope, receive, send)
            return
        client = _client(scope)
        try:
            # the store may be Redis: a blocking round trip, kept off the event loop that serves everyone else
            wait = await run_in_threadpool(self._wait, client)
        except Exception as err:  # noqa: BLE001 - whatever the store raises, the answer is the same 503
            log.warning("rate limit store unavailable: %s", err)
            detail = "De teller van de limieten is onbereikbaar. / The rate limit store is unreachable."
            await _refuse(503, detail, {"Retry-After": "5"})(scope, receive, send)
            return
        if wait:
            # INFO, not WARNING: a flood must not flood the log
            log.info("429 %s from %s: over its limit, retry in %d s", scope["path"], client, wait)
            detail = (
                f"Te veel vragen van uw toestel; probeer het over {wait} s opnieuw. "
                f"/ Too many questions from your device; try again in {wait} s."
            )
            await _refuse(429, detail, {"Retry-After": str(wait)})(scope, receive, send)
            return
        await self.app(scope, receive, send)


# ---------------------------------------------------------------- Gradio's routes


Inputs = Callable[[int], Sequence[str] | None]
"""fn_index -> the type names of its input components, None for no such event."""

_DATA_TYPES: dict[str, tuple[type, ...]] = {
    "Textbox": (str, type(None)),
    "Dropdown": (str, type(None)),
    "Markdown": (str, type(None)),
    "Chatbot": (list, type(None)),
    "Dataset": (int, type(None)),
}


def join_problem(body: bytes, inputs: Inputs) -> str | None:
    """What is wrong with a queue/join body, in a few words (never echoing it); None when Gradio can run it."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "body is not JSON"
    if not isinstance(data, dict):
        return "body is not a JSON object"
    fn = data.get("fn_index")
    if isinstance(fn, bool) or not isinstance(fn, int):
        return "fn_index is not a number"
    kinds = inputs(fn)
    if kinds is None:
        return f"no event {fn}"
    session = data.get("session_hash")
    if not isinstance(session, str) or not 1 <= len(session) <= 64 or not session.replace("-", "").isalnum():
        return "session_hash must be 1-64 letters or digits"
    values = data.get("data")
    if not isinstance(values, list) or len(values) != len(kinds):
        return f"event {fn} takes {len(kinds)} inputs"
    for i, (kind, value) in enumerate(zip(kinds, values, strict=True)):
        expected = _DATA_TYPES.get(kind)
        if expected is not None and not isinstance(value, expected):
            return f"input {i} of event {fn} must be {' or '.join(t.__name__ for t in expected)}"
    if not isinstance(data.get("event_data"), dict | type(None)) or not isinstance(
        data.get("trigger_id"), int | type(None)
    ):
        return "event_data or trigger_id has the wrong type"
    return None


def inputs_of(blocks: Any) -> Inputs:
    """The input component types of each event of a gr.Blocks, by fn_index."""
    table = {int(i): tuple(type(c).__name__ for c in fn.inputs) for i, fn in blocks.fns.items()}
    return table.get


class GradioGate:
    """Only the Gradio routes the chat page uses are open (GRADIO_OPEN); a queue/join that names no event or carries
    the wrong inputs is a 422, and queue/data for a session that has none a 404, each with one log line, not a 500
    with a traceback (Gradio raises its 404 inside the event stream, after the response started)."""

    def __init__(self, app: ASGIApp, blocks: Any) -> None:
        self.app, self.blocks = app, blocks
        self.inputs = inputs_of(blocks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if path.startswith(GRADIO_CLOSED) and not self._open(method, path):
            await _refuse(404, "Not Found")(scope, receive, send)
            return
        if path == JOIN and method == "POST":
            body = await read_capped(receive, Headers(scope=scope), CHAT_BODY_MAX)
            problem = "body too large" if body is None else join_problem(body, self.inputs)
            if problem:
                log.warning("422 %s from %s: %s", path, _client(scope), problem)
                await _refuse(422, f"Ongeldige chataanvraag: {problem}. / Invalid chat request: {problem}.")(
                    scope, receive, send
                )
                return
            receive = replay(body or b"", receive)
        if path == DATA and method == "GET" and not self._known(scope):
            log.warning("404 %s from %s: no such session", path, _client(scope))
            await _refuse(404, "Onbekende chatsessie. / Unknown chat session.")(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _known(self, scope: Scope) -> bool:
        from urllib.parse import parse_qs

        session = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash", [""])[0]
        queue = getattr(self.blocks, "_queue", None)
        return bool(session) and queue is not None and session in queue.pending_messages_per_session

    @staticmethod
    def _open(method: str, path: str) -> bool:
        if (method, path) in GRADIO_OPEN:
            return True
        return any(method == m and path.startswith(p) for m, p in GRADIO_OPEN_PREFIXES)


# ---------------------------------------------------------------- headers and CORS


class SecurityHeaders:
    """nosniff on every response; on HTML also a CSP (HTML_CSP unless the route set its own, which gets
    `frame-ancestors 'self'` added), X-Frame-Options and Referrer-Policy, so no other site can frame a page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    csp = headers.get("content-security-policy")
                    if csp is None:
                        headers["Content-Security-Policy"] = HTML_CSP
                    elif "frame-ancestors" not in csp:
                        headers["Content-Security-Policy"] = csp.rstrip("; ") + "; frame-ancestors 'self'"
                    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
                    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ApiCors:
    """The site's CORS policy (ASSISTANT_CORS_ORIGINS) on /api/* only: Gradio's routes, /doc and /docs get none,
    and /api/widget/* gets its key's own (widget/gate.py)."""

    def __init__(self, app: ASGIApp, origins: Iterable[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=list(origins), allow_methods=["GET", "POST"], allow_headers=["Content-Type"]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if path.startswith("/api/") and not path.startswith("/api/widget/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# ---------------------------------------------------------------- wiring


def install(app: Any, blocks: Any, settings: Any, origins: Sequence[str], storage: Storage) -> None:
    """Bound Gradio's queue and put the edge in front of `app`, outermost first: proxies, hosts, headers, body cap,
    per-client limits, Gradio's routes (the widget's gate and the site's CORS sit behind these)."""
    blocks.queue(max_size=QUEUE_MAX, default_concurrency_limit=CHAT_CONCURRENCY)
    # add_middleware puts each one outside the ones before it, so this runs from the inside out.
    app.add_middleware(ApiCors, origins=origins)
    app.add_middleware(GradioGate, blocks=blocks)
    app.add_middleware(ClientLimits, storage=storage, per_minute=settings.client_per_minute)
    app.add_middleware(BodyCap)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.hosts()), www_redirect=False)
    app.add_middleware(ProxyGuard, proxies=settings.forwarded_allow_ips, hosts=settings.hosts())
