"""JSON Lines records: the Belgian Chamber export and a generic record, chosen by a field mapping.

A mapping names, for each Document field, the record key that holds it, so a new export needs a mapping rather
than code. The Belgian export is recognised by its keys. Decoding a line is here; opening files is not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assistant.errors import ParseError
from assistant.parse.build import build_document
from assistant.parse.clean import fold, unwrap
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
    minister="answer_deptpres",
    department="answer_department",
    themes="question_theme",
    url=None,
)


def detect_mapping(record: Mapping[str, Any]) -> FieldMap:
    """The Belgian Chamber mapping when the record has its keys, else the generic one."""
    if "doc_id" in record and "depotdat" in record:
        return BE_CHAMBER
    return FieldMap()


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
    question = _text(record, fm.question)
    if doc_id is None:
        raise ParseError(source, f"record has no {fm.id!r} field (the document id)")
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
