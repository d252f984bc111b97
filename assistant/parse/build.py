"""Assemble a Document from its fields: the one place where question and answer text become parts."""

from __future__ import annotations

from assistant.parse.numbering import split_parts
from assistant.types import Document


def build_document(
    *,
    doc_id: str,
    title: str,
    question: str,
    answer: str,
    date: str | None = None,
    asker: str | None = None,
    party: str | None = None,
    minister: str | None = None,
    department: str | None = None,
    themes: tuple[str, ...] = (),
    source: str = "",
    url: str | None = None,
) -> Document:
    """Split the question and answer into parts and wrap everything in a Document."""
    split = split_parts(question, answer)
    return Document(
        doc_id=doc_id,
        title=title,
        question_text=question,
        answer_text=answer,
        parts=tuple(split.parts),
        intro=split.intro,
        date=date,
        asker=asker,
        party=party,
        minister=minister,
        department=department,
        themes=themes,
        source=source,
        url=url,
        unassigned=tuple(split.unassigned),
    )
