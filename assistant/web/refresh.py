"""Live index updates on the web side: before a request, at most once a second, `Assistant.refresh()` (which
reloads documents and keywords when an ingest has moved the index's generation), so a running server, or each of
several replicas, answers from a finished ingest without a restart.

It only triggers; what a generation is and how the swap stays atomic is the Assistant's. The chat's filter lists
are still those of start-up.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.errors import AssistantError

log = logging.getLogger("assistant.web")
EVERY = 1.0
"""Seconds between two looks at the index's manifest (one small file read)."""


class Refresh:
    def __init__(self, app: ASGIApp, backend: Any, every: float = EVERY) -> None:
        self.app, self.backend, self.every = app, backend, every
        self._next = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        now = time.monotonic()
        if scope["type"] == "http" and now >= self._next:
            self._next = now + self.every  # claimed before the await: concurrent requests do not all look
            await run_in_threadpool(self._refresh)
        await self.app(scope, receive, send)

    def _refresh(self) -> None:
        try:
            if self.backend.get().refresh():
                log.warning("index reloaded: a new generation was ingested")
        except AssistantError:
            pass  # no index (yet) or the store is down: the request itself will say so
