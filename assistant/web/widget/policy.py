"""Who may use a widget key, and how often: `Policy.judge` reads the key's origins, `Policy.spend` its rate limits.

Pure decisions over Settings.widget_keys(); the counting lives in a `limits` storage (this process's memory, or Redis
shared by replicas). No HTTP here: widget/gate.py turns a Verdict into responses.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from assistant.config import SELF, WidgetKey

UNKNOWN_KEY = "unknown_key"
NO_ORIGIN = "no_origin"
FOREIGN_ORIGIN = "origin"


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
    """The widget keys with their rate limiters (moving window, in `storage`: this process's memory by default)."""

    def __init__(self, keys: Mapping[str, WidgetKey], storage: Storage | None = None) -> None:
        self.keys = dict(keys)
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._spending = threading.Lock()
        """Test-then-hit is one step per process (spend runs on worker threads, several at once)."""

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
        with self._spending:
            for item, ids, message in checks:
                if not self._limiter.test(item, *ids):
                    reset = self._limiter.get_window_stats(item, *ids).reset_time
                    wait = max(1, math.ceil(reset - time.time()))
                    return wait, f"{message} Probeer het over {wait} s opnieuw. / Try again in {wait} s."
            for item, ids, _ in checks:
                self._limiter.hit(item, *ids)
            return None
