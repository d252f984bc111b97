"""Parlement Q&A: question answering over parliamentary written questions, cited down to the sub-question."""

from assistant.errors import AssistantError, ConfigError, IndexMissingError, ParseError
from assistant.types import Document, Part

__all__ = ["AssistantError", "ConfigError", "Document", "IndexMissingError", "ParseError", "Part"]
__version__ = "0.1.0"
