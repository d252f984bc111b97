"""Tweede Kamer page furniture and footnotes: the masthead, running headers and footers ("ah-tk-20242025-563",
"ISSN ...", "Tweede Kamer, vergaderjaar 2024–2025, Aanhangsel 2") and the footnotes at the bottom of each page with
their marks in the text ("...toeslagenfraude?1", a "1" on its own line), removed so that an answer running over a
page is whole. Also what a label line looks like, since footnotes never come before one. Pure functions of strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NUMS = r"\d{1,2}(?:\s*(?:,|&|\ben\b|t/m|t\.e\.m\.|tot\s+en\s+met|tot|-|–)\s*\d{1,2})*"
Q_LABEL = re.compile(r"^\s*Vra(?:ag|gen)\s+(?P<nums>" + NUMS + r")\s*[:.]?(?:\s+(?P<rest>\S.*))?\s*$")
A_LABEL = re.compile(
    r"^\s*Antwoord(?:\s+op)?(?:\s+(?:de\s+)?vra(?:ag|gen))?(?:\s+(?P<nums>" + NUMS + r"))?"
    r"\s*(?P<colon>[:.])?(?:\s*(?P<rest>\S.*))?\s*$"
)
NUMBERED_LINE = re.compile(r"^\s*(?P<nums>" + NUMS + r")\s*[.)]?(?:\s+(?P<rest>\S.*))?\s*$")

_FURNITURE = re.compile(
    r"^\s*(?:Tweede Kamer der Staten-Generaal\s*\d*"
    r"|Vergaderjaar \d{4}\s*[–-]\s*\d{4},? (?:Aanhangsel van de Handelingen|Vragen gesteld door de leden der Kamer)"
    r"|Vragen gesteld door de leden der Kamer, met de daarop door de"
    r"|regering gegeven antwoorden)\s*$"
)
_PAGE_END = re.compile(
    r"^\s*(?:ah-tk-\d{8}-(?P<ah>\d+)|kv-tk-20\d\dZ\d{5}|ISSN \d{4}\s*-\s*\d{4}.*|’s-Gravenhage \d{4}\s*Tweede Kamer.*"
    r"|Tweede Kamer, vergaderjaar \d{4}\s*[–-]\s*\d{4}, Aanhangsel(?:\s*\d+)?)\s*$"
)
_DOCX_NOTE = re.compile(r"^\s*(\d{1,2})\)\s+\S")


@dataclass
class _Marks:
    """Footnote marks to cut out of the body lines: (line index, start, end)."""

    cuts: list[tuple[int, int, int]] = field(default_factory=list)
    cursor: tuple[int, int] = (0, 0)


def _mark_regex(n: int) -> re.Pattern[str]:
    s = str(n)
    return re.compile(r"(?:(?<=[^\W\d_])|(?<=[?!.,;:»”’\"')\]]))" + s + r"(?=\s|$|[.,;:)])|^" + s + r"(?=\s|$|[.,;:])")


def _find_mark(lines: list[str], n: int, cursor: tuple[int, int]) -> tuple[int, int, int] | None:
    rx = _mark_regex(n)
    li, col = cursor
    for i in range(li, len(lines)):
        m = rx.search(lines[i], col if i == li else 0)
        if m:
            return i, m.start(), m.end()
    return None


def _is_note_start(line: str, n: int) -> bool:
    s = str(n)
    if not line.startswith(s) or len(line) <= len(s):
        return False
    nxt = line[len(s)]
    if nxt.isspace() or nxt in ".,;:)-–/":
        return False
    if nxt.isdigit():
        return re.match(r"\d{4}[A-Z]", line[len(s) :]) is not None  # "32024Z15585": note 3, a Kamer number
    return True


def is_label_line(line: str) -> bool:
    return bool(Q_LABEL.match(line) or (A_LABEL.match(line) and a_label_ok(A_LABEL.match(line))))


def a_label_ok(m: re.Match[str] | None) -> bool:
    """ "Antwoord 3", "Antwoord:" and a bare "Antwoord" are labels; "Antwoord van Minister ..." is not."""
    if m is None:
        return False
    return bool(m.group("nums") or m.group("colon") or not m.group("rest"))


def strip_furniture(text: str) -> tuple[list[str], dict[str, str]]:
    """The body lines without page headers/footers and footnotes, and what the furniture told (AH number)."""
    info: dict[str, str] = {}
    raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\u00ad", "")
    raw = raw.replace("\x0c", "\n").lstrip("\ufeff")
    pages: list[list[str]] = [[]]
    lines = raw.split("\n")
    seen_header = False
    for i, line in enumerate(lines):
        if _FURNITURE.match(line):
            seen_header = True
            continue
        m = _PAGE_END.match(line)
        if m:
            if m.group("ah"):
                info.setdefault("ah", m.group("ah"))
            if pages[-1]:
                pages.append([])
            continue
        if seen_header and "ah" not in info and re.fullmatch(r"\s*\d{1,5}\s*", line) and i < 8:
            info["ah"] = line.strip()  # the Aanhangsel number right under the masthead
            continue
        pages[-1].append(line.rstrip())
    body: list[str] = []
    marks = _Marks()
    note = 1
    for page in pages:
        while page and not page[-1].strip():
            page.pop()
        start = _footnote_start(body, page, note, marks)
        if start is None:
            body.extend(page)
            continue
        body.extend(page[:start])
        for line in page[start:]:
            if _is_note_start(line, note) or _is_note_start(line, note + 1):
                if _is_note_start(line, note + 1):
                    note += 1
                found = _find_mark(body, note, marks.cursor)
                if found:
                    marks.cuts.append(found)
                    marks.cursor = (found[0], found[2])
                note += 1
    body = _cut_marks(body, marks.cuts)
    return _strip_docx_notes(body), info


def _footnote_start(body: list[str], page: list[str], note: int, marks: _Marks) -> int | None:
    """Where the footnotes at the bottom of a page begin: a line "<note><text>" with no label line after it."""
    for i, line in enumerate(page):
        if not _is_note_start(line, note):
            continue
        if any(is_label_line(ln) for ln in page[i + 1 :]):
            continue
        if _find_mark(body + page[:i], note, marks.cursor) is None and not re.match(
            r"\d{1,2}(?:[A-Z«\"'‘“(]|https?:|www\.)", line
        ):
            continue
        return i
    return None


def _cut_marks(lines: list[str], cuts: list[tuple[int, int, int]]) -> list[str]:
    out = list(lines)
    drop: set[int] = set()
    for li, lo, hi in sorted(cuts, reverse=True):
        line = out[li]
        rest = (line[:lo] + line[hi:]).rstrip()
        if not rest.strip():
            drop.add(li)
        elif lo == 0:
            out[li] = "\x01" + rest.lstrip()  # joins the previous line: "...jeugdzorg\n2. Met" -> "jeugdzorg. Met"
        else:
            out[li] = rest
    return [ln for i, ln in enumerate(out) if i not in drop]


def _strip_docx_notes(lines: list[str]) -> list[str]:
    """DOCX answers end with "1) Kamerstuk ..." notes for marks like "beantwoorden? 1)": both go."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (not lines[start - 1].strip() or _DOCX_NOTE.match(lines[start - 1])):
        start -= 1
    while start < end and not lines[start].strip():
        start += 1
    notes = [int(m.group(1)) for ln in lines[start:end] if (m := _DOCX_NOTE.match(ln))]
    if not notes or notes[0] != 1 or any(is_label_line(ln) for ln in lines[start:end]):
        return lines
    out = lines[:start]
    for n in notes:
        rx = re.compile(r"\s+" + str(n) + r"\)(?=\s*$)")
        for i, ln in enumerate(out):
            if rx.search(ln):
                out[i] = rx.sub("", ln)
                break
    return out


def join_lines(lines: list[str], glue_questions: bool = False) -> str:
    """Lines of one block as text: blank lines are paragraph breaks, other line ends (the PDF's wrapping) a space."""
    paragraphs: list[str] = []
    current = ""
    for raw in lines:
        line = raw.strip()
        glued = line.startswith("\x01")
        line = line.lstrip("\x01").strip()
        if not line:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if not current:
            current = line
        elif glued or line[:1] in ".,;:!?)":
            current += line
        elif current.endswith("-") and line[:1].islower() and len(current) > 1 and current[-2].isalpha():
            current = current[:-1] + line  # "wachtlijs-\nten"
        elif glue_questions and current.endswith("?") and line[:1].isupper():
            current += line  # kept glued so that a joint block can be split into its questions
        else:
            current += " " + line
    if current:
        paragraphs.append(current)
    return "\n\n".join(re.sub(r"[ \t]{2,}", " ", p) for p in paragraphs)
