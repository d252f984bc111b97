"""Files and folders to Documents: picks the reader by extension, decodes text, and reports bad files.

Each bad file (or JSONL line, or CSV row) becomes a ParseError in the stream, so one bad input never stops the
others. Text encodings follow one stated rule (`decode`), not a guess per file.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.errors import ParseError
from assistant.parse.formats import docx_text, html_text
from assistant.parse.pdf import pdf_text
from assistant.parse.records import FieldMap, parse_csv, parse_line
from assistant.parse.text import parse_text
from assistant.types import Document

TEXT_SUFFIXES = {".txt", ".text"}
RECORD_SUFFIXES = {".jsonl", ".ndjson"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | RECORD_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx", ".csv"}
MAX_TEXT_BYTES = 20_000_000


def decode(data: bytes, path: str) -> str:
    """Bytes to text by one rule: a UTF-8 or UTF-16 byte-order mark decides; else UTF-8 when the bytes are valid
    UTF-8; else Windows-1252 (what Dutch Windows exports are: "€" and curly quotes in 0x80-0x9F); else Latin-1.
    Damaged UTF-16 (a truncated file) and binary data are refused with the reason."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(path, f"damaged UTF-16 text ({exc.reason} at byte {exc.start}; truncated?)") from None
    if b"\x00" in data[:8192]:
        raise ParseError(path, "binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D have no Windows-1252 character
        text = data.decode("latin-1")
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 8:
        raise ParseError(path, "binary file, not text")
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
        if suffix == ".docx":
            yield parse_text(docx_text(path), doc_id=path.stem, source=name)
            return
        if suffix in RECORD_SUFFIXES:
            yield from _read_records(path, mapping)
            return
        if suffix == ".csv":
            yield from parse_csv(decode(path.read_bytes(), name), mapping, name)
            return
        if suffix not in TEXT_SUFFIXES | HTML_SUFFIXES:
            raise ParseError(name, f"unknown file type {suffix or '(none)'}; expected one of {sorted(SUFFIXES)}")
        if size > MAX_TEXT_BYTES:
            raise ParseError(name, f"{size / 1e6:.0f} MB is too large for one written question (limit 20 MB)")
        text = decode(path.read_bytes(), name)
        if suffix in HTML_SUFFIXES:
            text = html_text(text)
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
