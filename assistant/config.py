"""Settings: one frozen object, read from ASSISTANT_* environment variables in exactly one place."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

# Nothing in this package may reach a model hub or send telemetry; set before those libraries are imported.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def go_offline() -> None:
    """Set the offline/telemetry variables unless the user set them."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


ENCODERS = ("torch", "onnx", "onnx-int8")
"""What may run the embedding model (ASSISTANT_ENCODER): sentence-transformers on torch, or its ONNX export."""

SELF = "self"
"""In a widget key's origins: the server's own origin, whatever host and port it is reached at."""
_KEY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?")
_KEY_FIELDS = ("origins", "per_minute", "per_client_per_minute", "filters")


@dataclass(frozen=True)
class WidgetKey:
    """A public widget key: which pages (origins) may use the widget, how often, and the filters it always applies.

    A key is no secret; what it allows is decided here, on the server, from the page's Origin header.
    """

    name: str
    origins: tuple[str, ...] = (SELF,)
    per_minute: int = 60
    """Questions per minute for the whole key, from all clients together."""
    per_client_per_minute: int = 20
    """Questions per minute from one client (IP address)."""
    filters: Mapping[str, str] = field(default_factory=dict)
    """Applied to every question asked with this key; the page's own filters can narrow, never widen them."""


MEMORY_STORAGE = "memory://"
_STORAGE_SCHEMES = ("memory://", "redis://", "rediss://", "redis+unix://")
_HOST = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\*|\[?[0-9a-f:.]+\]?")

DEMO_KEY = WidgetKey("demo")
"""Built in, for /embed-demo: only pages of the server itself. A widgets file may redefine (or empty) it."""


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "parlement-qa"


