"""The widget's routes: /widget.js, the /embed-demo page and the widget API under /api/widget/{key}/ (ask, feedback,
check).

They only answer: widget/gate.py in front has already refused, rate limited and capped what it had to.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import Field

from assistant.config import DEMO_KEY
from assistant.web import views
from assistant.web.api import AskRequest, FeedbackRequest, answer_json, assistant_of, give_feedback, staff_of
from assistant.web.widget.policy import UNKNOWN_KEY, Verdict

WIDGET_TOP_K_MAX = 10
"""The widget shows fewer parts than the API allows (application.TOP_K_MAX): a panel is small."""
STATIC = Path(__file__).parent.parent / "static"
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)

router = APIRouter()


class WidgetAskRequest(AskRequest):
    """A question from the widget (up to 2,000 characters); the key's own filters are added and win over these."""

    filters: dict[str, str] = Field(default_factory=dict, examples=[{"department": "Mobiliteit en Openbare Werken"}])
    top_k: int = Field(5, ge=1, le=WIDGET_TOP_K_MAX)


def _verdict(request: Request) -> Verdict:
    verdict = getattr(request.state, "widget", None)
    if not isinstance(verdict, Verdict):  # the router without the gate in front: answer nothing
        return Verdict("", None, None, UNKNOWN_KEY)
    return verdict


@router.post("/api/widget/{key}/ask", tags=["widget"], response_model=None)
def widget_ask(key: str, body: WidgetAskRequest, request: Request) -> dict[str, Any] | JSONResponse:
    """/api/ask for a page that embeds the widget: the key decides which origins may ask, how often, and filters."""
    verdict = _verdict(request)
    if not verdict.allowed or verdict.key is None:
        return JSONResponse({"detail": verdict.detail(), "reason": verdict.reason}, status_code=403)
    filters = {**body.filters, **verdict.key.filters}
    app, policy = assistant_of(request), request.app.state.abstain_policy
    # the key's filters are the widget's scope: a reader cannot drop them, so "without filters" is not offered
    answer = views.ask(
        app,
        body.question,
        filters,
        body.top_k,
        policy,
        body.turns(),
        try_unfiltered=False,
        log=staff_of(request),
        channel="widget",
    )
    data = answer_json(request, answer)
    shown = {
        "answers": answer.hits[: answer.primary_count],
        "related": answer.hits[answer.primary_count :],
        "suggestions": answer.suggestions,
    }
    for group, hits in shown.items():
        for item, hit in zip(data[group], hits, strict=True):
            item["citation"]["label"] = hit.citation.label()  # the chat's citation line, word for word
    return data


@router.post("/api/widget/{key}/feedback", tags=["widget"], response_model=None)
def widget_feedback(key: str, body: FeedbackRequest, request: Request) -> dict[str, Any] | JSONResponse:
    """/api/feedback for a page that embeds the widget (the key's limits count it like a question)."""
    verdict = _verdict(request)
    if not verdict.allowed or verdict.key is None:
        return JSONResponse({"detail": verdict.detail(), "reason": verdict.reason}, status_code=403)
    return give_feedback(staff_of(request), body, "widget")


@router.post("/api/widget/{key}/check", tags=["widget"])
def widget_check(key: str, request: Request) -> dict[str, Any]:
    """Whether the calling page may use this key, and if not why, in words the widget shows (any origin may ask)."""
    return _verdict(request).to_dict()


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> FileResponse:
    """The widget itself: plain JavaScript, loaded by the page's one script tag."""
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


def snippet(base_url: str, key: str = DEMO_KEY.name, title: str = "Schriftelijke vragen") -> str:
    """The one script tag a page adds to embed the widget served from `base_url` (ending in '/')."""
    return (
        f'<script src="{escape(base_url)}widget.js" data-key="{escape(key)}" data-title="{escape(title)}" '
        "defer></script>"
    )


def demo_page(base_url: str) -> str:
    """A plain page that shows the snippet (as text) and loads it, with the built-in `demo` key."""
    tag = snippet(base_url)
    return (
        '<!doctype html>\n<html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Parlement Q&amp;A - de widget op uw website</title><style>"
        "body { font: 16px/1.55 system-ui, sans-serif; color: #1f2328; max-width: 46rem; margin: 2rem auto; "
        "padding: 0 1.25rem 8rem; } pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; "
        "padding: .75rem 1rem; white-space: pre-wrap; word-break: break-all; } code { font-size: .9em; }"
        "</style></head>\n<body><h1>De assistent op uw eigen website</h1>"
        "<p>Eén regel HTML zet de assistent op een pagina: een knop rechtsonder die een chatvenster opent, met "
        "antwoorden in de eigen woorden van de minister en bronvermelding tot op de deelvraag.</p>"
        f"<pre><code>{escape(tag)}</code></pre>"
        "<p>Deze pagina laadt precies die regel. De sleutel <code>demo</code> werkt alleen op pagina's van deze "
        "server; voor een andere website geeft de beheerder een eigen sleutel met de toegelaten origins en limieten "
        "(<code>ASSISTANT_WIDGETS</code>, zie README, &quot;Embed the widget&quot;).</p>"
        '<p><a href="./">&larr; naar de chat</a></p>\n'
        f"{tag}\n</body></html>\n"
    )


@router.get("/embed-demo", response_class=HTMLResponse, tags=["widget"])
def embed_demo(request: Request) -> HTMLResponse:
    """The widget on a plain page, with its snippet shown to copy."""
    headers = {"Content-Security-Policy": DEMO_CSP, "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(demo_page(str(request.base_url)), headers=headers)
