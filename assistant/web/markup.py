"""HTML fragments for the chat: a cited answer (the direct answer first, then one header per document with its
parts as "vraag 3e" chips), the "Eerder gesteld?" results and plain messages; and the same answer as Markdown.

Document text is data, never markup: every text passes through `html.escape` before it meets a tag
(sv_2023_1019 quotes `<script>` on purpose). A fragment is one line without blank lines, so Gradio's Markdown
treats it as a single raw HTML block and leaves `*`, `_` or `1.` in the minister's words alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from assistant.answer import Answer
from assistant.earlier import Similar
from assistant.parse.clean import ANNEX
from assistant.types import QUOTE_HEAD, Citation, Hit, Pointer, Quote, Span
from assistant.web.views import source_path

CLIP = 1_500
"""Characters of an answer shown in the chat; the source view has the rest."""


@dataclass(frozen=True)
class Words:
    """The chat's own words around the minister's: Dutch, or English for `?lang=en`."""

    part: str = "vraag"
    see: str = "zie"
    related: str = "Ook relevant"
    maybe: str = "Misschien bedoelt u:"
    link: str = "Link naar dit antwoord"
    copy: str = "Kopieer antwoord"
    pending: str = "Bezig met zoeken"


WORDS = {
    "nl": Words(),
    "en": Words("question", "see", "Also relevant", "Did you mean:", "Link to this answer", "Copy answer", "Searching"),
}


def words_for(lang: str | None) -> Words:
    """The words of a page language; Dutch for any other."""
    return WORDS.get(lang or "nl", WORDS["nl"])


SAME_MIN = 40
"""A paragraph at least this long that an answer already showed is not shown again: "zie vraag 1" instead."""

# Sentences the export glued together ("beschikbaar.De bijlagen"): shown with a space, offsets untouched.
_GLUED = re.compile(r"(?<=[a-z\u00e0-\u00ff]{2}[.;:!?])(?=[A-Z\u00c0-\u00de][a-z])")
# An item that starts on the same line after a sentence or a colon ("... volgt: a) eerst; b) dan", "- een"):
# it gets a line of its own, as in the letter that was sent.
_INLINE_ITEM = re.compile(r"(?<=[.;:])\s+(?=(?:[a-z]\)|[-\u2022\u2013] )\s*\S)")
# A label the items answer puts before each item's text ("3a-3d) ").
_ITEM_LABEL = re.compile(r"^(\w{1,6}(?:-\w{1,6})?\))\s*")


# What a reader sees for the placeholder of an annexed table (parse.clean.ANNEX) instead of its code: the table itself
# is not in the export.
ANNEX_NOTE = "[tabel in bijlage, niet in de export]"


def readable(text: str) -> str:
    """The text as a person reads it: glued sentences get their space, inline items their own line, an annexed
    table's placeholder a line saying so."""
    text = ANNEX.sub(lambda m: f"\n{ANNEX_NOTE}\n", text)
    return _INLINE_ITEM.sub("\n", _GLUED.sub(" ", text))


def text_html(text: str) -> str:
    """Escaped text with its line breaks (and those `readable` adds) kept as <br> (the fragment stays one line)."""
    # a blank line is a paragraph's end, not two breaks of white in a chat bubble
    return "<br>".join(escape(line) for line in readable(text).splitlines() if line.strip())


def marked(text: str, spans: Sequence[Span] = (), limit: int = CLIP) -> str:
    """Escaped text with the `spans` in <mark>, clipped after `limit` characters (never inside a span)."""
    end = max([limit, *(hi for _, hi in spans)])
    out: list[str] = []
    pos = 0
    for lo, hi in sorted(spans):
        if lo < pos or hi <= lo:
            continue
        out += [text_html(text[pos:lo]), "<mark>", text_html(text[lo:hi]), "</mark>"]
        pos = hi
    out.append(text_html(text[pos:end]))
    if len(text) > end:
        out.append(" &hellip;")
    return "".join(out)


def short_who(who: str) -> str:
    """A minister's title short enough for one line: the person's name where the title ends with it ("Vlaams
    minister van ..., Jeroen Maes" -> "Jeroen Maes"), else the title without its "belast met ..." tail."""
    head, _, last = who.rpartition(", ")
    if head and re.fullmatch(r"(?:[A-Z\u00c0-\u00de][\w'-]+ ?){2,4}", last.strip()):
        return last.strip()
    return re.split(r",\s*(?:belast met|toegevoegd aan)\b", who, maxsplit=1)[0]


