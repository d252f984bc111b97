"""The chat's feedback: the thumbs Gradio's Chatbot shows under each answer (its .like event) stored as
staff.Feedback, and an optional comment on the last one. Built into the chat's Blocks as a `Panel`.

What an answer showed is read back from the chat's own messages (the question above it, the source links in it), so
the chat keeps no second record of its answers.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import gradio as gr

from assistant.staff import COMMENT_MAX, Feedback, Receipt, StaffLog
from assistant.web import views

OPTIONS = ("Like", "Dislike")
"""Gradio draws these two as thumbs up and down."""
THANKS = "Bedankt voor uw feedback. U kunt er hieronder een toelichting bij geven (niet verplicht)."
SAVED = "Bedankt, uw toelichting is bewaard."

_TAG = re.compile(r"<[^>]+>")


def text_of(content: Any) -> str:
    """A chat message's content as text (Gradio 6 may give a list of parts {"type": "text", "text": ...})."""
    if isinstance(content, list):
        return " ".join(text_of(c) for c in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("value") or "")
    return str(content or "")


def asked(history: list[dict[str, Any]], index: int) -> tuple[str, list[str]]:
    """The question answered by the message at `index` and the parts that answer showed ("doc#part")."""
    shown = views.linked_parts(text_of(history[index].get("content")))
    for message in reversed(history[:index]):
        if message.get("role") == "user":
            question = unescape(_TAG.sub(" ", text_of(message.get("content"))))
            return " ".join(question.split()), shown
    return "", shown


def rating_of(liked: bool | str) -> str | None:
    """Gradio's `liked` as a rating: True up, False down, anything else (a thumb taken back) none."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    return None


Receipts = dict[str, dict[str, Any]]
"""Per liked message (its index, as text): the receipt, rating and comment given in this session."""


def liked(
    log: StaffLog, history: list[dict[str, Any]], receipts: Receipts, data: Any
) -> tuple[Receipts, str | None, bool]:
    """Store, change or take back the verdict on one answer; the receipts, the message it is about (None when
    taken back) and whether to ask for a comment."""
    index = data.index if isinstance(data.index, int) else data.index[0]
    if not 0 <= index < len(history):
        return receipts, None, False
    key = str(index)
    rating = rating_of(data.liked)
    given = receipts.get(key)
    receipts = dict(receipts)
    if rating is None:
        if given:
            log.withdraw(Receipt(given["id"], given["secret"]))
            receipts.pop(key)
        return receipts, None, False
    if given:
        log.amend(Receipt(given["id"], given["secret"]), rating, given["comment"])
        receipts[key] = {**given, "rating": rating}
        return receipts, key, True
    question, shown = asked(history, index)
    if not question:
        return receipts, None, False
    receipt = log.add_feedback(Feedback(rating, question, tuple(shown), "", "chat"))
    receipts[key] = {"id": receipt.id, "secret": receipt.secret, "rating": rating, "comment": ""}
    return receipts, key, True


def commented(log: StaffLog, comment: str, receipts: Receipts, last: str | None) -> tuple[Receipts, bool]:
    """Add the comment to the last verdict; the receipts and whether it was stored."""
    given = receipts.get(last or "")
    text = (comment or "").strip()[:COMMENT_MAX]
    if not given or not text:
        return receipts, False
    log.amend(Receipt(given["id"], given["secret"]), given["rating"], text)
    return {**receipts, str(last): {**given, "comment": text}}, True


class Panel:
    """The comment box under the chat: made where it is created, its events wired by `wire` (called after the
    chat's own events, so that theirs keep their numbers)."""

    def __init__(self, chatbot: gr.Chatbot, log: StaffLog | None) -> None:
        self.chatbot, self.log = chatbot, log
        if log is None:
            return
        self.receipts = gr.State({})
        self.last = gr.State(None)
        with gr.Row(visible=False) as self.box:
            self.comment = gr.Textbox(
                label="Toelichting bij uw oordeel (niet verplicht)",
                placeholder="Wat klopte er niet, of wat miste u?",
                max_lines=4,
                max_length=COMMENT_MAX,
                scale=5,
                elem_id="pqa-feedback-comment",
            )
            self.send = gr.Button("Verstuur toelichting", size="sm", scale=1, elem_id="pqa-feedback-send")
        self.thanks = gr.Markdown(visible=False, elem_id="pqa-feedback-thanks")

    def wire(self) -> None:
        """Store the chatbot's thumbs in the log and the comment with the last one."""
        log = self.log
        if log is None:
            return

        def on_like(history: list[dict[str, Any]], given: Receipts, data: gr.LikeData) -> tuple[Any, ...]:
            given, key, ask = liked(log, history or [], given or {}, data)
            return given, key, gr.update(visible=ask), gr.update(value=""), gr.update(value=THANKS, visible=ask)

        def on_comment(text: str, given: Receipts, key: str | None) -> tuple[Any, ...]:
            given, saved = commented(log, text, given or {}, key)
            if not saved:
                return given, gr.update(), gr.update(), gr.update()
            return given, gr.update(visible=False), gr.update(value=""), gr.update(value=SAVED, visible=True)

        liked_out = [self.receipts, self.last, self.box, self.comment, self.thanks]
        self.chatbot.like(on_like, [self.chatbot, self.receipts], liked_out, api_visibility="private")
        outputs = [self.receipts, self.box, self.comment, self.thanks]
        inputs = [self.comment, self.receipts, self.last]
        self.send.click(on_comment, inputs, outputs, api_visibility="private")
        self.comment.submit(on_comment, inputs, outputs, api_visibility="private")