@dataclass(frozen=True)
class Settings:
    """Where the index lives, which model embeds, and how the server behaves."""

    index_dir: Path = Path("index")
    cache_dir: Path = _default_cache()
    model: str = "multilingual-e5-small"
    encoder: str = "onnx"
    """What runs the model: one of ENCODERS. ONNX fp32 is the default: torch's vectors (cosine 1.0000), dev figures
    equal, 1.3x the passages/s and no torch on the question path (README, Encoders). An index is searched with
    vectors of the kind that built it (index.docs.VECTORS)."""
    chroma_url: str | None = None
    """A Chroma server (`chroma run`), e.g. http://127.0.0.1:8000; None keeps the index in `index_dir`."""
    collection: str = "parts"
    batch_size: int = 32
    host: str = "127.0.0.1"
    port: int = 7860
    cors_origins: tuple[str, ...] = ()
    """Origins allowed to call the API from a browser (besides the widget keys' own origins)."""
    widgets: tuple[WidgetKey, ...] = ()
    """Widget keys from the ASSISTANT_WIDGETS file; the built-in `demo` key is added unless the file names it."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names the server answers to (the Host header); empty: the bind host and localhost."""
    forwarded_allow_ips: tuple[str, ...] = ()
    """Addresses (or networks) of the reverse proxies whose X-Forwarded-* headers count; empty: none."""
    rate_limit_storage: str = MEMORY_STORAGE
    """Where rate limits are counted: memory:// (this process) or redis://host:port/db (shared by replicas)."""
    client_per_minute: int = 60
    """Questions per minute from one client on /api/ask, /api/similar and the chat (the widget's are per key)."""
    staff_db: Path | None = None
    """The SQLite file of feedback and the question log; None: staff.sqlite3 in `index_dir`."""
    question_log: bool = False
    """Whether every question asked (chat, widget, API) is logged for staff; off unless ASSISTANT_QUESTION_LOG."""
    staff_token: str | None = None
    """Lets /staff be read from another address than loopback (Authorization: Bearer ... or X-Staff-Token)."""
    server: str | None = None
    """A running `assistant serve` (http://host:port) that `assistant ask` sends its questions to."""

    def widget_keys(self) -> dict[str, WidgetKey]:
        """The widget keys by name: the configured ones and, unless redefined, the built-in `demo` key."""
        return {DEMO_KEY.name: DEMO_KEY, **{k.name: k for k in self.widgets}}

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from ASSISTANT_INDEX, ASSISTANT_CACHE, ASSISTANT_MODEL, ASSISTANT_CHROMA_URL, ..."""
        e = os.environ if env is None else env
        s = cls()
        updates: dict[str, object] = {}
        if e.get("ASSISTANT_INDEX"):
            updates["index_dir"] = Path(e["ASSISTANT_INDEX"])
        if e.get("ASSISTANT_CACHE"):
            updates["cache_dir"] = Path(e["ASSISTANT_CACHE"])
        if e.get("ASSISTANT_MODEL"):
            updates["model"] = e["ASSISTANT_MODEL"]
        if e.get("ASSISTANT_ENCODER"):
            encoder = e["ASSISTANT_ENCODER"].strip().lower()
            if encoder not in ENCODERS:
                raise ConfigError(
                    f"ASSISTANT_ENCODER must be one of {', '.join(ENCODERS)}, got {e['ASSISTANT_ENCODER']!r}"
                )
            updates["encoder"] = encoder
        if e.get("ASSISTANT_CHROMA_URL"):
            updates["chroma_url"] = e["ASSISTANT_CHROMA_URL"]
        for key, name in (
            ("ASSISTANT_BATCH_SIZE", "batch_size"),
            ("ASSISTANT_PORT", "port"),
            ("ASSISTANT_CLIENT_PER_MINUTE", "client_per_minute"),
        ):
            if e.get(key):
                try:
                    updates[name] = int(e[key])
                except ValueError:
                    raise ConfigError(f"{key} must be a whole number, got {e[key]!r}") from None
        if e.get("ASSISTANT_CORS_ORIGINS"):
            updates["cors_origins"] = tuple(o.strip() for o in e["ASSISTANT_CORS_ORIGINS"].split(",") if o.strip())
        if e.get("ASSISTANT_HOST"):
            updates["host"] = e["ASSISTANT_HOST"]
        if e.get("ASSISTANT_WIDGETS"):
            updates["widgets"] = load_widgets(Path(e["ASSISTANT_WIDGETS"]))
        if e.get("ASSISTANT_ALLOWED_HOSTS"):
            updates["allowed_hosts"] = parse_hosts(e["ASSISTANT_ALLOWED_HOSTS"])
        if e.get("ASSISTANT_FORWARDED_ALLOW_IPS"):
            updates["forwarded_allow_ips"] = parse_networks(e["ASSISTANT_FORWARDED_ALLOW_IPS"])
        if e.get("ASSISTANT_RATE_LIMIT_STORAGE"):
            updates["rate_limit_storage"] = parse_storage(e["ASSISTANT_RATE_LIMIT_STORAGE"])
        if e.get("ASSISTANT_STAFF_DB"):
            updates["staff_db"] = Path(e["ASSISTANT_STAFF_DB"])
        if e.get("ASSISTANT_QUESTION_LOG"):
            updates["question_log"] = parse_switch("ASSISTANT_QUESTION_LOG", e["ASSISTANT_QUESTION_LOG"])
        if e.get("ASSISTANT_STAFF_TOKEN"):
            updates["staff_token"] = parse_token(e["ASSISTANT_STAFF_TOKEN"])
        if e.get("ASSISTANT_SERVER"):
            updates["server"] = parse_server(e["ASSISTANT_SERVER"], "ASSISTANT_SERVER")
        if updates.get("client_per_minute", 1) < 1:  # type: ignore[operator]
            raise ConfigError("ASSISTANT_CLIENT_PER_MINUTE must be at least 1")
        return replace(s, **updates)  # type: ignore[arg-type]

    def hosts(self) -> tuple[str, ...]:
        """The Host names to answer: ASSISTANT_ALLOWED_HOSTS, else the bind host and the loopback names."""
        if self.allowed_hosts:
            return self.allowed_hosts
        own = () if self.host in ("0.0.0.0", "::", "") else (self.host.lower(),)
        return tuple(dict.fromkeys((*own, *LOCAL_HOSTS)))


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def parse_hosts(raw: str) -> tuple[str, ...]:
    """A comma-separated list of host names ("*.example.org" for a domain's hosts); ConfigError naming a bad one."""
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    for host in hosts:
        if not _HOST.fullmatch(host):
            raise ConfigError(
                f"ASSISTANT_ALLOWED_HOSTS: {host!r} is not a host name; give names without scheme or port, "
                'e.g. "qa.intranet.example.org,localhost" ("*.example.org" allows every host of the domain)'
            )
    return hosts


def parse_networks(raw: str) -> tuple[str, ...]:
    """A comma-separated list of proxy addresses or networks (10.0.0.0/8); "*" trusts any (only behind a proxy)."""
    import ipaddress

    nets = tuple(n.strip() for n in raw.split(",") if n.strip())
    for net in nets:
        if net == "*":
            continue
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ConfigError(
                f"ASSISTANT_FORWARDED_ALLOW_IPS: {net!r} is not an IP address or network, "
                'e.g. "127.0.0.1" or "10.0.0.0/8"'
            ) from None
    return nets


_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
STAFF_TOKEN_MIN = 16


def parse_switch(name: str, raw: str) -> bool:
    """On (1, true, yes, on) or off (0, false, no, off); ConfigError naming the variable otherwise."""
    value = raw.strip().lower()
    if value in _ON or value in _OFF:
        return value in _ON
    raise ConfigError(f"{name} must be on or off (1/0, true/false, yes/no), got {raw!r}")


def parse_token(raw: str) -> str:
    """A staff token of at least STAFF_TOKEN_MIN characters, without spaces (it travels in a header)."""
    token = raw.strip()
    if len(token) < STAFF_TOKEN_MIN or any(c.isspace() or not c.isprintable() for c in token):
        raise ConfigError(
            f"ASSISTANT_STAFF_TOKEN must be at least {STAFF_TOKEN_MIN} printable characters without spaces, e.g. "
            'the output of `python -c "import secrets; print(secrets.token_urlsafe(24))"`'
        )
    return token


def parse_server(raw: str, name: str = "--server") -> str:
    """The address of a running server, http(s)://host[:port][/prefix], without a trailing slash."""
    url = raw.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", url):
        raise ConfigError(f"{name} must be the server's address, e.g. http://127.0.0.1:7860, got {raw!r}")
    return url


def parse_storage(raw: str) -> str:
    """memory:// or a Redis URL (redis://host:port/db); ConfigError otherwise."""
    uri = raw.strip()
    if not uri.startswith(_STORAGE_SCHEMES):
        raise ConfigError(
            f"ASSISTANT_RATE_LIMIT_STORAGE must be memory:// or a Redis URL such as redis://127.0.0.1:6379/0, "
            f"got {raw!r}"
        )
    return uri


def load_widgets(path: Path) -> tuple[WidgetKey, ...]:
    """The widget keys of a JSON file {"key": {"origins": [...], "per_minute": 60, ...}}; ConfigError naming it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"ASSISTANT_WIDGETS file {path} cannot be read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"ASSISTANT_WIDGETS file {path} is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"ASSISTANT_WIDGETS file {path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f'{path}: expected a JSON object of widget keys, e.g. {{"intranet-hr": {{"origins": [...]}}}}'
        )
    return tuple(_widget_key(path, name, value) for name, value in raw.items())


def _widget_key(path: Path, name: str, raw: Any) -> WidgetKey:
    where = f"{path}: widget key {name!r}"
    if not _KEY_NAME.fullmatch(name):
        raise ConfigError(f"{where}: a key is 1-64 letters, digits, '.', '_' or '-'")
    if not isinstance(raw, dict):
        raise ConfigError(f'{where}: expected an object such as {{"origins": ["https://intranet.example.org"]}}')
    unknown = sorted(set(raw) - set(_KEY_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r}; use {', '.join(_KEY_FIELDS)}")
    origins = raw.get("origins")
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        raise ConfigError(f'{where}: "origins" must be a list of origins such as "https://intranet.example.org"')
    for origin in origins:
        if origin != SELF and not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"{where}: origin {origin!r} must be scheme://host[:port] in lower case, without a path "
                f'(e.g. "https://intranet.example.org"), or "{SELF}" for this server'
            )
    limits = {}
    for field_name in ("per_minute", "per_client_per_minute"):
        value = raw.get(field_name, getattr(DEMO_KEY, field_name))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: {field_name!r} must be a whole number of at least 1, got {value!r}")
        limits[field_name] = value
    filters = raw.get("filters", {})
    if not isinstance(filters, dict) or not all(isinstance(v, str) for v in filters.values()):
        raise ConfigError(f'{where}: "filters" must be an object of strings, e.g. {{"department": "Onderwijs"}}')
    from assistant.filters import Filters

    try:
        # string values in, string values out (a list comes only from a name resolved to several values)
        checked = {k: v for k, v in Filters.parse(filters).as_dict().items() if isinstance(v, str)}
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    return WidgetKey(name, tuple(origins), filters=checked, **limits)