def meta_line(c: Citation) -> str:
    """Minister, date and id in one short line ("Jeroen Maes · 2024-02-13 · sv_2024_0213")."""
    return " \u00b7 ".join(bit for bit in (short_who(c.who) if c.who else "", c.date or "", c.doc_id) if bit)


def part_link(c: Citation, marks: Sequence[Span] = (), text: str | None = None, w: Words = WORDS["nl"]) -> str:
    """The chip "vraag 3e" (or `text`) linking to the part in the source view; its full label on hover."""
    href = escape(source_path(c.doc_id, c.part, marks))
    return (
        f'<a class="pqa-link pqa-chip" href="{href}" title="{escape(c.label())}">'
        f"{escape(text or w.part + ' ' + c.part)}</a>"
    )


def citation_link(citation: Citation, text: str | None = None) -> str:
    """The whole citation "title - doc id, vraag 3e - minister - date" (or `text`) as a link to the cited part."""
    href = escape(source_path(citation.doc_id, citation.part))
    return (
        f'<a class="pqa-link" href="{href}" title="{escape(citation.label())}">{escape(text or citation.label())}</a>'
    )


def doc_head(c: Citation) -> str:
    """One document's header: its title (linking to the source view), then minister, date and id."""
    href = escape(source_path(c.doc_id))
    return (
        f'<p class="pqa-doc-head"><a class="pqa-link pqa-doc-title" href="{href}" title="{escape(c.title)}">'
        f'{escape(c.title)}</a><br><span class="pqa-meta" title="{escape(c.who or "")}">'
        f"{escape(meta_line(c))}</span></p>"
    )


def quote_html(citation: Citation, quote: Quote) -> str:
    """Another part of the document that the answer points to: "uit het antwoord op vraag 3:" and its text."""
    href = escape(source_path(citation.doc_id, quote.label))
    head = QUOTE_HEAD.format(label=quote.label)
    return (
        f'<p class="pqa-ref"><a class="pqa-link" href="{href}">{escape(head)}</a></p>'
        f'<blockquote class="pqa-a pqa-quote">{marked(quote.text)}</blockquote>'
    )


def pointer_html(pointer: Pointer) -> str:
    """A question of another document that the answer points to: linked where the index has it, else said so."""
    what = f"Verwijst naar een andere {pointer.question.describe()}"
    if pointer.doc_id is None:
        return f'<p class="pqa-ref pqa-elsewhere">{escape(what)}: niet gevonden in de index.</p>'
    href = escape(source_path(pointer.doc_id))
    title = escape(f"{pointer.title} ({pointer.doc_id})")
    return f'<p class="pqa-ref pqa-elsewhere">{escape(what)}: <a class="pqa-link" href="{href}">{title}</a></p>'


@dataclass
class Shown:
    """What one chat answer has shown so far: each paragraph's first place, so none is shown twice."""

    paragraphs: dict[str, Citation]
    words: Words = WORDS["nl"]

    @classmethod
    def empty(cls, words: Words = WORDS["nl"]) -> Shown:
        return cls({}, words)

    @staticmethod
    def key(paragraph: str) -> str:
        return " ".join(_ITEM_LABEL.sub("", paragraph).split()).casefold()


def _paragraphs(text: str) -> list[Span]:
    spans, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def body_html(hit: Hit, shown: Shown, clip: int = CLIP) -> str:
    """A part's answer paragraph by paragraph, the marked sentences in <mark>; a paragraph shown before in this
    answer becomes "zie vraag 1", linking to that part."""
    out: list[str] = []
    used = 0
    for lo, hi in _paragraphs(hit.answer):
        paragraph = hit.answer[lo:hi]
        key = Shown.key(paragraph)
        earlier = shown.paragraphs.get(key) if len(key) >= SAME_MIN else None
        if earlier is not None and earlier != hit.citation:
            label = m.group(1) + " " if (m := _ITEM_LABEL.match(paragraph)) else ""
            w = shown.words
            out.append(f'<p class="pqa-same">{escape(label)}{w.see} {part_link(earlier, w=w)}</p>')
            continue
        if len(key) >= SAME_MIN:
            shown.paragraphs.setdefault(key, hit.citation)
        if used >= clip:
            out.append("<p>&hellip;</p>")
            break
        local = [(max(a, lo) - lo, min(b, hi) - lo) for a, b in hit.highlights if a < hi and b > lo]
        out.append(f"<p>{marked(paragraph, local, clip - used)}</p>")
        used += len(paragraph)
    return f'<blockquote class="pqa-a">{"".join(out)}</blockquote>'


