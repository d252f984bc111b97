"""PDF files through pypdf: the text layer per page, with running headers, footers and page numbers removed.

What remains goes to the plain-text reader. Scanned PDFs without a text layer are reported, not OCR'd.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import ParseError

_PAGE_NUMBER = re.compile(r"^\s*(?:(?:pagina|blz\.?|page|p\.)\s*)?\d{1,4}\s*(?:(?:/|van|of)\s*\d{1,4})?\s*$", re.I)


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def strip_running_lines(pages: list[str]) -> list[str]:
    """Drop lines that repeat at the top or bottom of most pages, and bare page numbers."""
    edge = Counter[str]()
    for page in pages:
        lines = [ln for ln in page.split("\n") if ln.strip()]
        for ln in set(lines[:2] + lines[-2:]):
            edge[_shape(ln)] += 1
    threshold = max(2, (len(pages) + 1) // 2)
    running = {shape for shape, n in edge.items() if n >= threshold} if len(pages) > 1 else set()
    cleaned = []
    for page in pages:
        lines = page.split("\n")
        nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
        edges = set(nonblank[:2] + nonblank[-2:])
        keep = [
            ln for i, ln in enumerate(lines) if not (i in edges and (_shape(ln) in running or _PAGE_NUMBER.match(ln)))
        ]
        cleaned.append("\n".join(keep))
    return cleaned


@contextmanager
def quiet_pypdf() -> Iterator[None]:
    """pypdf's own warnings ("invalid pdf header", "EOF marker not found") stay out of the console: a bad file
    is reported once, by us, as a ParseError."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def pdf_text(path: Path) -> str:
    """The text of a PDF with running lines removed; ParseError for encrypted, corrupt or image-only files."""
    with quiet_pypdf():
        return _pdf_text(path)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise ParseError(str(path), "the PDF is encrypted; decrypt it first (e.g. `qpdf --decrypt`)")
            except NotImplementedError:
                raise ParseError(str(path), "the PDF is encrypted with an unsupported method") from None
        pages = [page.extract_text() or "" for page in reader.pages]
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ParseError(str(path), f"not a readable PDF ({exc})") from None
    if not any(p.strip() for p in pages):
        raise ParseError(str(path), "the PDF has no text layer (a scan?); run OCR first, e.g. `ocrmypdf`")
    return "\n\n".join(strip_running_lines(pages))
