"""What the JSON API and the Gradio chat share: input checks with Dutch + English messages, asking, finding
earlier similar questions ("Eerder gesteld?") and the links into the source view.

Returns domain values and raises AssistantErrors; JSON shapes live in api.py and HTML in markup.py / source.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import quote

from assistant.answer import AbstainPolicy, Answer, compose, highlight, policy_for
from assistant.errors import ConfigError
from assistant.index import FILTER_KEYS, validate_filters
from assistant.retrieve import Retriever
from assistant.types import Document, Hit

QUESTION_MAX = 2_000
DRAFT_MAX = 5_000
"""A draft question for "Eerder gesteld?" may carry its whole preamble, so it may be longer than a chat question."""
TOP_K_MAX = 20
PARTS_PER_DOC = 3
SIMILAR_CANDIDATES = 80
DATE_KEYS = ("date_from", "date_to")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def question_problem(text: str, limit: int = QUESTION_MAX) -> str | None:
    """Why `text` cannot be asked (Dutch / English), or None when it can."""
    if not text or not text.strip():
        return "De vraag is leeg: typ een vraag. / The question is empty: type a question."
    if len(text) > limit:
        return (
            f"De vraag is te lang: {len(text)} tekens, maximaal {limit}. "
            f"/ The question is too long: {len(text)} characters, at most {limit}."
        )
    return None


def _check_date(key: str, value: str) -> date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"Ongeldige datum voor {key}: {value!r}; gebruik JJJJ-MM-DD, bv. 2023-03-02. "
            f"/ Invalid date for {key}: {value!r}; use YYYY-MM-DD, e.g. 2023-03-02."
        ) from None


def check_filters(raw: Mapping[str, Any] | None) -> dict[str, str]:
    """The filters as retrieval takes them; ConfigError (Dutch + English) for an unknown key or a bad date."""
    names = ", ".join(FILTER_KEYS)
    dates: dict[str, date] = {}
    for key, value in (raw or {}).items():
        if key not in FILTER_KEYS:
            raise ConfigError(
                f"Onbekende filter {key!r}; kies uit {names}. / Unknown filter {key!r}; use one of {names}."
            )
        if key in DATE_KEYS and value not in (None, ""):
            dates[key] = _check_date(key, str(value))
    if len(dates) == 2 and dates["date_from"] > dates["date_to"]:
        raise ConfigError(
            "De begindatum (date_from) ligt na de einddatum (date_to). / date_from is later than date_to."
        )
    return validate_filters(raw)


def ask(
    retriever: Retriever,
    question: str,
    filters: Mapping[str, Any] | None = None,
    top_k: int = 5,
    policy: AbstainPolicy | None = None,
) -> Answer:
    """The cited answer to a question, or a plain 'not found'; ConfigError for a question or filter we cannot use."""
    problem = question_problem(question)
    if problem:
        raise ConfigError(problem)
    checked = check_filters(filters)
    question = question.strip()
    if policy is None:
        policy = policy_for(retriever.embedder.name if retriever.embedder is not None else None)
    return compose(question, retriever.search(question, checked, top_k), policy)


@dataclass(frozen=True)
class Similar:
    """An earlier document like a draft question, with its best matching parts and their answers."""

    doc_id: str
    title: str
    date: str | None
    minister: str | None
    score: float
    hits: tuple[Hit, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "date": self.date,
            "minister": self.minister,
            "score": self.score,
            "parts": [h.to_dict() for h in self.hits],
        }


def similar(
    retriever: Retriever, draft: str, filters: Mapping[str, Any] | None = None, top_k: int = 5
) -> list[Similar]:
    """The earlier documents most like a draft question, best first, each with up to three of its parts."""
    problem = question_problem(draft, DRAFT_MAX)
    if problem:
        raise ConfigError(problem)
    checked = check_filters(filters)
    draft = draft.strip()
    groups: dict[str, list[Hit]] = {}
    for hit in retriever.search(draft, checked, min(SIMILAR_CANDIDATES, top_k * 5)):
        groups.setdefault(hit.citation.doc_id, []).append(hit)
    out = []
    for hits in list(groups.values())[:top_k]:
        first = hits[0].citation
        shown = tuple(replace(h, highlights=highlight(draft, h.answer)) for h in hits[:PARTS_PER_DOC])
        out.append(Similar(first.doc_id, first.title, first.date, first.minister, hits[0].score, shown))
    return out


def part_anchor(label: str) -> str:
    """The element id of a part in the source view: "3e" -> "part-3e"."""
    return "part-" + re.sub(r"[^0-9A-Za-z_-]", "-", label)


def source_path(doc_id: str, part: str | None = None) -> str:
    """The source view of a document, relative to the site root, scrolled to and highlighting `part`."""
    path = f"doc/{quote(doc_id, safe='')}"
    if part:
        path += f"?part={quote(part, safe='')}#{part_anchor(part)}"
    return path


def choices(docs: Iterable[Document], field: str) -> list[str]:
    """The distinct values of a document field, sorted, for a filter dropdown."""
    return sorted({value for d in docs if (value := getattr(d, field))})
