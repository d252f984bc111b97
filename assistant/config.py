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
    encoder: str = "torch"
    """What runs the model: one of ENCODERS. An index is searched with the encoder that built it."""
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
        for key, name in (("ASSISTANT_BATCH_SIZE", "batch_size"), ("ASSISTANT_PORT", "port")):
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
        return replace(s, **updates)  # type: ignore[arg-type]


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
        checked = Filters.parse(filters).as_dict()
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    return WidgetKey(name, tuple(origins), filters=checked, **limits)
