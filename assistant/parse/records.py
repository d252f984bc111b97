"""JSON Lines records: the Belgian Chamber export and a generic record, chosen by a field mapping.

A mapping names, for each Document field, the record key that holds it, so a new export needs a mapping rather
than code. The Belgian export is recognised by its keys. Decoding a line is here; opening files is not.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from assistant.errors import ParseError
from assistant.parse.build import build_document
from assistant.parse.clean import fold, unwrap
from assistant.parse.text import parse_text
from assistant.types import Document

FIELDS = (
    "id",
    "title",
    "question",
    "answer",
    "date",
    "asker",
    "party",
    "minister",
    "department",
    "themes",
    "url",
    "text",
)


@dataclass(frozen=True)
class FieldMap:
    """Which record key holds each field; `title=None` takes the title from the question's first paragraph."""

    id: str = "id"
    title: str | None = "title"
    question: str = "question"
    answer: str = "answer"
    date: str | None = "date"
    asker: str | None = "asker"
    party: str | None = "party"
    minister: str | None = "minister"
    department: str | None = "department"
    themes: str | None = "themes"
    url: str | None = "url"
    text: str | None = None
    """A key holding a document's whole text (question and answer together, e.g. a PDF's extracted text), read
    by the text readers; the other keys, where the record has them, override what the text says."""

    @classmethod
    def parse(cls, spec: str) -> FieldMap:
        """From "id=doc_id,date=depotdat" (fields not named keep their generic key)."""
        values: dict[str, str | None] = {}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            key, sep, value = item.partition("=")
            if not sep or key.strip() not in FIELDS:
                raise ValueError(f"bad field mapping {item!r}: use FIELD=KEY with FIELD one of {', '.join(FIELDS)}")
            values[key.strip()] = value.strip() or None
        return cls(**values)  # type: ignore[arg-type]


BE_CHAMBER = FieldMap(
    id="doc_id",
    title=None,
    date="depotdat",
    asker="aut_person",
    party="aut_party",
    # answer_deptpres is the Chamber's number for the department ("7"), not a person: the minister is known by the
    # title in answer_department ("Minister van Sociale Zaken en Volksgezondheid"), which also stays the
    # department (the dev gold's department filters name it).
    minister="answer_department",
    department="answer_department",
    themes="question_theme",
    url=None,
)


TK_CSV = FieldMap(id="name", text="text_content", title=None, date=None, asker=None, party=None, minister=None,
                  department=None, themes=None, url=None)  # fmt: skip
"""The Tweede Kamer export: one row per file, `name` (the file name) and `text_content` (its extracted text)."""

_FILE_ID = re.compile(r"^(?P<stem>.+)\.(?P<ext>pdf|docx?|odt|rtf|txt|html?|xml)$", re.I)


def detect_mapping(record: Mapping[str, Any]) -> FieldMap:
    """The Belgian Chamber mapping when the record has its keys, the Tweede Kamer one for name + text_content,
    else the generic one."""
    if "doc_id" in record and "depotdat" in record:
        return BE_CHAMBER
    if "name" in record and "text_content" in record and "question" not in record:
        return TK_CSV
    return FieldMap()


def file_ids(names: list[str]) -> list[str]:
    """Ids from file names: the extension goes, unless two names then share a stem: each gets `_` + its
    extension ("X.pdf", "X.docx" -> "X_pdf", "X_docx"); an id seen before gets "_2", "_3" ..."""
    stems = [(_FILE_ID.match(n) or None) for n in names]
    counts = Counter(m.group("stem") if m else n for m, n in zip(stems, names, strict=True))
    out: list[str] = []
    seen: Counter[str] = Counter()
    for m, name in zip(stems, names, strict=True):
        if m is None:
            doc_id = name
        elif counts[m.group("stem")] > 1:
            doc_id = f"{m.group('stem')}_{m.group('ext').lower()}"
        else:
            doc_id = m.group("stem")
        seen[doc_id] += 1
        out.append(doc_id if seen[doc_id] == 1 else f"{doc_id}_{seen[doc_id]}")
    return out


