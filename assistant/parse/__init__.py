"""Text in, Documents out: readers for plain text, JSON Lines records and PDF, sharing the numbering logic."""

from assistant.parse.read import read_file, read_paths
from assistant.parse.records import BE_CHAMBER, FieldMap, parse_record
from assistant.parse.text import parse_text

__all__ = ["BE_CHAMBER", "FieldMap", "parse_record", "parse_text", "read_file", "read_paths"]
