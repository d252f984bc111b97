"""Plain-text views of documents and coverage for the terminal; pure functions of the domain values."""

from __future__ import annotations

import textwrap

from assistant.text import is_referral
from assistant.types import Document, Part

REF_WORDS = {
    "reference": "verwijst naar vraag {ref}",
    "joint": "samen beantwoord met vraag {ref}",
    "items": "beantwoord per deelvraag ({ref} ...)",
    "whole": "het antwoord geldt voor alle deelvragen (zie vraag {ref})",
}


def coverage(doc: Document) -> dict[str, list[str]]:
    """Which parts got an answer of their own, which were only sent on to another minister, which only a reference,
    which nothing."""
    own, referred, ref, none = [], [], [], []
    for p in doc.parts:
        resolved = doc.resolve(p.label)
        if resolved is not None and resolved.answer and is_referral(resolved.answer):
            referred.append(p.label)
        elif p.ref and resolved is not None and resolved.answer:
            ref.append(p.label)
        elif p.answer:
            own.append(p.label)
        else:
            none.append(p.label)
    return {"own": own, "referred": referred, "reference": ref, "none": none}


def coverage_line(doc: Document) -> str:
    c = coverage(doc)
    total = len(doc.parts)
    text = f"{len(c['own'])} van {total} deelvragen inhoudelijk beantwoord"
    if c["referred"]:
        text += f", {len(c['referred'])} doorverwezen naar een andere bevoegde minister of dienst"
    if c["reference"]:
        text += f", {len(c['reference'])} via een verwijzing"
    if c["none"]:
        text += f", {len(c['none'])} zonder antwoord ({', '.join(c['none'])})"
    return text


def ref_note(part: Part) -> str:
    if not part.ref or not part.ref_kind:
        return ""
    return REF_WORDS.get(part.ref_kind, "zie vraag {ref}").format(ref=part.ref)


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=100, initial_indent=indent, subsequent_indent=indent)


def format_document(doc: Document) -> str:
    """The parsed document as a person wants to read it in a terminal."""
    meta = [
        ("id", doc.doc_id),
        ("datum", doc.date),
        ("vraagsteller", doc.asker),
        ("fractie", doc.party),
        ("minister", doc.minister),
        ("departement", doc.department),
    ]
    lines = [doc.title, "=" * min(len(doc.title), 100)]
    lines += [f"{k}: {v}" for k, v in meta if v]
    if doc.intro:
        lines += ["", _wrap(doc.intro, "")]
    lines += ["", coverage_line(doc)]
    for p in doc.parts:
        lines += [
            "",
            f"vraag {p.label}:",
            _wrap(p.question, "    ") if p.question else "    (geen eigen vraagtekst)",
        ]
        if p.answer:
            lines += ["  antwoord:", _wrap(p.answer, "    ")]
        note = ref_note(p)
        if note:
            lines.append(f"  -> {note}")
            resolved = doc.resolve(p.label)
            # a number answered through its items: the items follow, each with its answer
            if p.ref_kind != "items" and resolved is not None and resolved.label != p.label and resolved.answer:
                lines.append(_wrap(f"[vraag {resolved.label}] {resolved.answer}", "    "))
        if p.see:
            lines.append(f"  -> verwijst ook naar vraag {', '.join(p.see)}")
        for other in p.elsewhere:
            lines.append(f"  -> verwijst naar een andere {other.describe()}")
        if not p.answer and not note:
            lines.append("  (geen antwoord)")
    return "\n".join(lines)
