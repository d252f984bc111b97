"""The Gradio chat in Dutch: ask with filters, see the minister's own words with citations, and "Eerder gesteld?".

Callbacks stay thin: they call views.py like the JSON API does and render with markup.py, which escapes every
document text. An AssistantError becomes a chat message here (this is an edge); nothing else is caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gradio as gr

from assistant.answer import AbstainPolicy, Answer
from assistant.application import Assistant
from assistant.errors import AssistantError, ConfigError
from assistant.staff import StaffLog
from assistant.types import Document
from assistant.web import feedback, views
from assistant.web.markup import answer_html, message_html, pending_html, similar_html

EXAMPLES = (
    "Hoeveel stagiairs van buitenlandse herkomst liepen in 2023 stage bij de Vlaamse overheid?",
    "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd of heraangelegd?",
    "Hoeveel meldingen van phishing en kwaadaardige e-mails kregen scholen en AGODI in het schooljaar 2022-2023?",
    "Hoe lang staat een sociale huurwoning gemiddeld leeg?",
)
"""Questions the bundled sample corpus answers (see corpus/questions.md)."""

ALL = ""
STATIC = Path(__file__).parent / "static"
CSS = (STATIC / "chat.css").read_text(encoding="utf-8")
"""The chat's own look: the answer layout, chips, marks readable in light and dark, small screens."""
HEAD = f"<script>{(STATIC / 'chat.js').read_text(encoding='utf-8')}</script>"
"""Runs in the page: scrolls to the start of a new answer, copies an answer as Markdown, keeps aria-labels plain
text. Inline because the page's CSP allows inline scripts and nothing from elsewhere."""

Getter = Callable[[], Assistant]


def theme() -> gr.themes.Base:
    """Gradio's default look with the reader's own fonts: the default theme fetches fonts from Google."""
    return gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


_DAY_FIRST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