def ref_line(hit: Hit, w: Words = WORDS["nl"]) -> str:
    """For a part answered by another part's text: "zie vraag 1" linking there (the text follows only when
    vraag 1 itself is not shown in this answer)."""
    c = hit.citation
    if not c.via_ref:
        return ""
    target = Citation(c.doc_id, c.via_ref, c.title, c.date, c.minister, c.department)
    return f'<p class="pqa-ref">{w.part} {escape(c.part)}: {w.see} {part_link(target, w=w)}</p>'


def hit_html(hit: Hit, shown: Shown, shown_parts: set[str]) -> str:
    """One cited part: its chip and sub-question, any reference, and the answer with its marked sentences."""
    c = hit.citation
    question = text_html(hit.question) if hit.question else ""
    w = shown.words
    head = f'<p class="pqa-q">{part_link(c, hit.highlights, w=w)} {question}</p>'
    if c.via_ref and c.via_ref in shown_parts:
        return f'<div class="pqa-hit">{head}{ref_line(hit, w)}</div>'
    others = "".join(quote_html(c, q) for q in hit.quotes) + "".join(pointer_html(p) for p in hit.pointers)
    return f'<div class="pqa-hit">{head}{ref_line(hit, w)}{body_html(hit, shown)}{others}</div>'


def doc_html(hits: Sequence[Hit], shown: Shown) -> str:
    """One document: its header once, then its parts."""
    labels = {h.citation.part for h in hits}
    parts = "".join(hit_html(h, shown, labels) for h in hits)
    return f'<section class="pqa-doc">{doc_head(hits[0].citation)}{parts}</section>'


def by_document(hits: Sequence[Hit]) -> list[list[Hit]]:
    """The hits grouped per document, documents in the order of their first hit."""
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        groups.setdefault(h.citation.doc_id, []).append(h)
    return list(groups.values())


def understood_html(answer: Answer) -> str:
    """The line above a follow-up's answer saying how it was read ("Ik begreep: ..."), or nothing."""
    if not answer.understood:
        return ""
    return f'<p class="pqa-understood">{escape(answer.understood)}</p>'


def direct_html(answer: Answer, w: Words = WORDS["nl"]) -> str:
    """The direct answer: the best part's sentence that answers the question, verbatim and marked, with its
    compact citation."""
    if answer.direct is None or not answer.hits:
        return ""
    top = answer.hits[0]
    c = top.citation
    return (
        '<div class="pqa-direct">'
        f'<p class="pqa-direct-text"><mark>{text_html(answer.direct_text)}</mark></p>'
        f'<p class="pqa-direct-cite">{part_link(c, top.highlights, w=w)} '
        f'<span class="pqa-meta">{escape(c.title)} \u00b7 {escape(meta_line(c))}</span></p>'
        "</div>"
    )


def actions_html(answer: Answer, link: str, w: Words = WORDS["nl"]) -> str:
    """Below an answer: its permalink and a button that copies it as Markdown with its citations (chat.js; the
    Markdown rides along in a hidden <pre>, escaped like any text: Gradio's sanitizer drops data attributes)."""
    # newlines as character references: a blank line would end Gradio's Markdown HTML block
    markdown = escape(answer_markdown(answer)).replace("\n", "&#10;")
    permalink = f'<a class="pqa-permalink" href="{escape(link)}">{w.link}</a>' if link else ""
    return (
        f'<div class="pqa-actions">{permalink}<button type="button" class="pqa-copy">{w.copy}</button>'
        f'<pre class="pqa-md" hidden>{markdown}</pre></div>'
    )


def answer_html(answer: Answer, link: str = "", lang: str = "nl") -> str:
    """The chat reply: what a follow-up was understood as, the direct answer, the best document's parts, then
    "Ook relevant"; or the abstain message. `link`: the answer's permalink, shown with a copy button; `lang`: the
    language of the chat's own words ("en" or Dutch)."""
    w = words_for(lang)
    if answer.abstained:
        body = f"<p>{escape(answer.message)}</p>"
        if answer.suggestions:
            items = "".join(
                f"<li>{part_link(h.citation, text=h.citation.title, w=w)} ({escape(meta_line(h.citation))}): "
                f"{escape(h.question[:160])}</li>"
                for h in answer.suggestions
            )
            body += f"<p>{w.maybe}</p><ul>{items}</ul>"
        return (
            f'<div class="pqa-answer pqa-abstain">{understood_html(answer)}{body}{actions_html(answer, link, w)}</div>'
        )
    shown = Shown.empty(w)
    primary = answer.hits[: answer.primary_count]
    related = answer.hits[answer.primary_count :]
    body = understood_html(answer) + direct_html(answer, w)
    body += "".join(doc_html(group, shown) for group in by_document(primary))
    if related:
        body += f'<p class="pqa-related">{w.related}</p>'
        body += "".join(doc_html(group, shown) for group in by_document(related))
    return f'<div class="pqa-answer">{body}{actions_html(answer, link, w)}</div>'


