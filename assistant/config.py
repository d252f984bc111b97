"""Settings: one frozen object, read from ASSISTANT_* environment variables in exactly one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

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


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "parlement-qa"


@dataclass(frozen=True)
class Settings:
    """Where the index lives, which model embeds, and how the server behaves."""

    index_dir: Path = Path("index")
    cache_dir: Path = _default_cache()
    model: str = "multilingual-e5-small"
    chroma_url: str | None = None
    """A Chroma server (`chroma run`), e.g. http://127.0.0.1:8000; None keeps the index in `index_dir`."""
    collection: str = "parts"
    batch_size: int = 32
    host: str = "127.0.0.1"
    port: int = 7860
    cors_origins: tuple[str, ...] = ()
    """Origins allowed to call the API from a browser (besides the widget keys' own origins)."""

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
        return replace(s, **updates)  # type: ignore[arg-type]
