"""What the JSON API and the Gradio chat share: input checks with Dutch + English messages, asking, finding
earlier similar questions ("Eerder gesteld?") and the links into the source view.

Returns domain values and raises AssistantErrors; JSON shapes live in api.py and HTML in markup.py / source.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from assistant import application
from assistant.answer import AbstainPolicy, Answer
from assistant.application import Assistant
from assistant.earlier import Similar
from assistant.filters import Filters
from assistant.staff import StaffLog
from assistant.types import Document, Span

QUESTION_MAX, DRAFT_MAX, TOP_K_MAX = application.QUESTION_MAX, application.DRAFT_MAX, application.TOP_K_MAX
HISTORY_MAX_TURNS, CITED_MAX = application.HISTORY_MAX_TURNS, application.CITED_MAX
question_problem = application.question_problem


def check_filters(raw: Mapping[str, Any] | None) -> Filters:
    """The filters as retrieval takes them; ConfigError (Dutch + English) for an unknown key or a bad date."""
    return Filters.parse(raw)


def ask(
    app: Assistant,
    question: str,
    filters: Mapping[str, Any] | None = None,
    top_k: int = 5,
    policy: AbstainPolicy | None = None,
    history: Sequence[Mapping[str, Any]] | None = None,
    try_unfiltered: bool = True,
    log: StaffLog | None = None,
    channel: str = "api",
) -> Answer:
    """The cited answer to a question, or a plain 'not found'; ConfigError for a question, filter or history we
    cannot use. `history`: the earlier turns, oldest first, as {"question": ..., "cited": ["doc#part", ...]}.
    `log`: where the question is logged for staff (it writes only when the question log is on), as asked through
    `channel` (chat, widget, api); a question that could not be asked is not logged."""
    answer = app.ask(question, filters, top_k, policy, history=history or None, try_unfiltered=try_unfiltered)
    if log is not None:
        log.record(question, dict(filters or {}), answer.abstained, cited(answer), channel)
    return answer


def cited(answer: Answer) -> list[str]:
    """The parts an answer showed, in order, as "doc#part" for the next turn's history (none when it abstained)."""
    if answer.abstained:
        return []
    return [f"{h.citation.doc_id}#{h.citation.part}" for h in answer.hits][:CITED_MAX]


def similar(app: Assistant, draft: str, filters: Mapping[str, Any] | None = None, top_k: int = 3) -> Similar:
    """Per sub-question of a draft, the earlier sub-questions above the calibrated cut-off, most similar first."""
    return app.similar(draft, filters, top_k)


def part_anchor(label: str) -> str:
    """The element id of a part in the source view: "3e" -> "part-3e"."""
    return "part-" + re.sub(r"[^0-9A-Za-z_-]", "-", label)


_LINKED = re.compile(r'href="[^"]*?doc/([^"?#]+)\?part=([^"#&]+)')


def linked_parts(html: str) -> list[str]:
    """The parts an answer's HTML links to (source_path links), in order, each once, as "doc#part"."""
    from html import unescape
    from urllib.parse import unquote

    found = (f"{unquote(d)}#{unquote(p)}" for d, p in _LINKED.findall(unescape(html)))
    return list(dict.fromkeys(found))


def source_path(doc_id: str, part: str | None = None, marks: Sequence[Span] = ()) -> str:
    """The source view of a document, relative to the site root, scrolled to and highlighting `part`, with the
    sentences at `marks` (offsets into the part's answer as the chat shows it) marked."""
    path = f"doc/{quote(doc_id, safe='')}"
    if part:
        path += f"?part={quote(part, safe='')}"
        if marks:
            path += "&hl=" + ",".join(f"{lo}-{hi}" for lo, hi in marks)
        path += f"#{part_anchor(part)}"
    return path


MARKS_MAX = 8


def parse_marks(raw: str | None, length: int) -> tuple[Span, ...]:
    """The `hl` of a source-view link ("12-80,95-140") as spans inside a text of `length` characters; anything
    malformed or out of range is left out (a link is outside input)."""
    spans: list[Span] = []
    for item in (raw or "").split(",")[:MARKS_MAX]:
        lo, sep, hi = item.partition("-")
        if sep and lo.isdigit() and hi.isdigit() and int(lo) < int(hi) <= length:
            spans.append((int(lo), int(hi)))
    return tuple(sorted(spans))


def choices(docs: Iterable[Document], field: str) -> list[str]:
    """The distinct values of a document field, sorted, for a filter dropdown."""
    return sorted({value for d in docs if (value := getattr(d, field))})
