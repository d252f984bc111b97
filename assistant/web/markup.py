"""HTML fragments for the chat: a cited answer, the "Eerder gesteld?" results and plain messages.

Document text is data, never markup: every text passes through `html.escape` before it meets a tag
(sv_2023_1019 quotes `<script>` on purpose). A fragment is one line without blank lines, so Gradio's Markdown
treats it as a single raw HTML block and leaves `*`, `_` or `1.` in the minister's words alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from assistant.answer import Answer
from assistant.earlier import Similar
from assistant.types import Citation, Hit, Span
from assistant.web.views import source_path

CLIP = 1_500
"""Characters of an answer shown in the chat; the source view has the rest."""


def text_html(text: str) -> str:
    """Escaped text with its line breaks kept as <br> (so the fragment stays on one line)."""
    return "<br>".join(escape(line) for line in text.splitlines())


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


def citation_link(citation: Citation, text: str | None = None) -> str:
    """The citation "title - doc id, vraag 3e - minister - date" (or `text`) as a link to the cited part."""
    href = escape(source_path(citation.doc_id, citation.part))
    return f'<a class="pqa-link" href="{href}">{escape(text or citation.label())}</a>'


def ref_line(citation: Citation) -> str:
    if not citation.via_ref:
        return ""
    return (
        f'<p class="pqa-ref">vraag {escape(citation.part)} verwijst naar vraag {escape(citation.via_ref)}; '
        f"hieronder het antwoord op vraag {escape(citation.via_ref)}.</p>"
    )


def hit_html(hit: Hit, short: bool = False) -> str:
    """One cited part: its citation link, the sub-question, any reference, and the answer with its best sentences.

    `short` links only "Vraag 3e:", for a list that already names the document above its parts.
    """
    c = hit.citation
    label = f"Vraag {c.part}:"
    head = (
        f'<p class="pqa-q">{citation_link(c, label)} {text_html(hit.question)}</p>'
        if short
        else f'<p class="pqa-cite">{citation_link(c)}</p>'
        f'<p class="pqa-q"><strong>{escape(label)}</strong> {text_html(hit.question)}</p>'
    )
    return (
        f'<div class="pqa-hit">{head}'
        f"{ref_line(c)}"
        f'<blockquote class="pqa-a">{marked(hit.answer, hit.highlights)}</blockquote>'
        "</div>"
    )


def understood_html(answer: Answer) -> str:
    """The line above a follow-up's answer saying how it was read ("Ik begreep: ..."), or nothing."""
    if not answer.understood:
        return ""
    return f'<p class="pqa-understood">{escape(answer.understood)}</p>'


def answer_html(answer: Answer) -> str:
    """The chat reply: what a follow-up was understood as, the best document's parts first, then "Ook relevant",
    or the abstain message."""
    if answer.abstained:
        body = f"<p>{escape(answer.message)}</p>"
        if answer.suggestions:
            items = "".join(
                f"<li>{citation_link(h.citation)}: {escape(h.question[:160])}</li>" for h in answer.suggestions
            )
            body += f"<p>Misschien bedoelt u:</p><ul>{items}</ul>"
        return f'<div class="pqa-answer pqa-abstain">{understood_html(answer)}{body}</div>'
    primary = answer.hits[: answer.primary_count]
    related = answer.hits[answer.primary_count :]
    body = understood_html(answer) + "".join(hit_html(h) for h in primary)
    if related:
        body += '<p class="pqa-related">Ook relevant</p>' + "".join(hit_html(h) for h in related)
    return f'<div class="pqa-answer">{body}</div>'


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
    for part in result.parts:
        own = f'<p class="pqa-draft-q"><strong>Uw vraag {escape(part.label)}:</strong> {text_html(part.question)}</p>'
        if not part.earlier:
            blocks.append(
                f'<div class="pqa-draft-part">{own}<p class="pqa-none">Geen eerdere vraag lijkt hier voldoende op.</p>'
                "</div>"
            )
            continue
        found = "".join(_earlier_html(result, h) for h in part.earlier)
        blocks.append(f'<div class="pqa-draft-part">{own}{found}</div>')
    return f'<div class="pqa-answer"><p>{escape(head)}:</p>{"".join(blocks)}</div>'


def _earlier_html(result: Similar, hit: Hit) -> str:
    similarity = hit.similarity if hit.similarity is not None else hit.score
    badge = f'<p class="pqa-sim">{escape(result.policy.word(similarity))} ({percent(similarity)})</p>'
    return f'<div class="pqa-earlier">{badge}{hit_html(hit)}</div>'


def message_html(text: str) -> str:
    """A plain message (an error said to the user), escaped."""
    return f'<div class="pqa-answer pqa-message"><p>{text_html(text)}</p></div>'
