"""Plain-text written questions in the Flemish Parliament layout: optional `Key: value` header lines, a title
line "Entity - Topic", the question with its numbered parts, then the answer.

The answer starts at a heading such as "ANTWOORD" where there is one, else where the numbering restarts at 1
after the last question part. Reading files and decoding bytes happens in `assistant.parse.read`, not here.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.parse.build import build_document
from assistant.parse.clean import fold, unwrap
from assistant.parse.numbering import CLEAN, number_candidates, split_parts
from assistant.parse.published import Published, read_published
from assistant.parse.tk import looks_like_tk, parse_tk
from assistant.types import Document

HEADER_KEYS = {
    "datum": "date",
    "date": "date",
    "vraagsteller": "asker",
    "asker": "asker",
    "fractie": "party",
    "party": "party",
    "minister": "minister",
    "departement": "department",
    "department": "department",
    "thema's": "themes",
    "themas": "themes",
    "themes": "themes",
    "url": "url",
    "id": "doc_id",
}
_HEADER = re.compile(r"^\s*([A-Za-z']+)\s*:\s*(.*\S)\s*$")
_ANSWER_HEADING = re.compile(r"(?:^|\n)[ \t]*(ANTWOORD|Antwoord)[ \t]*:?[ \t]*(?:\n|$)")


def read_header(text: str) -> tuple[dict[str, str], str]:
    """Leading `Key: value` lines with known keys, and the rest of the text."""
    meta: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _HEADER.match(lines[i])
        if not m or m.group(1).lower() not in HEADER_KEYS:
            break
        meta[HEADER_KEYS[m.group(1).lower()]] = m.group(2)
        i += 1
    if not meta:
        return {}, text
    return meta, "\n".join(lines[i:])


def split_question_answer(body: str) -> tuple[str, str]:
    """Where the answer begins: at an ANTWOORD heading, else at the restart of the numbering that pairs best."""
    m = _ANSWER_HEADING.search(body)
    if m:
        return body[: m.start()], body[m.end() :]
    best: tuple[float, int] | None = None
    for cand in number_candidates(body):
        if cand.first != 1 or cand.score < CLEAN or cand.start == 0:
            continue
        at_line_start = body[: cand.start].rstrip(" \t").endswith("\n")
        if not at_line_start:
            continue
        q, a = body[: cand.start], body[cand.start :]
        split = split_parts(q, a)
        answered = sum(1 for p in split.parts if p.answer or p.ref)
        score = split.score + 0.01 * answered
        if len(split.parts) >= 1 and number_candidates(q) and (best is None or score > best[0]):
            best = (score, cand.start)
    if best is None:
        return body, ""
    return body[: best[1]], body[best[1] :]


def parse_text(text: str, doc_id: str, source: str = "") -> Document:
    """A Document from the text of one written question: the Tweede Kamer layout where its header says so, else
    the Flemish seed layout."""
    if looks_like_tk(text):
        return parse_tk(text, doc_id=doc_id, source=source)
    published = read_published(text.lstrip("\ufeff").replace("\r\n", "\n"))
    if published is not None:
        return _from_published(published, doc_id, source)
    meta, body = read_header(text.lstrip("\ufeff"))
    # the title is the first line of the seed layout; PDF extraction often loses the blank line after it
    title, _, rest = body.strip().partition("\n")
    question, answer = split_question_answer(unwrap(rest))
    themes = tuple(t.strip() for t in meta.get("themes", "").split(",") if t.strip())
    return build_document(
        doc_id=meta.get("doc_id", doc_id),
        title=fold(title),
        question=question.strip(),
        answer=answer.strip(),
        date=meta.get("date"),
        asker=meta.get("asker"),
        party=meta.get("party"),
        minister=meta.get("minister"),
        department=meta.get("department"),
        themes=themes,
        source=source,
        url=meta.get("url"),
    )


def _from_published(pub: Published, doc_id: str, source: str) -> Document:
    title, _, question = pub.question.partition("\n")
    doc = build_document(
        doc_id=doc_id,
        title=fold(title),
        question=unwrap(question).strip(),
        answer=unwrap(pub.answer).strip(),
        date=pub.date,
        asker=pub.asker,
        minister=pub.minister,
        source=source,
    )
    return replace(doc, numbers=(f"nr. {pub.number}",))
