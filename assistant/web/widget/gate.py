"""`WidgetGate`, the ASGI middleware in front of /api/widget/{key}/...: it refuses, answers preflights, caps bodies
and rate limits per key (widget/policy.py decides), and sets CORS per key in place of the site's own.

The routes behind it (widget/routes.py) only answer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.web.security import read_capped, replay
from assistant.web.widget.policy import Policy, Verdict

PREFIX = "/api/widget/"
BODY_MAX = 16_384
"""Bytes in one widget request: a question of 2,000 characters (4 bytes each at worst) and its filters fit."""

log = logging.getLogger("assistant.web")
STORE_DOWN = (
    "De teller van de limieten is onbereikbaar; probeer het zo opnieuw. "
    "/ The rate limit store is unreachable; try again shortly."
)


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
        try:
            refused = await run_in_threadpool(self.policy.spend, verdict.key, client)  # Redis: off the event loop
        except Exception as err:  # noqa: BLE001 - the limits store (Redis) is down: refuse, never answer unlimited
            log.warning("widget rate limit store unavailable: %s", err)
            return JSONResponse({"detail": STORE_DOWN}, 503, {"Retry-After": "5"}), receive
        if refused is not None:
            wait, message = refused
            body = {"detail": message, "retry_after": wait}
            return JSONResponse(body, 429, {"Retry-After": str(wait)}), receive
        data = await read_capped(receive, headers, BODY_MAX)
        if data is None:
            too_big = f"De aanvraag is groter dan {BODY_MAX} bytes. / The request is over {BODY_MAX} bytes."
            return JSONResponse({"detail": too_big}, 413), receive
        return None, replay(data, receive)


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
