"""Undo the damage of text extraction: hard line breaks inside paragraphs and hyphenation at line ends.

Paragraph breaks and a line break before something that looks like a part label are kept, because they are
evidence for the numbering. It does not guess at lost line breaks inside a line: that is numbering's job.
"""

from __future__ import annotations

import re

_LABEL_START = re.compile(r"^\s*(?:\d{1,2}\s*[.)](?!\d)|[a-z]\s*[-–)]|(?:Vraag|Antwoord)\s+\d)")
_HYPHEN_END = re.compile(r"(\w)-$")
ANNEX = re.compile(r"\b20\d\d20\d\d\d{4,6}-\d+-\d+(?:-(?:nl|fr|bil|de))*(?:-\d+)?\b")
"""The Belgian export's placeholder for a table it sent as an annex ("2016201714157-2-1249-bil-1", also without the
languages: "2016201714297-6-1676"): not in the export.
A label glued to it is still a label (numbering), no sentence runs across it (highlight), and a reader is told what
it is (web.markup)."""


def unwrap(text: str) -> str:
    """Join the lines of each paragraph; keep blank-line paragraph breaks and breaks before labels."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "").replace("\x0c", "\n")
    paragraphs: list[str] = []
    for block in re.split(r"\n[ \t]*\n+", text):
        lines = [ln.strip() for ln in block.split("\n")]
        lines = [ln for ln in lines if ln]
        if not lines:
            continue
        out = lines[0]
        for ln in lines[1:]:
            if _LABEL_START.match(ln):
                out += "\n" + ln
            elif _HYPHEN_END.search(out) and ln[:1].islower():
                out = out[:-1] + ln  # "opleidings-\ncentrum" -> "opleidingscentrum"
            else:
                out += " " + ln
        paragraphs.append(re.sub(r"[ \t]{2,}", " ", out))
    return "\n\n".join(paragraphs)


def fold(text: str) -> str:
    """Whitespace folded to single spaces: how heads and facts are compared."""
    return " ".join(text.split())
