"""The exceptions this package raises; caught only at the edges (CLI, web).

AssistantError
 ├── ConfigError          a setting or option is wrong
 ├── ParseError           one input file or record cannot be read (.path says which)
 ├── NothingToIngestError an ingest read no document at all (.report says what failed)
 ├── IndexMissingError    no index where one was expected
 ├── IndexMismatchError   the index was built with another model or dimension
 └── StoreUnavailableError  the vector store (e.g. a Chroma server) cannot be reached
"""

from __future__ import annotations

from typing import Any


class AssistantError(Exception):
    """Base class: the message says what happened and what to do."""


class ConfigError(AssistantError):
    """A setting, option or filter is invalid."""


class ParseError(AssistantError):
    """An input file or record could not be read into documents."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class NothingToIngestError(AssistantError):
    """An ingest read no document at all; the index was left as it was. `.report` is the IngestReport."""

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report


class IndexMissingError(AssistantError):
    """No index was found where one was expected."""


class IndexMismatchError(AssistantError):
    """The index on disk was built with a different embedding model or dimension."""


class StoreUnavailableError(AssistantError):
    """The vector store could not be reached."""
