"""Files and folders to Documents: picks the reader by extension, decodes text, and reports bad files.

Each bad file (or JSONL line) becomes a ParseError in the stream, so one bad input never stops the others.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.errors import ParseError
from assistant.parse.pdf import pdf_text
from assistant.parse.records import FieldMap, parse_line
from assistant.parse.text import parse_text
from assistant.types import Document

TEXT_SUFFIXES = {".txt", ".text"}
RECORD_SUFFIXES = {".jsonl", ".ndjson"}
SUFFIXES = TEXT_SUFFIXES | RECORD_SUFFIXES | {".pdf"}
MAX_TEXT_BYTES = 20_000_000


def decode(data: bytes, path: str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with BOM, else Latin-1; binary is refused."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise ParseError(path, "binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
        if controls > 8:
            raise ParseError(path, "binary file, not text") from None
        return text


def expand_paths(paths: Iterable[Path]) -> Iterator[Path | ParseError]:
    """Files under the given paths that a reader knows, in a stable order; missing paths are errors."""
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() in SUFFIXES and not child.name.startswith("."):
                    yield child
        elif path.is_file():
            yield path
        else:
            yield ParseError(str(path), "no such file or folder")


def read_file(path: Path, mapping: FieldMap | None = None) -> Iterator[Document | ParseError]:
    """Documents from one file; ParseErrors for the file or for single bad lines in it."""
    suffix = path.suffix.lower()
    name = str(path)
    try:
        if suffix == ".pdf":
            yield parse_text(pdf_text(path), doc_id=path.stem, source=name)
            return
        size = path.stat().st_size
        if size == 0:
            raise ParseError(name, "empty file")
        if suffix in RECORD_SUFFIXES:
            yield from _read_records(path, mapping)
            return
        if suffix not in TEXT_SUFFIXES:
            raise ParseError(name, f"unknown file type {suffix or '(none)'}; expected one of {sorted(SUFFIXES)}")
        if size > MAX_TEXT_BYTES:
            raise ParseError(name, f"{size / 1e6:.0f} MB is too large for one written question (limit 20 MB)")
        text = decode(path.read_bytes(), name)
        if not text.strip():
            raise ParseError(name, "file holds no text")
        yield parse_text(text, doc_id=path.stem, source=name)
    except ParseError as exc:
        yield exc
    except OSError as exc:
        yield ParseError(name, f"cannot read ({exc.strerror or exc})")


def _read_records(path: Path, mapping: FieldMap | None) -> Iterator[Document | ParseError]:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            where = f"{path}:{lineno}"
            try:
                line = decode(raw, where)
            except ParseError as exc:
                yield exc
                continue
            if not line.strip():
                continue
            try:
                yield parse_line(line, mapping, str(path))
            except ParseError as exc:
                yield ParseError(where, exc.reason)


def read_paths(paths: Iterable[Path], mapping: FieldMap | None = None) -> Iterator[Document | ParseError]:
    """Documents from files and folders, with a ParseError in the stream for each thing that failed."""
    for item in expand_paths(paths):
        if isinstance(item, ParseError):
            yield item
        else:
            yield from read_file(item, mapping)
