"""Parlement Q&A: question answering over parliamentary written questions, cited down to the sub-question.

The public surface: `Assistant` (open with `Assistant.open(Settings.from_env())`), its values and errors, and
`as_langchain` for LangChain chains. Everything else is internal and may move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import (
    AssistantError,
    ConfigError,
    IndexMismatchError,
    IndexMissingError,
    NothingToIngestError,
    ParseError,
    StoreUnavailableError,
)
from assistant.filters import Filters
from assistant.types import Citation, Document, Evidence, Hit, Part, PartKey, Retrieval

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.application import Assistant, Similar
    from assistant.lc import PartRetriever

_LAZY = {"Answer": "assistant.answer", "Assistant": "assistant.application", "Similar": "assistant.application"}
"""Names whose modules import the index and the model libraries: loaded on first use, so that `import assistant`
(and the CLI's `parse` and `--help`) stays fast."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")


__all__ = [
    "Answer",
    "Assistant",
    "AssistantError",
    "Citation",
    "ConfigError",
    "Document",
    "Evidence",
    "Filters",
    "Hit",
    "IndexMismatchError",
    "IndexMissingError",
    "NothingToIngestError",
    "Part",
    "PartKey",
    "ParseError",
    "Retrieval",
    "Settings",
    "Similar",
    "StoreUnavailableError",
    "as_langchain",
]
__version__ = "0.1.0"


def as_langchain(assistant: Assistant, filters: dict[str, Any] | None = None, top_k: int = 5) -> PartRetriever:
    """The assistant's retrieval as a LangChain `BaseRetriever` (LangChain is imported only when this is called)."""
    from assistant.lc import as_langchain as make

    return make(assistant, filters, top_k)
