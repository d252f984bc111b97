"""Word (.docx) and HTML files to plain text that the text readers understand.

.docx through python-docx: paragraphs in body order, Word's own list numbering written out ("1. ", "a) "), table
rows as lines. HTML through BeautifulSoup: block elements become paragraphs, <ol> items get their numbers, scripts
and styles are dropped. Nothing here splits parts; that is the text readers' job.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from assistant.errors import ParseError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _to_letters(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26)


def _to_roman(n: int) -> str:
    out = ""
    for value, sym in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + sym, n - value
    return out


class _Numbering:
    """Word list numbering: which format each (numId, level) has, and the running counters."""

    def __init__(self, document: Any) -> None:
        self.formats: dict[tuple[str, int], tuple[str, str]] = {}
        self.counters: dict[tuple[str, int], int] = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str]]] = {}
        for an in numbering.findall(f"{_W}abstractNum"):
            levels: dict[int, tuple[str, str]] = {}
            for lvl in an.findall(f"{_W}lvl"):
                fmt = lvl.find(f"{_W}numFmt")
                text = lvl.find(f"{_W}lvlText")
                levels[int(lvl.get(f"{_W}ilvl", "0"))] = (
                    fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                    text.get(f"{_W}val", "%1.") if text is not None else "%1.",
                )
            abstract[an.get(f"{_W}abstractNumId", "")] = levels
        for num in numbering.findall(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is None:
                continue
            for ilvl, spec in abstract.get(ref.get(f"{_W}val", ""), {}).items():
                self.formats[(num.get(f"{_W}numId", ""), ilvl)] = spec

    def label(self, paragraph: Any) -> str:
        ppr = paragraph._p.pPr
        numpr = ppr.numPr if ppr is not None else None
        if numpr is None and paragraph.style is not None:  # "List Number" and the like number through their style
            style_ppr = paragraph.style.element.pPr
            numpr = style_ppr.numPr if style_ppr is not None else None
        if numpr is None or numpr.numId is None:
            return ""
        num_id = str(numpr.numId.val)
        ilvl = int(numpr.ilvl.val) if numpr.ilvl is not None else 0
        fmt, text = self.formats.get((num_id, ilvl), ("decimal", "%1."))
        if fmt in ("bullet", "none"):
            return ""
        key = (num_id, ilvl)
        self.counters[key] = self.counters.get(key, 0) + 1
        for deeper in [k for k in self.counters if k[0] == num_id and k[1] > ilvl]:
            del self.counters[deeper]
        n = self.counters[key]
        shown = {"lowerLetter": _to_letters(n), "upperLetter": _to_letters(n).upper(), "lowerRoman": _to_roman(n)}
        value = shown.get(fmt, str(n))
        return re.sub(r"%\d", value, text, count=1) + " "


def docx_text(path: Path) -> str:
    """The text of a .docx: one paragraph per line block, Word's numbering written out."""
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError:  # pragma: no cover - a dependency of the project
        raise ParseError(str(path), "reading .docx needs python-docx (pip install python-docx)") from None
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ParseError(str(path), f"not a readable .docx ({exc or type(exc).__name__})") from None
    numbering = _Numbering(document)
    blocks: list[str] = []
    for child in document.element.body.iterchildren():
        if child.tag == f"{_W}p":
            para = Paragraph(child, document)
            text = para.text.strip()
            if text:
                blocks.append(numbering.label(para) + text)
        elif child.tag == f"{_W}tbl":
            for row in Table(child, document).rows:
                cells = [c.text.strip() for c in row.cells]
                line = " | ".join(c for i, c in enumerate(cells) if c and c not in cells[:i])
                if line:
                    blocks.append(line)
    if not blocks:
        raise ParseError(str(path), "the .docx holds no text")
    return "\n\n".join(blocks)


_BLOCK_TAGS = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "blockquote", "pre", "li", "ol", "ul",
    "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd", "br", "hr", "address", "figure", "form",
}  # fmt: skip


def html_text(markup: str) -> str:
    """Readable text of an HTML page: block elements as paragraphs, ordered-list items numbered."""
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import Comment, Doctype

    try:
        import lxml  # noqa: F401

        soup = BeautifulSoup(markup, "lxml")
    except ImportError:  # pragma: no cover
        soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    out: list[str] = []

    def walk(node: Tag) -> None:
        counter = 0
        for child in node.children:
            if isinstance(child, (Comment, Doctype)):
                continue
            if isinstance(child, NavigableString):
                out.append(re.sub(r"\s+", " ", str(child)))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in _BLOCK_TAGS:
                out.append("\n\n")
            if name == "li" and node.name == "ol":
                counter += 1
                out.append(f"{counter}. ")
            elif name in ("td", "th"):
                out.append(" ")
            walk(child)
            if name in _BLOCK_TAGS:
                out.append("\n\n")

    walk(soup)
    text = "".join(out)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)
