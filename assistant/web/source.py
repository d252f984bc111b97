"""The source view: one document as a server-rendered HTML page, every part's question and answer together.

Every text from the document is escaped with `html.escape`; nothing from a document is ever inserted as markup,
and the page's Content-Security-Policy forbids scripts besides. Which document to show is app.py's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlparse

from assistant.render import coverage_line, ref_note
from assistant.types import Document, Part, Span
from assistant.web.markup import marked, text_html
from assistant.web.views import part_anchor

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"
"""No scripts at all: even a text that slipped past escaping could not run."""

_CSS = """
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f6f7f9;
       margin: 0; }
main { max-width: 52rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; background: #fff; min-height: 100vh; }
nav { max-width: 52rem; margin: 0 auto; padding: .75rem 1.25rem 0; }
nav a, a { color: #0b57d0; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 0 0 .4rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0 0 1rem; }
dl.meta dt { color: #59636e; } dl.meta dd { margin: 0; }
.coverage { background: #eef4ff; border-radius: 6px; padding: .5rem .75rem; }
.intro { color: #3d444d; }
.part { border-left: 4px solid transparent; padding: .75rem 1rem; margin: 1rem -1rem; border-radius: 4px;
        scroll-margin-top: 1rem; }
.part.highlight, .part:target { background: #fff8c5; border-left-color: #d4a72c; }
.question { font-weight: 600; }
.label { color: #59636e; font-weight: 400; }
.answer { margin-top: .4rem; }
.ref { color: #59636e; font-style: italic; margin: .4rem 0 .2rem; }
:root { color-scheme: light dark; }
blockquote { margin: .3rem 0 0; padding: .3rem .8rem; border-left: 3px solid #d0d7de; color: #3d444d; }
.none { color: #8c959f; font-style: italic; }
mark { background: #ffd33d; color: #1f2328; padding: 0 .1em; }
@media (prefers-color-scheme: dark) {
  body { color: #e6edf3; background: #0d1117; }
  main { background: #161b22; }
  nav a, a { color: #79b8ff; }
  dl.meta dt, .label, .ref, .intro { color: #9da7b3; }
  .coverage { background: #1c2a41; }
  .part.highlight, .part:target { background: #2d2610; border-left-color: #d4a72c; }
  blockquote { border-left-color: #3d444d; color: #c9d1d9; }
  mark { background: #6b5500; color: #fff8d6; }
}
"""


def _meta(doc: Document) -> str:
    rows = [
        ("Document", doc.doc_id),
        ("Datum", doc.date),
        ("Vraagsteller", doc.asker),
        ("Fractie", doc.party),
        ("Minister", doc.minister),
        ("Departement", doc.department),
        ("Thema's", ", ".join(doc.themes)),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows if v)
    if doc.url and urlparse(doc.url).scheme in ("http", "https"):
        items += f'<dt>Bron</dt><dd><a href="{escape(doc.url)}" rel="noopener noreferrer">{escape(doc.url)}</a></dd>'
    return f'<dl class="meta">{items}</dl>'


def _part(doc: Document, part: Part, highlighted: bool, marks: Sequence[Span] = ()) -> str:
    classes = "part highlight" if highlighted else "part"
    current = ' aria-current="true"' if highlighted else ""
    question = text_html(part.question) if part.question else '<span class="none">(geen eigen vraagtekst)</span>'
    body = ""
    if part.answer:
        body += f'<div class="answer">{marked(part.answer, marks, limit=len(part.answer))}</div>'
    resolved = doc.resolve(part.label)
    if part.ref:
        note = ref_note(part)
        extra = f" ({escape(note)})" if part.ref_kind != "reference" and note else ""
        # The part it points to is on this page: a link, not its text again.
        target = resolved.label if resolved is not None and part.ref_kind != "items" else part.ref
        link = f'<a href="#{part_anchor(target)}">vraag {escape(target)}</a>'
        body += f'<p class="ref">vraag {escape(part.label)}: zie {link}{extra}</p>'
    if not body:
        body = '<p class="none">(geen antwoord)</p>'
    return (
        f'<section id="{part_anchor(part.label)}" class="{classes}"{current}>'
        f'<h2><span class="label">vraag {escape(part.label)}</span></h2>'
        f'<div class="question">{question}</div>{body}</section>'
    )


def marked_part(doc: Document, label: str | None) -> str | None:
    """The part whose own answer text holds the sentences marked for `label`: itself, or the part a reference
    points to (the chat's offsets are into that text); None for a number answered through its items."""
    part = doc.part(label) if label else None
    if part is None or part.ref_kind == "items":
        return None
    resolved = doc.resolve(part.label)
    return resolved.label if resolved is not None and resolved.answer else None


def document_page(doc: Document, highlight: str | None = None, marks: Sequence[Span] = ()) -> str:
    """The whole document as an HTML page; the part labelled `highlight` carries the `highlight` class and the
    sentences at `marks` (offsets into the answer text the chat showed for it) are in <mark>."""
    intro = f'<div class="intro">{text_html(doc.intro)}</div>' if doc.intro else ""
    target = marked_part(doc, highlight)
    parts = "\n".join(_part(doc, p, p.label == highlight, marks if p.label == target else ()) for p in doc.parts)
    return _page(
        f"{doc.title} - {doc.doc_id}",
        f'<h1>{escape(doc.title)}</h1>{_meta(doc)}{intro}<p class="coverage">{escape(coverage_line(doc))}</p>\n{parts}',
    )


def not_found_page(doc_id: str) -> str:
    """The page for an unknown document id."""
    return _page(
        "Document niet gevonden",
        f"<h1>Document niet gevonden</h1><p>Er is geen document met id <code>{escape(doc_id)}</code>. "
        "/ There is no document with this id.</p>",
    )


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n"
        '<body><nav><a href="../">&larr; terug naar de chat</a></nav>'
        f"<main>{body}</main></body></html>\n"
    )
