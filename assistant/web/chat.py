"""The Gradio chat in Dutch: ask with filters, see the minister's own words with citations, and "Eerder gesteld?".

Callbacks stay thin: they call views.py like the JSON API does and render with markup.py, which escapes every
document text. An AssistantError becomes a chat message here (this is an edge); nothing else is caught.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr

from assistant.answer import AbstainPolicy
from assistant.application import Assistant
from assistant.errors import AssistantError
from assistant.staff import StaffLog
from assistant.types import Document
from assistant.web import feedback, views
from assistant.web.markup import answer_html, message_html, similar_html

EXAMPLES = (
    "Hoeveel stagiairs van buitenlandse herkomst liepen in 2023 stage bij de Vlaamse overheid?",
    "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd of heraangelegd?",
    "Hoeveel meldingen van phishing en kwaadaardige e-mails kregen scholen en AGODI in het schooljaar 2022-2023?",
    "Hoe lang staat een sociale huurwoning gemiddeld leeg?",
)
"""Questions the bundled sample corpus answers (see corpus/questions.md)."""

ALL = ""
CSS = """
.pqa-answer { line-height: 1.5; }
.pqa-hit { margin: 0 0 .9rem; }
.pqa-cite { margin: 0 0 .2rem; font-size: .92em; }
#pqa-chat a.pqa-link, #pqa-similar-results a.pqa-link { font-weight: 600; color: var(--link-text-color); }
.pqa-q { margin: 0 0 .2rem; }
.pqa-ref { margin: 0 0 .2rem; font-style: italic; opacity: .8; }
.pqa-a { margin: .2rem 0 0; padding: .2rem .8rem; border-left: 3px solid #d0d7de; }
.pqa-a mark { background: #fff3a3; color: inherit; padding: 0 .1em; }
.pqa-related { margin: 1rem 0 .4rem; font-weight: 700; text-transform: uppercase; font-size: .8em; opacity: .75; }
.pqa-meta { margin: 0 0 .4rem; opacity: .75; font-size: .9em; }
.pqa-understood { margin: 0 0 .6rem; padding: .3rem .6rem; border-radius: 4px; background: #eef4ff; font-size: .92em; }
"""

Getter = Callable[[], Assistant]


def theme() -> gr.themes.Base:
    """Gradio's default look with the reader's own fonts: the default theme fetches fonts from Google."""
    return gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def form_filters(minister: str, department: str, party: str, date_from: str, date_to: str) -> dict[str, str]:
    """The filter widgets' values as API filters; an empty widget filters nothing."""
    given = {
        "minister": minister,
        "department": department,
        "party": party,
        "date_from": date_from,
        "date_to": date_to,
    }
    return {k: v.strip() for k, v in given.items() if v and v.strip()}


Turns = list[dict[str, Any]]
"""The conversation as the chat keeps it (a gr.State): per turn the question, the parts cited ("doc#part") and what
a follow-up was understood as; the last views.HISTORY_MAX_TURNS go with the next question."""


def reply(
    get: Getter, question: str, filters: dict[str, str], policy: AbstainPolicy | None, turns: Turns | None = None
) -> str:
    """The chat's answer to a question as HTML; an AssistantError becomes a message the user can act on."""
    return converse(get, question, filters, policy, turns)[0]


def converse(
    get: Getter,
    question: str,
    filters: dict[str, str],
    policy: AbstainPolicy | None,
    turns: Turns | None = None,
    log: StaffLog | None = None,
) -> tuple[str, dict[str, Any] | None]:
    """The answer to `question` in the conversation `turns` (oldest first) as HTML, and the turn to remember (None
    for a question that could not be asked: it is no part of the conversation). `log`: the staff's question log."""
    history = [{"question": t["question"], "cited": t["cited"]} for t in (turns or [])][-views.HISTORY_MAX_TURNS :]
    try:
        answer = views.ask(get(), question, filters, 5, policy, history, log, "chat")
    except AssistantError as err:
        return message_html(str(err)), None
    return answer_html(answer), {
        "question": question.strip(),
        "cited": views.cited(answer),
        "understood": answer.understood,
    }


def earlier(get: Getter, draft: str) -> str:
    """The "Eerder gesteld?" results as HTML, or the message of an AssistantError."""
    try:
        return similar_html(views.similar(get(), draft, top_k=5))
    except AssistantError as err:
        return message_html(str(err))


def _dropdown(label: str, values: Sequence[str], every: str) -> gr.Dropdown:
    return gr.Dropdown(
        choices=[(every, ALL), *((v, v) for v in values)],
        value=ALL,
        label=label,
        visible=bool(values),
        filterable=True,
    )


def build(
    get: Getter, policy: AbstainPolicy | None, docs: Sequence[Document] = (), staff: StaffLog | None = None
) -> gr.Blocks:
    """The chat as a Blocks app; `get` returns the assistant (raising IndexMissingError while there is none);
    `staff` keeps the thumbs given on answers (and logs the questions when its question log is on)."""

    Shown = tuple[list[dict[str, str]], str, Turns, Any]

    def answered(
        question: str, history: list[dict[str, str]], turns: Turns, filters: dict[str, str], alone: bool
    ) -> Shown:
        answer, turn = converse(get, question, filters, policy, [] if alone else turns, staff)
        user = message_html(question.strip())
        shown = [*history, {"role": "user", "content": user}, {"role": "assistant", "content": answer}]
        if turn is None:
            return shown, "", turns, gr.update(visible=False)
        # A re-asked question takes the place of the follow-up it was read as.
        turns = [*(turns[:-1] if alone else turns), turn][-views.HISTORY_MAX_TURNS :]
        return shown, "", turns, gr.update(visible=bool(turn["understood"]))

    def respond(
        question: str,
        history: list[dict[str, str]],
        turns: Turns,
        minister: str,
        department: str,
        party: str,
        date_from: str,
        date_to: str,
    ) -> Shown:
        if not (question or "").strip():
            return history, "", turns, gr.update()
        filters = form_filters(minister, department, party, date_from, date_to)
        return answered(question, history, turns, filters, alone=False)

    def reask(
        history: list[dict[str, str]],
        turns: Turns,
        minister: str,
        department: str,
        party: str,
        date_from: str,
        date_to: str,
    ) -> Shown:
        if not turns:
            return history, "", turns, gr.update(visible=False)
        filters = form_filters(minister, department, party, date_from, date_to)
        return answered(turns[-1]["question"], history, turns, filters, alone=True)

    def restart() -> Shown:
        return [], "", [], gr.update(visible=False)

    def search_earlier(draft: str) -> str:
        return earlier(get, draft)

    with gr.Blocks(title="Parlement Q&A - schriftelijke vragen") as demo:
        gr.Markdown(
            "# Parlement Q&A\n"
            "Stel een vraag over de schriftelijke vragen. Het antwoord bestaat uit de eigen woorden van de "
            "minister, met bronvermelding tot op de deelvraag. Klik op een bron om het volledige document te "
            "lezen. Voor ontwikkelaars: [JSON-API](docs)."
        )
        with gr.Tab("Vraag"):
            chatbot = gr.Chatbot(
                label="Antwoorden",
                height=560,
                sanitize_html=True,
                latex_delimiters=[],
                feedback_options=feedback.OPTIONS if staff is not None else None,
                elem_id="pqa-chat",
                placeholder="Stel hieronder een vraag of kies een voorbeeldvraag.",
            )
            turns = gr.State([])
            thumbs = feedback.Panel(chatbot, staff)
            with gr.Row():
                # Shown while the last answer is a follow-up's: asks its question again without the conversation.
                again = gr.Button(
                    "Stel als nieuwe vraag", size="sm", variant="secondary", visible=False, scale=0, elem_id="pqa-reask"
                )
                restart_button = gr.Button("Nieuw gesprek", size="sm", variant="secondary", scale=0, elem_id="pqa-new")
            with gr.Row():
                question = gr.Textbox(
                    label="Uw vraag",
                    placeholder="Bv. Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?",
                    lines=1,
                    max_lines=6,
                    max_length=views.QUESTION_MAX,
                    scale=5,
                    elem_id="pqa-question",
                )
                ask = gr.Button("Vraag", variant="primary", scale=1, elem_id="pqa-ask")
            gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label="Voorbeeldvragen")
            with gr.Accordion("Filters", open=False):
                with gr.Row():
                    minister = _dropdown("Minister", views.choices(docs, "minister"), "Alle ministers")
                    department = _dropdown("Departement", views.choices(docs, "department"), "Alle departementen")
                    party = _dropdown("Fractie van de vraagsteller", views.choices(docs, "party"), "Alle fracties")
                with gr.Row():
                    date_from = gr.Textbox(label="Gesteld vanaf", placeholder="JJJJ-MM-DD")
                    date_to = gr.Textbox(label="Gesteld tot en met", placeholder="JJJJ-MM-DD")
            filter_inputs = [minister, department, party, date_from, date_to]
            inputs = [question, chatbot, turns, *filter_inputs]
            outputs = [chatbot, question, turns, again]
            ask.click(respond, inputs, outputs, api_visibility="private")
            question.submit(respond, inputs, outputs, api_visibility="private")
            again.click(reask, [chatbot, turns, *filter_inputs], outputs, api_visibility="private")
            restart_button.click(restart, [], outputs, api_visibility="private")
            thumbs.wire()
        with gr.Tab("Eerder gesteld?"):
            gr.Markdown(
                "Plak het ontwerp van een schriftelijke vraag. U ziet de eerder gestelde vragen die er het meest "
                "op lijken, met het antwoord van de minister."
            )
            draft = gr.Textbox(label="Ontwerpvraag", lines=8, max_length=views.DRAFT_MAX, elem_id="pqa-draft")
            search = gr.Button("Zoek eerdere vragen", variant="primary", elem_id="pqa-similar")
            # Markdown, not gr.HTML: gr.HTML runs its value through a template engine and no sanitizer.
            results = gr.Markdown(elem_id="pqa-similar-results", sanitize_html=True, latex_delimiters=[])
            search.click(search_earlier, [draft], [results], api_visibility="private")
    return demo