def percent(similarity: float) -> str:
    """0.912 -> "91%"."""
    return f"{round(similarity * 100)}%"


def similar_html(result: Similar) -> str:
    """Eerder gesteld?: per sub-question of the draft, the earlier sub-questions like it with how similar they
    are, or plainly that none is similar enough."""
    cutoff = result.policy.cutoff
    if not result.found:
        said = "Geen eerder gestelde vraag lijkt voldoende op uw ontwerp"
        if cutoff > 0:
            said += f" (alle gelijkenissen liggen onder {percent(cutoff)})"
        return f'<div class="pqa-answer pqa-none"><p>{said}.</p></div>'
    head = "Per deelvraag van uw ontwerp de eerder gestelde deelvragen die erop lijken, meest gelijkend eerst"
    if cutoff > 0:
        head += f" (vanaf {percent(cutoff)} gelijkenis)"
    blocks = []
    shown = Shown.empty()  # one paragraph once, however many sub-questions it answers
    for part in result.parts:
        own = f'<p class="pqa-draft-q"><strong>Uw vraag {escape(part.label)}:</strong> {text_html(part.question)}</p>'
        if not part.earlier:
            blocks.append(
                f'<div class="pqa-draft-part">{own}<p class="pqa-none">Geen eerdere vraag lijkt hier voldoende op.</p>'
                "</div>"
            )
            continue
        found = "".join(_earlier_html(result, hits, shown) for hits in by_document(part.earlier))
        blocks.append(f'<div class="pqa-draft-part">{own}{found}</div>')
    return f'<div class="pqa-answer"><p>{escape(head)}:</p>{"".join(blocks)}</div>'


def _earlier_html(result: Similar, hits: Sequence[Hit], shown: Shown) -> str:
    """One earlier document under a draft's sub-question: its header once, then each of its parts like the
    sub-question with how similar it is."""
    labels = {h.citation.part for h in hits}
    parts = []
    for hit in hits:
        similarity = hit.similarity if hit.similarity is not None else hit.score
        badge = f'<p class="pqa-sim">{escape(result.policy.word(similarity))} ({percent(similarity)})</p>'
        parts.append(f'<div class="pqa-earlier">{badge}{hit_html(hit, shown, labels)}</div>')
    return f'<section class="pqa-doc">{doc_head(hits[0].citation)}{"".join(parts)}</section>'


def message_html(text: str) -> str:
    """A plain message (an error said to the user), escaped."""
    return f'<div class="pqa-answer pqa-message"><p>{text_html(text)}</p></div>'


def pending_html(lang: str = "nl") -> str:
    """The assistant's message while it searches ("Bezig met zoeken...")."""
    return (
        '<div class="pqa-answer pqa-pending" role="status"><p><span class="pqa-spinner" aria-hidden="true">'
        f"</span>{words_for(lang).pending}&hellip;</p></div>"
    )


# ---------------------------------------------------------------- Markdown (copy, export)


def _md(text: str) -> str:
    """Text safe inside Markdown: the characters that would format escaped."""
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", " ".join(readable(text).split()))


def answer_markdown(answer: Answer, site: str = "") -> str:
    """The answer as Markdown: the direct answer, then per document its header and each part's question and
    answer with a link to the source view (`site` is prefixed to the links, e.g. "https://host/")."""
    if answer.abstained:
        return _md(answer.message)
    lines: list[str] = []
    if answer.understood:
        lines += [f"_{_md(answer.understood)}_", ""]
    if answer.direct_text:
        c = answer.hits[0].citation
        lines += [f"**{_md(answer.direct_text)}** ([vraag {c.part}]({site}{source_path(c.doc_id, c.part)}))", ""]
    for group in by_document(answer.hits):
        c = group[0].citation
        lines += [f"### {_md(c.title)}", f"{_md(c.who or '')} \u00b7 {c.date or ''} \u00b7 {c.doc_id}".strip(" \u00b7")]
        labels = {h.citation.part for h in group}
        for h in group:
            link = f"[vraag {h.citation.part}]({site}{source_path(h.citation.doc_id, h.citation.part)})"
            lines += ["", f"**{link}** {_md(h.question)}"]
            if h.citation.via_ref and h.citation.via_ref in labels:
                lines.append(f"> zie vraag {h.citation.via_ref}")
            else:
                lines += [f"> {_md(p)}" for p in h.answer.split("\n") if p.strip()]
        lines.append("")
    return "\n".join(lines).strip() + "\n"