def form_date(value: str) -> str:
    """A date as typed in the form, as ISO: "2023-03-02" stays, "2-3-2023", "02/03/2023" and "2.3.2023" (day
    first, as Belgians write it) become "2023-03-02"; anything else is left for the filter check to refuse."""
    value = value.strip()
    m = _DAY_FIRST.fullmatch(value)
    if m:
        day, month, year = (int(g) for g in m.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return value
    return value


def form_filters(
    minister: str, department: str, party: str, date_from: str, date_to: str, asker: str = ""
) -> dict[str, str]:
    """The filter widgets' values as API filters; an empty widget filters nothing."""
    given = {
        "minister": minister,
        "department": department,
        "party": party,
        "asker": asker,
        "date_from": form_date(date_from or ""),
        "date_to": form_date(date_to or ""),
    }
    return {k: v.strip() for k, v in given.items() if v and v.strip()}


def filters_note(get: Getter, filters: dict[str, str]) -> str:
    """The line under the filters: what each set filter was resolved to ("fractie 'open vld' (Open VLD)"), or
    what is wrong with one and the closest known values."""
    if not filters:
        return ""
    try:
        resolved = get().resolve_filters(filters)
    except ConfigError as err:
        return f"**Filter:** {err}"
    except AssistantError:
        return ""
    return f"**Actieve filters:** {resolved.describe()}"


Turns = list[dict[str, Any]]
"""The conversation as the chat keeps it (a gr.State): per turn the question, the parts cited ("doc#part") and what
a follow-up was understood as; the last views.HISTORY_MAX_TURNS go with the next question."""

KEPT_TURNS = 20
"""Turns of a conversation the browser keeps across a reload (each with its answer's HTML and Markdown)."""

PERMALINK_KEYS = ("q", "minister", "department", "party", "asker", "date_from", "date_to")
"""The permalink's parameters: the question, then the filters in the order of the filter widgets."""


def permalink(question: str, filters: Mapping[str, str], lang: str = "nl") -> str:
    """The chat's address that asks `question` with `filters` again when opened ("?q=...&minister=...")."""
    english = {"lang": "en"} if lang == "en" else {}
    return "?" + urlencode({"q": question, **{k: v for k, v in filters.items() if v}, **english})


def link_query(params: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The question and filters a permalink's query parameters ask for (unknown parameters are ignored)."""
    question = (params.get("q") or "").strip()[: views.QUESTION_MAX]
    filters = {k: params[k].strip() for k in PERMALINK_KEYS[1:] if (params.get(k) or "").strip()}
    return question, filters


def reply(
    get: Getter, question: str, filters: dict[str, str], policy: AbstainPolicy | None, turns: Turns | None = None
) -> str:
    """The chat's answer to a question as HTML; an AssistantError becomes a message the user can act on."""
    return converse(get, question, filters, policy, turns)[0]


def searched_as(answer: Answer) -> str:
    """The question as it stands alone: a follow-up as the query it was searched as, else as asked."""
    r = answer.resolved
    return str(r.query) if r is not None and r.followup else answer.question.strip()


def converse(
    get: Getter,
    question: str,
    filters: dict[str, str],
    policy: AbstainPolicy | None,
    turns: Turns | None = None,
    lang: str = "nl",
    log: StaffLog | None = None,
) -> tuple[str, dict[str, Any] | None]:
    """The answer to `question` in the conversation `turns` (oldest first) as HTML, and the turn to remember (None
    for a question that could not be asked: it is no part of the conversation). The turn also holds the answer as
    Markdown and its permalink. `log`: the staff's question log."""
    history = [{"question": t["question"], "cited": t["cited"]} for t in (turns or [])][-views.HISTORY_MAX_TURNS :]
    try:
        answer = views.ask(get(), question, filters, 5, policy, history, log=log, channel="chat")
    except AssistantError as err:
        return message_html(str(err)), None
    link = permalink(searched_as(answer), filters, lang)
    return answer_html(answer, link, lang), {
        "question": question.strip(),
        "cited": views.cited(answer),
        "understood": answer.understood,
        "link": link,
    }


def earlier(get: Getter, draft: str) -> str:
    """The "Eerder gesteld?" results as HTML, or the message of an AssistantError."""
    try:
        return similar_html(views.similar(get(), draft))
    except AssistantError as err:
        return message_html(str(err))


DROPDOWNS = {
    "minister": ("Minister", "Alle ministers"),
    "department": ("Departement", "Alle departementen"),
    "party": ("Fractie van de vraagsteller", "Alle fracties"),
    "asker": ("Vraagsteller", "Alle vraagstellers"),
}
"""The filter lists, in the order of PERMALINK_KEYS: field -> (label, the choice that filters nothing)."""


def _options(field: str, values: Sequence[str]) -> list[tuple[str, str]]:
    return [(DROPDOWNS[field][1], ALL), *((v, v) for v in values)]


def _dropdown(field: str, values: Sequence[str]) -> gr.Dropdown:
    # Typing filters the list; a typed value that is not in it is resolved loosely (filters.FilterValues).
    return gr.Dropdown(
        choices=_options(field, values),
        value=ALL,
        label=DROPDOWNS[field][0],
        visible=bool(values),
        filterable=True,
        allow_custom_value=True,
        elem_id=f"pqa-f-{field}",
    )


FOUND_NOTHING_WITH_FILTERS = "met deze filters:"
"""In the reply that found nothing under active filters (answer.with_filters): shows "Zoek zonder filters"."""


LABELS = {
    "nl": {
        "intro": "# Parlement Q&A\n"
        "Stel een vraag over de schriftelijke vragen. U krijgt de eigen woorden van de minister, met de bron tot op "
        "de deelvraag. Voor ontwikkelaars: [JSON-API](docs).",
        "question": "Uw vraag",
        "placeholder": "Bv. Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?",
        "ask": "Zoek antwoord",
        "reask": "Stel als nieuwe vraag",
        "new": "Nieuw gesprek",
        "export": "Gesprek downloaden (Markdown)",
        "chat": "Gesprek",
        "empty": "Stel hieronder een vraag of kies een voorbeeldvraag.",
    },
    "en": {
        "intro": "# Parlement Q&A\n"
        "Ask about the written parliamentary questions. You get the minister's own words (in Dutch), cited down to "
        "the sub-question. For developers: [JSON API](docs).",
        "question": "Your question",
        "placeholder": "E.g. How many kilometres of cycle highway were built in 2022?",
        "ask": "Find the answer",
        "reask": "Ask as a new question",
        "new": "New conversation",
        "export": "Download conversation (Markdown)",
        "chat": "Conversation",
        "empty": "Ask a question below or pick an example.",
    },
}
"""The Vraag tab's own words; `?lang=en` shows the English ones."""


def build(
    get: Getter, policy: AbstainPolicy | None, docs: Sequence[Document] = (), staff: StaffLog | None = None
) -> gr.Blocks:
    """The chat as a Blocks app; `get` returns the assistant (raising IndexMissingError while there is none);
    `staff` keeps the thumbs given on answers (and logs the questions when its question log is on)."""
    nl = LABELS["nl"]
    built = {k: views.choices(docs, k) for k in DROPDOWNS}

    def lists() -> dict[str, list[str]]:
        """The filter lists of the index as it is now (an ingest since start-up adds ministers, departments ...)."""
        try:
            current = get()
        except AssistantError:
            return built
        return {k: current.choices(k) for k in DROPDOWNS}

    Messages = list[dict[str, str]]

    def shown_question(question: str) -> dict[str, str]:
        return {"role": "user", "content": message_html(question.strip())}

    def pending(question: str, history: Messages, lang: str) -> tuple[Messages, str, str]:
        """Step one, at once: the question in the chat with "Bezig met zoeken...", the box emptied."""
        if not (question or "").strip():
            return history, question, ""
        pending_message = {"role": "assistant", "content": pending_html(lang)}
        return [*history, shown_question(question), pending_message], "", question.strip()

    def answered(
        question: str,
        history: Messages,
        turns: Turns,
        filters: dict[str, str],
        alone: bool,
        saved: dict[str, Any],
        lang: str,
    ) -> tuple[Messages, Turns, Any, dict[str, Any]]:
        """Step two: the pending message replaced by the answer (a client that showed none gets the question and
        the answer); the conversation kept in the browser."""
        answer, turn = converse(get, question, filters, policy, [] if alone else turns, lang, staff)
        waiting = bool(history) and "pqa-pending" in str(history[-1].get("content"))
        shown = [*(history[:-1] if waiting else [*history, shown_question(question)])]
        shown.append({"role": "assistant", "content": answer})
        saved = saved or {}
        if turn is None:
            return shown, turns, gr.update(visible=False), {**saved, "messages": shown[-2 * KEPT_TURNS :]}
        # A re-asked question takes the place of the follow-up it was read as.
        turns = [*(turns[:-1] if alone else turns), turn][-KEPT_TURNS:]
        kept = {"messages": shown[-2 * KEPT_TURNS :], "turns": turns}
        return shown, turns, gr.update(visible=bool(turn["understood"])), kept

    def respond(
        question: str,
        history: Messages,
        turns: Turns,
        saved: dict[str, Any],
        lang: str,
        minister: str,
        department: str,
        party: str,
        asker: str,
        date_from: str,
        date_to: str,
    ) -> tuple[Messages, Turns, Any, dict[str, Any]]:
        if not (question or "").strip():  # nothing asked (a blank question, a load without a permalink)
            return history, turns, gr.update(), saved
        filters = form_filters(minister, department, party, date_from, date_to, asker)
        return answered(question, history, turns, filters, False, saved, lang)

    def pending_reask(history: Messages, turns: Turns, lang: str) -> tuple[Messages, str, str]:
        if not turns:
            return history, "", ""
        return pending(turns[-1]["question"], history, lang)

    def reask(
        question: str,
        history: Messages,
        turns: Turns,
        saved: dict[str, Any],
        lang: str,
        minister: str,
        department: str,
        party: str,
        asker: str,
        date_from: str,
        date_to: str,
    ) -> tuple[Messages, Turns, Any, dict[str, Any]]:
        if not (question or "").strip() or not turns:
            return history, turns, gr.update(visible=False), saved
        filters = form_filters(minister, department, party, date_from, date_to, asker)
        return answered(question, history, turns, filters, True, saved, lang)

    def restart() -> tuple[Messages, str, Turns, Any, dict[str, Any]]:
        return [], "", [], gr.update(visible=False), {"messages": [], "turns": []}

    def opened(saved: dict[str, Any] | None, request: gr.Request) -> tuple[Any, ...]:
        """On load: the conversation this browser kept, the labels of the page's language, and a permalink's
        question (asked as the next turn unless it is the last one already) with its filters."""
        saved = saved or {}
        params = dict(request.query_params) if request is not None else {}
        lang = "en" if params.get("lang") == "en" else "nl"
        words = LABELS[lang]
        messages: Messages = list(saved.get("messages") or [])
        kept: Turns = list(saved.get("turns") or [])
        if messages and messages[-1].get("role") == "assistant" and "pqa-pending" in str(messages[-1]["content"]):
            messages = messages[:-2]  # reloaded while it searched
        asked, filters = link_query(params)
        ask_now = ""
        if asked and not (kept and kept[-1].get("link") == permalink(asked, filters, lang)):
            messages = [*messages, shown_question(asked), {"role": "assistant", "content": pending_html(lang)}]
            ask_now = asked
        now = lists()
        filter_values = [
            gr.update(
                choices=_options(k, now[k]),
                visible=bool(now[k]),
                **({"value": filters[k]} if filters.get(k) in now[k] else {}),
            )
            if k in DROPDOWNS
            else gr.update(value=filters[k])
            if k in filters
            else gr.update()
            for k in PERMALINK_KEYS[1:]
        ]
        return (
            gr.update(value=words["intro"]),
            gr.update(value=messages, label=words["chat"], placeholder=words["empty"]),
            kept,
            ask_now,
            lang,
            gr.update(label=words["question"], placeholder=words["placeholder"]),
            gr.update(value=words["ask"]),
            gr.update(value=words["reask"], visible=bool(kept and kept[-1].get("understood"))),
            gr.update(value=words["new"]),
            gr.update(value=words["export"]),
            *filter_values,
        )

    def search_earlier(draft: str) -> str:
        return earlier(get, draft)

    def note(minister: str, department: str, party: str, asker: str, date_from: str, date_to: str) -> str:
        return filters_note(get, form_filters(minister, department, party, date_from, date_to, asker))

    def offer_unfiltered(history: Messages) -> Any:
        last = history[-1]["content"] if history and history[-1].get("role") == "assistant" else ""
        return gr.update(visible=FOUND_NOTHING_WITH_FILTERS in str(last))

    def unfiltered(history: Messages, turns: Turns, saved: dict[str, Any], lang: str) -> tuple[Any, ...]:
        """The last question again without the filters (in the same conversation), the filters emptied."""
        cleared = (ALL, ALL, ALL, ALL, "", "")
        if not turns:
            return (history, turns, gr.update(visible=False), saved, *cleared, "", gr.update(visible=False))
        shown = answered(turns[-1]["question"], history, turns[:-1], {}, False, saved, lang)
        return (*shown, *cleared, "", gr.update(visible=False))

    with gr.Blocks(title="Parlement Q&A - schriftelijke vragen") as demo:
        intro = gr.Markdown(nl["intro"], elem_id="pqa-intro")
        saved = gr.BrowserState({"messages": [], "turns": []}, storage_key="pqa-gesprek")
        with gr.Tab("Vraag"):
            chatbot = gr.Chatbot(
                label=nl["chat"],
                show_label=False,
                height=None,
                min_height=120,
                max_height="62vh",
                autoscroll=False,  # chat.js scrolls to the start of a new answer instead of the bottom
                buttons=[],  # no share, no copy of raw HTML: each answer has its own copy (Markdown)
                sanitize_html=True,
                latex_delimiters=[],
                feedback_options=feedback.OPTIONS if staff is not None else None,
                elem_id="pqa-chat",
                placeholder=nl["empty"],
            )
            turns = gr.State([])
            thumbs = feedback.Panel(chatbot, staff)
            # The question being asked, from step one to step two: a component, not a State, so that one request
            # to `respond` holds the whole question (eval/flood.py asks that way).
            asking = gr.Textbox(visible=False, elem_id="pqa-asking")
            lang = gr.State("nl")  # "en" for ?lang=en, set on load
            with gr.Row(elem_id="pqa-ask-row"):
                question = gr.Textbox(
                    label=nl["question"],
                    placeholder=nl["placeholder"],
                    lines=1,
                    max_lines=6,
                    max_length=views.QUESTION_MAX,
                    scale=5,
                    min_width=300,  # on a phone the button goes below the box, not squeezed beside it
                    elem_id="pqa-question",
                )
                ask = gr.Button(nl["ask"], variant="primary", scale=1, min_width=120, elem_id="pqa-ask")
            with gr.Row(elem_id="pqa-tools"):
                # Shown while the last answer is a follow-up's: asks its question again without the conversation.
                again = gr.Button(
                    nl["reask"], size="sm", variant="secondary", visible=False, scale=0, elem_id="pqa-reask"
                )
                restart_button = gr.Button(nl["new"], size="sm", variant="secondary", scale=0, elem_id="pqa-new")
                # chat.js writes the file from the answers on the page: Gradio's file routes stay closed.
                export = gr.Button(nl["export"], size="sm", variant="secondary", scale=0, elem_id="pqa-export")
            # Buttons, not gr.Examples: those cut a question off after 60 characters. One click asks it.
            with gr.Column(elem_id="pqa-examples"):
                gr.Markdown("Voorbeeldvragen", elem_classes="pqa-examples-label")
                examples = [gr.Button(q, size="sm", variant="secondary", scale=0) for q in EXAMPLES]
            with gr.Accordion("Filters", open=False, elem_id="pqa-filters"):
                with gr.Row():
                    minister = _dropdown("minister", built["minister"])
                    department = _dropdown("department", built["department"])
                with gr.Row():
                    party = _dropdown("party", built["party"])
                    asker = _dropdown("asker", built["asker"])
                with gr.Row():
                    date_from = gr.Textbox(
                        label="Gesteld vanaf", placeholder="JJJJ-MM-DD of DD-MM-JJJJ", elem_id="pqa-f-from"
                    )
                    date_to = gr.Textbox(
                        label="Gesteld tot en met", placeholder="JJJJ-MM-DD of DD-MM-JJJJ", elem_id="pqa-f-to"
                    )
                filter_note = gr.Markdown(elem_id="pqa-filter-note")
            # Shown after a reply that found nothing under active filters.
            without = gr.Button(
                "Zoek zonder filters", size="sm", variant="secondary", visible=False, elem_id="pqa-unfiltered"
            )
            filter_inputs: list[gr.Dropdown | gr.Textbox] = [minister, department, party, asker, date_from, date_to]
            inputs = [asking, chatbot, turns, saved, lang, *filter_inputs]
            outputs = [chatbot, turns, again, saved]
            quick: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
            answers = []
            for trigger in (ask.click, question.submit):
                answers.append(
                    trigger(pending, [question, chatbot, lang], [chatbot, question, asking], **quick).then(
                        respond, inputs, outputs, **quick
                    )
                )
            for example in examples:
                answers.append(
                    example.click(pending, [example, chatbot, lang], [chatbot, question, asking], **quick).then(
                        respond, inputs, outputs, **quick
                    )
                )
            answers.append(
                again.click(pending_reask, [chatbot, turns, lang], [chatbot, question, asking], **quick).then(
                    reask, inputs, outputs, **quick
                )
            )
            answers.append(restart_button.click(restart, [], [chatbot, question, turns, again, saved], **quick))
            # Registered after the question's own events, so their event numbers stay as they were.
            for event in answers:
                event.then(offer_unfiltered, [chatbot], [without], **quick)
            for dropdown in (minister, department, party, asker):
                dropdown.change(note, filter_inputs, [filter_note], **quick)
            for box in (date_from, date_to):
                # blur, not change: a textbox's change sends its text as event data, which the chat gate refuses
                box.blur(note, filter_inputs, [filter_note], **quick)
                box.submit(note, filter_inputs, [filter_note], **quick)
            without.click(
                unfiltered, [chatbot, turns, saved, lang], [*outputs, *filter_inputs, filter_note, without], **quick
            )
            thumbs.wire()
        with gr.Tab("Eerder gesteld?"):
            gr.Markdown(
                "Plak het ontwerp van een schriftelijke vraag. Per genummerde deelvraag ziet u de eerder gestelde "
                "deelvragen die er voldoende op lijken, met hoe sterk, en het antwoord van de minister. Lijkt geen "
                "enkele eerdere vraag voldoende, dan staat dat er."
            )
            draft = gr.Textbox(label="Ontwerpvraag", lines=8, max_length=views.DRAFT_MAX, elem_id="pqa-draft")
            search = gr.Button("Zoek eerdere vragen", variant="primary", elem_id="pqa-similar")
            # Markdown, not gr.HTML: gr.HTML runs its value through a template engine and no sanitizer.
            results = gr.Markdown(elem_id="pqa-similar-results", sanitize_html=True, latex_delimiters=[])
            search.click(search_earlier, [draft], [results], api_visibility="private")
        demo.load(
            opened,
            [saved],
            [intro, chatbot, turns, asking, lang, question, ask, again, restart_button, export, *filter_inputs],
            **quick,
        ).then(respond, inputs, outputs, **quick)
    return demo
