"""The embeddable widget's server side: /widget.js, the /embed-demo page and the widget API under /api/widget/{key}/.

`WidgetGate`, an ASGI middleware in front of the site's own CORS, decides every widget request from the key's
configuration (Settings.widget_keys()): an unknown key or a foreign origin gets 403 without CORS headers, preflights
are answered per key, bodies are capped and questions rate limited (429 with Retry-After). The routes behind it only
answer. A key is public and proves nothing; what it allows rests on the page's Origin header alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import Field
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.config import DEMO_KEY, SELF, WidgetKey
from assistant.web import views
from assistant.web.api import AskRequest, answer_json, assistant_of

PREFIX = "/api/widget/"
BODY_MAX = 16_384
"""Bytes in one widget request: a question of 2,000 characters (4 bytes each at worst) and its filters fit."""
TOP_K_MAX = 10
STATIC = Path(__file__).parent / "static"
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)

UNKNOWN_KEY = "unknown_key"
NO_ORIGIN = "no_origin"
FOREIGN_ORIGIN = "origin"

router = APIRouter()


@dataclass(frozen=True)
class Verdict:
    """Whether the page at `origin` may use the widget key `name`; `reason` says why not."""

    name: str
    origin: str | None
    key: WidgetKey | None
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None

    def detail(self) -> str:
        """The refusal in Dutch / English, for the widget to show (empty when allowed)."""
        if self.reason == UNKNOWN_KEY:
            return (
                f"Deze website mag de assistent niet gebruiken (onbekende widget-sleutel {self.name!r}). "
                f"/ This website may not use the assistant (unknown widget key {self.name!r})."
            )
        if self.reason == NO_ORIGIN:
            return (
                "Geen Origin-header: de widget-API is er voor webpagina's in een browser. "
                "/ No Origin header: the widget API is for web pages in a browser."
            )
        if self.reason == FOREIGN_ORIGIN:
            return (
                f"Deze website mag de assistent niet gebruiken (widget-sleutel {self.name!r} niet toegestaan voor "
                f"{self.origin}). / This website may not use the assistant (widget key {self.name!r} is not "
                f"allowed for {self.origin})."
            )
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.name,
            "origin": self.origin,
            "allowed": self.allowed,
            "reason": self.reason,
            "detail": self.detail(),
        }


def _is_own(origin: str, host: str | None) -> bool:
    """Whether `origin` is this server as the browser reached it (its Host header)."""
    scheme, _, rest = origin.partition("://")
    return scheme in ("http", "https") and bool(host) and rest.lower() == (host or "").lower()


class Policy:
    """The widget keys with their rate limiters (moving window, in this process's memory)."""

    def __init__(self, keys: Mapping[str, WidgetKey]) -> None:
        self.keys = dict(keys)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def judge(self, name: str, origin: str | None, host: str | None) -> Verdict:
        """May the page at `origin` use key `name` on this server (reached as `host`)?"""
        key = self.keys.get(name)
        if key is None:
            return Verdict(name, origin, None, UNKNOWN_KEY)
        if not origin:
            return Verdict(name, origin, key, NO_ORIGIN)
        if origin in key.origins or (SELF in key.origins and _is_own(origin, host)):
            return Verdict(name, origin, key)
        return Verdict(name, origin, key, FOREIGN_ORIGIN)

    def spend(self, key: WidgetKey, client: str) -> tuple[int, str] | None:
        """Count one question; None within the limits, else (seconds to wait, Dutch / English message)."""
        checks: list[tuple[RateLimitItem, tuple[str, ...], str]] = [
            (
                RateLimitItemPerMinute(key.per_client_per_minute, namespace="client"),
                (key.name, client),
                "Te veel vragen van uw toestel. / Too many questions from your device.",
            ),
            (
                RateLimitItemPerMinute(key.per_minute, namespace="key"),
                (key.name,),
                "Te veel vragen via deze website. / Too many questions through this website.",
            ),
        ]
        for item, ids, message in checks:
            if not self._limiter.test(item, *ids):
                reset = self._limiter.get_window_stats(item, *ids).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                return wait, f"{message} Probeer het over {wait} s opnieuw. / Try again in {wait} s."
        for item, ids, _ in checks:
            self._limiter.hit(item, *ids)
        return None


class WidgetGate:
    """In front of /api/widget/{key}/...: refuses, rate limits and sets CORS per key; passes the rest through."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        name, _, action = scope["path"][len(PREFIX) :].partition("/")
        verdict = self.policy.judge(name, headers.get("origin"), headers.get("host"))
        scope.setdefault("state", {})["widget"] = verdict
        if action == "check":
            # Readable by any page: it tells a refused widget why, and nothing an Origin header could not learn.
            cors = {"Access-Control-Allow-Origin": "*"}
        elif verdict.allowed and verdict.origin:
            cors = {"Access-Control-Allow-Origin": verdict.origin, "Access-Control-Expose-Headers": "Retry-After"}
        else:
            cors = {}
        refusal, receive = await self._screen(scope, receive, headers, verdict, action)
        await (refusal or self.app)(scope, receive, _with_cors(send, cors))

    async def _screen(
        self, scope: Scope, receive: Receive, headers: Headers, verdict: Verdict, action: str
    ) -> tuple[Response | None, Receive]:
        """The response that ends the request here (refusal, preflight, 429, 413), or None and the body to pass on."""
        method = scope["method"]
        if action != "check" and not verdict.allowed:
            return JSONResponse({"detail": verdict.detail(), "reason": verdict.reason}, 403), receive
        if method == "OPTIONS":
            preflight = {"Access-Control-Allow-Methods": "POST", "Access-Control-Max-Age": "600"}
            if action != "check":
                preflight["Access-Control-Allow-Headers"] = "Content-Type"
            return Response(status_code=204, headers=preflight), receive
        if method != "POST" or action == "check" or verdict.key is None:
            return None, receive
        client = scope["client"][0] if scope.get("client") else "unknown"
        refused = self.policy.spend(verdict.key, client)
        if refused is not None:
            wait, message = refused
            body = {"detail": message, "retry_after": wait}
            return JSONResponse(body, 429, {"Retry-After": str(wait)}), receive
        data = await _read_capped(receive, headers)
        if data is None:
            too_big = f"De aanvraag is groter dan {BODY_MAX} bytes. / The request is over {BODY_MAX} bytes."
            return JSONResponse({"detail": too_big}, 413), receive
        return None, _replay(data, receive)


_SITE_CORS = ("access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers")


def _with_cors(send: Send, cors: Mapping[str, str]) -> Send:
    """`send` with the key's CORS headers in place of any the site's CORS middleware added."""

    async def send_with_cors(message: Message) -> None:
        if message["type"] == "http.response.start":
            out = MutableHeaders(scope=message)
            for name in _SITE_CORS:
                del out[name]
            out.update(cors)
            out.add_vary_header("Origin")
        await send(message)

    return send_with_cors


async def _read_capped(receive: Receive, headers: Headers) -> bytes | None:
    """The request body, or None when it is (or says it will be) over BODY_MAX bytes."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > BODY_MAX:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > BODY_MAX:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # after the body: the client's disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class WidgetAskRequest(AskRequest):
    """A question from the widget (up to 2,000 characters); the key's own filters are added and win over these."""

    filters: dict[str, str] = Field(default_factory=dict, examples=[{"department": "Mobiliteit en Openbare Werken"}])
    top_k: int = Field(5, ge=1, le=TOP_K_MAX)


def _verdict(request: Request) -> Verdict:
    verdict = getattr(request.state, "widget", None)
    if not isinstance(verdict, Verdict):  # the router without the gate in front: answer nothing
        return Verdict("", None, None, UNKNOWN_KEY)
    return verdict


@router.post("/api/widget/{key}/ask", tags=["widget"], response_model=None)
def widget_ask(key: str, body: WidgetAskRequest, request: Request) -> dict[str, Any] | JSONResponse:
    """/api/ask for a page that embeds the widget: the key decides which origins may ask, how often, and filters."""
    verdict = _verdict(request)
    if not verdict.allowed or verdict.key is None:
        return JSONResponse({"detail": verdict.detail(), "reason": verdict.reason}, status_code=403)
    filters = {**body.filters, **verdict.key.filters}
    app, policy = assistant_of(request), request.app.state.abstain_policy
    answer = views.ask(app, body.question, filters, body.top_k, policy, body.turns())
    data = answer_json(request, answer)
    shown = {
        "answers": answer.hits[: answer.primary_count],
        "related": answer.hits[answer.primary_count :],
        "suggestions": answer.suggestions,
    }
    for group, hits in shown.items():
        for item, hit in zip(data[group], hits, strict=True):
            item["citation"]["label"] = hit.citation.label()  # the chat's citation line, word for word
    return data


@router.post("/api/widget/{key}/check", tags=["widget"])
def widget_check(key: str, request: Request) -> dict[str, Any]:
    """Whether the calling page may use this key, and if not why, in words the widget shows (any origin may ask)."""
    return _verdict(request).to_dict()


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> FileResponse:
    """The widget itself: plain JavaScript, loaded by the page's one script tag."""
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


def snippet(base_url: str, key: str = DEMO_KEY.name, title: str = "Schriftelijke vragen") -> str:
    """The one script tag a page adds to embed the widget served from `base_url` (ending in '/')."""
    return (
        f'<script src="{escape(base_url)}widget.js" data-key="{escape(key)}" data-title="{escape(title)}" '
        "defer></script>"
    )


def demo_page(base_url: str) -> str:
    """A plain page that shows the snippet (as text) and loads it, with the built-in `demo` key."""
    tag = snippet(base_url)
    return (
        '<!doctype html>\n<html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Parlement Q&amp;A - de widget op uw website</title><style>"
        "body { font: 16px/1.55 system-ui, sans-serif; color: #1f2328; max-width: 46rem; margin: 2rem auto; "
        "padding: 0 1.25rem 8rem; } pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; "
        "padding: .75rem 1rem; white-space: pre-wrap; word-break: break-all; } code { font-size: .9em; }"
        "</style></head>\n<body><h1>De assistent op uw eigen website</h1>"
        "<p>Eén regel HTML zet de assistent op een pagina: een knop rechtsonder die een chatvenster opent, met "
        "antwoorden in de eigen woorden van de minister en bronvermelding tot op de deelvraag.</p>"
        f"<pre><code>{escape(tag)}</code></pre>"
        "<p>Deze pagina laadt precies die regel. De sleutel <code>demo</code> werkt alleen op pagina's van deze "
        "server; voor een andere website geeft de beheerder een eigen sleutel met de toegelaten origins en limieten "
        "(<code>ASSISTANT_WIDGETS</code>, zie README, &quot;Embed the widget&quot;).</p>"
        '<p><a href="./">&larr; naar de chat</a></p>\n'
        f"{tag}\n</body></html>\n"
    )


@router.get("/embed-demo", response_class=HTMLResponse, tags=["widget"])
def embed_demo(request: Request) -> HTMLResponse:
    """The widget on a plain page, with its snippet shown to copy."""
    headers = {"Content-Security-Policy": DEMO_CSP, "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(demo_page(str(request.base_url)), headers=headers)