def _text(record: Mapping[str, Any], key: str | None) -> str | None:
    if key is None:
        return None
    value = record.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def parse_record(record: Mapping[str, Any], mapping: FieldMap | None, source: str) -> Document:
    """A Document from one record; ParseError when the id or the question is missing."""
    fm = mapping or detect_mapping(record)
    doc_id = _text(record, fm.id)
    if doc_id is None:
        raise ParseError(source, f"record has no {fm.id!r} field (the document id)")
    if fm.text is not None:
        return _whole_text(record, fm, doc_id, source)
    question = _text(record, fm.question)
    if question is None:
        raise ParseError(source, f"record {doc_id} has no {fm.question!r} field (the question text)")
    question = unwrap(question)
    title = _text(record, fm.title)
    if title is None:
        head, sep, rest = question.partition("\n\n")
        if sep and len(head) < 400:
            title, question = fold(head), rest
        else:
            title = fold(question[:120])
    answer = unwrap(_text(record, fm.answer) or "")
    date = _text(record, fm.date)
    themes_raw = record.get(fm.themes) if fm.themes else None
    if isinstance(themes_raw, list):
        themes = tuple(str(t).strip() for t in themes_raw if str(t).strip())
    else:
        themes = tuple(t.strip() for t in str(themes_raw or "").split(",") if t.strip())
    return build_document(
        doc_id=doc_id,
        title=title.rstrip(". ").replace(". -", " -"),
        question=question.strip(),
        answer=answer.strip(),
        date=date[:10] if date else None,
        asker=_text(record, fm.asker),
        party=_text(record, fm.party),
        minister=_text(record, fm.minister),
        department=_text(record, fm.department),
        themes=themes,
        source=source,
        url=_text(record, fm.url),
    )


def parse_line(line: str, mapping: FieldMap | None, source: str) -> Document:
    """One JSONL line to a Document; ParseError names the line when it is not a JSON object."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ParseError(source, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise ParseError(source, "not a JSON object")
    return parse_record(record, mapping, source)


def _whole_text(record: Mapping[str, Any], fm: FieldMap, doc_id: str, source: str) -> Document:
    text = _text(record, fm.text)
    if text is None:
        raise ParseError(source, f"record {doc_id} has no {fm.text!r} field (the document text)")
    doc = parse_text(text, doc_id=doc_id, source=source)
    overrides: dict[str, Any] = {}
    for name in ("title", "date", "asker", "party", "minister", "department", "url"):
        value = _text(record, getattr(fm, name))
        if value is not None:
            overrides[name] = value[:10] if name == "date" else value
    return replace(doc, **overrides) if overrides else doc


def parse_csv(text: str, mapping: FieldMap | None, source: str) -> Iterator[Document | ParseError]:
    """Documents from CSV text with a header row (one document per row); a ParseError per bad row."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a whole document's text in one cell
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        yield ParseError(source, f"not valid CSV ({exc})")
        return
    if not rows:
        yield ParseError(source, "the CSV has a header but no rows")
        return
    fm = mapping or detect_mapping(rows[0])
    if fm.id not in rows[0]:
        yield ParseError(source, f"no {fm.id!r} column (the document id); columns: {', '.join(rows[0])}")
        return
    ids = file_ids([str(r.get(fm.id) or "").strip() for r in rows])
    for rowno, (row, doc_id) in enumerate(zip(rows, ids, strict=True), start=1):
        where = f"{source}: row {rowno}"
        if not doc_id:
            yield ParseError(where, f"row has no {fm.id!r} value (the document id)")
            continue
        try:
            yield parse_record({**row, fm.id: doc_id}, fm, source)
        except ParseError as exc:
            yield ParseError(where, exc.reason)
