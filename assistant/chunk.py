"""Documents to Chunks: one entry per part, long answers split but still cited to their part. Pure.

A chunk carries the document title and the part's question as context, and the answer text a reader should see:
its own text, or, for a part answered by reference, the head of the text it points to (marked as such).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from assistant.types import Document, Part, PartKey

CHUNKER_VERSION = "2"
PIECE_CHARS = 1200
PIECE_OVERLAP = 120
QUESTION_CHARS = 400
REF_HEAD_CHARS = 400


@cache
def _splitter() -> Any:
    # Imported on first use: langchain takes most of a second to import, and searching never splits a text.
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=PIECE_CHARS,
        chunk_overlap=PIECE_OVERLAP,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
    )


@dataclass(frozen=True)
class Chunk:
    """A piece of one part as it is embedded and stored."""

    chunk_id: str
    doc_id: str
    part: str
    piece: int
    text: str
    via_ref: str | None = None


def part_id(doc_id: str, label: str) -> str:
    """A part's first chunk id, "doc#3e" (later pieces add "~1", "~2"): the same string as its PartKey."""
    return str(PartKey(doc_id, label))


def fingerprint(doc: Document, chunks: list[Chunk] | None = None) -> str:
    """Changes whenever the document or the chunks made of it change (so a new chunker re-embeds only what differs)."""
    chunks = chunk_document(doc) if chunks is None else chunks
    # "text" is what a since-removed chunk kind always was; hashed as before, so existing indexes stay current
    payload = json.dumps(
        [doc.to_dict(), [(c.chunk_id, "text", c.text) for c in chunks]], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def _context(doc: Document, part: Part) -> str:
    question = " ".join(part.question.split())
    if len(question) > QUESTION_CHARS:
        question = question[:QUESTION_CHARS].rsplit(" ", 1)[0] + " ..."
    if not question:
        question = " ".join(doc.intro.split())[:QUESTION_CHARS]
    return f"{doc.title}. Vraag {part.label}: {question}"


def chunk_document(doc: Document) -> list[Chunk]:
    """The chunks of one document, in part order, with stable ids."""
    chunks: list[Chunk] = []
    for part in doc.parts:
        context = _context(doc, part)
        resolved = doc.resolve(part.label)
        if part.ref and resolved is not None and resolved.label != part.label:
            head = " ".join(doc.answer_for(part.label).split())[:REF_HEAD_CHARS]
            where = "per deelvraag" if part.ref_kind == "items" else f"zie vraag {resolved.label}"
            text = f"{context}\nAntwoord ({where}): {head}" if head else context
            chunks.append(Chunk(part_id(doc.doc_id, part.label), doc.doc_id, part.label, 0, text, resolved.label))
            continue
        answer = " ".join(part.answer.split())
        pieces = _splitter().split_text(answer) if answer else [""]
        for i, piece in enumerate(pieces):
            cid = part_id(doc.doc_id, part.label) + (f"~{i}" if i else "")
            text = f"{context}\nAntwoord: {piece}" if piece else context
            chunks.append(Chunk(cid, doc.doc_id, part.label, i, text))
    return chunks


CONTEXT_CHARS = 1000


def context_text(doc: Document) -> str:
    """What a document is about as a whole: its title and the introduction its parts share (or, without one, the
    start of the question). Embedded once per document as document-level evidence for ranking its parts."""
    intro = " ".join((doc.intro or doc.question_text).split())
    if len(intro) > CONTEXT_CHARS:
        intro = intro[:CONTEXT_CHARS].rsplit(" ", 1)[0]
    return f"{doc.title}. {intro}" if intro else doc.title


def question_text(doc: Document, label: str) -> str:
    """What a part asks, as one line with its document's title (a sub-question such as "Wat is de kostprijs van al
    deze werken?" says little without it); the title alone for a part without a question of its own. Embedded as a
    query, once per part (index.questions), to order the parts within a document."""
    part = doc.part(label)
    asked = " ".join(part.question.split()) if part is not None else ""
    return f"{doc.title}. {asked}" if asked else doc.title


def part_search_text(doc: Document, part: Part) -> str:
    """The words the keyword side matches for a part: title, the question's introduction (the context the parts
    share), the part's question and the answer it resolves to. Change index.keywords.KEYWORDS_VERSION with it."""
    return f"{doc.title}\n{doc.intro}\n{part.question}\n{doc.answer_for(part.label)}"
