"""The HTTP routes besides the chat: the JSON API (/api/...) and the HTML source view (/doc/{doc_id}).

Validates outside input with pydantic and shapes the JSON; the work itself is views.py's. Turning AssistantErrors
into HTTP statuses is done once, in app.py.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from assistant.answer import Answer
from assistant.application import Assistant
from assistant.render import coverage, coverage_line
from assistant.staff import COMMENT_MAX, SHOWN_MAX, Feedback, Receipt, StaffLog
from assistant.web import views
from assistant.web.source import CSP, document_page, not_found_page

router = APIRouter()


# JSON can spell a lone UTF-16 surrogate (\ud800) that no UTF-8 text holds: refused here, or it fails deep in the
# embedder, Chroma or the JSON answer as a 500.
BAD_TEXT_NL = "bevat een ongeldig teken (een los UTF-16-surrogaat)"
BAD_TEXT_EN = "contains an invalid character (a lone UTF-16 surrogate)"


def _part_ids(values: list[str]) -> bool:
    """Whether each value can be a cited part's id ("doc#part"): text of 1-200 characters."""
    return all(_is_text(c) and 0 < len(c) <= 200 for c in values)


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _question(value: str, limit: int) -> str:
    problem = views.question_problem(value, limit)
    if problem:
        raise PydanticCustomError("question", problem)
    if not _is_text(value):
        raise PydanticCustomError("question", f"De vraag {BAD_TEXT_NL}. / The question {BAD_TEXT_EN}.")
    return value


def _filters(value: dict[str, str]) -> dict[str, str]:
    if not all(_is_text(k) and _is_text(v) for k, v in value.items()):
        raise PydanticCustomError("text", f"{BAD_TEXT_NL} / {BAD_TEXT_EN}")
    return value


class _Filtered(BaseModel):
    """The part every question request shares: filters, checked the same way, and how many parts to return."""

    filters: dict[str, str] = Field(default_factory=dict, examples=[{"date_from": "2023-01-01"}])
    top_k: int = Field(5, ge=1, le=views.TOP_K_MAX)

    @field_validator("filters")
    @classmethod
    def _check_filters(cls, value: dict[str, str]) -> dict[str, str]:
        return _filters(value)


class HistoryTurn(BaseModel):
    """One earlier turn of the conversation: the user's question and the parts cited for it ("doc#part")."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(examples=["Hoeveel mensen werken er op de vertaaldienst van de FOD Financiën?"])
    cited: list[str] = Field(default_factory=list, examples=[["187226#1"]])

    @field_validator("question")
    @classmethod
    def _check(cls, value: str) -> str:
        return _question(value, views.QUESTION_MAX)

    @field_validator("cited")
    @classmethod
    def _check_cited(cls, value: list[str]) -> list[str]:
        if len(value) > views.CITED_MAX or not _part_ids(value):
            raise PydanticCustomError(
                "question",
                f"Hoogstens {views.CITED_MAX} geciteerde delen per beurt, als 'doc#deel'. "
                f"/ At most {views.CITED_MAX} cited parts per turn, as 'doc#part'.",
            )
        return value


def _history(value: list[HistoryTurn]) -> list[HistoryTurn]:
    if len(value) > views.HISTORY_MAX_TURNS:
        raise PydanticCustomError(
            "question",
            f"De geschiedenis telt {len(value)} beurten, maximaal {views.HISTORY_MAX_TURNS}. "
            f"/ The history has {len(value)} turns, at most {views.HISTORY_MAX_TURNS}.",
        )
    return value


class AskRequest(_Filtered):
    """A question with optional filters (minister, department, party, asker, date_from, date_to, doc_id) and the
    conversation so far (`history`, oldest first, at most 10 turns): a follow-up is read from it."""

    question: str = Field(examples=["Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"])
    history: list[HistoryTurn] = Field(default_factory=list)

    @field_validator("question")
    @classmethod
    def _check(cls, value: str) -> str:
        return _question(value, views.QUESTION_MAX)

    @field_validator("history", mode="before")
    @classmethod
    def _check_length(cls, value: Any) -> Any:
        # Before the turns are parsed: 10,000 turns are refused for their number, not checked one by one.
        if isinstance(value, list):
            _history(value)
        return value

    def turns(self) -> list[dict[str, Any]]:
        """The history as Assistant.ask takes it."""
        return [t.model_dump() for t in self.history]


class SimilarRequest(_Filtered):
    """A draft question (up to 5,000 characters) to compare with the questions asked before; `top_k`: the most
    earlier sub-questions shown per sub-question of the draft."""

    question: str = Field(examples=["Hoeveel scholen werden getroffen door phishing?"])
    top_k: int = Field(3, ge=1, le=views.TOP_K_MAX)

    @field_validator("question")
    @classmethod
    def _check(cls, value: str) -> str:
        return _question(value, views.DRAFT_MAX)


class Amend(BaseModel):
    """The receipt of a verdict given before, to change it (add a comment, turn the thumb)."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1)
    secret: str = Field(min_length=1, max_length=64)


class FeedbackRequest(BaseModel):
    """A reader's verdict on an answer: `rating` up or down, an optional `comment`, the question and the parts the
    answer showed (`cited`, as "doc#part"). With `amend` (the id and secret a first verdict got back) it changes
    that verdict's rating and comment instead of adding one."""

    model_config = ConfigDict(extra="forbid")

    rating: str = Field(pattern="^(up|down)$", examples=["down"])
    question: str = Field(examples=["Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"])
    cited: list[str] = Field(default_factory=list, max_length=SHOWN_MAX, examples=[["sv_2023_0302#1"]])
    comment: str = Field("", max_length=COMMENT_MAX, examples=["Het antwoord gaat over 2021, niet 2022."])
    amend: Amend | None = None

    @field_validator("question")
    @classmethod
    def _check(cls, value: str) -> str:
        return _question(value, views.QUESTION_MAX)

    @field_validator("cited")
    @classmethod
    def _check_cited(cls, value: list[str]) -> list[str]:
        if not _part_ids(value):
            raise PydanticCustomError("question", "Geciteerde delen als 'doc#deel'. / Cited parts as 'doc#part'.")
        return value

    @field_validator("comment")
    @classmethod
    def _check_comment(cls, value: str) -> str:
        if not _is_text(value):
            raise PydanticCustomError("question", f"De toelichting {BAD_TEXT_NL}. / The comment {BAD_TEXT_EN}.")
        return value


def staff_of(request: Request) -> StaffLog:
    log: StaffLog = request.app.state.staff
    return log


def give_feedback(log: StaffLog, body: FeedbackRequest, channel: str) -> dict[str, Any] | JSONResponse:
    """Store (or amend) a verdict; the JSON both feedback routes answer."""
    if body.amend is not None:
        receipt = Receipt(body.amend.id, body.amend.secret)
        if not log.amend(receipt, body.rating, body.comment):
            detail = "Onbekende feedback (id of geheim klopt niet). / Unknown feedback (id or secret does not match)."
            return JSONResponse({"detail": detail}, status_code=404)
    else:
        feedback = Feedback(body.rating, body.question, tuple(body.cited), body.comment, channel)
        receipt = log.add_feedback(feedback)
    return {"id": receipt.id, "secret": receipt.secret}


@router.post("/api/feedback", tags=["api"], response_model=None)
def api_feedback(body: FeedbackRequest, request: Request) -> dict[str, Any] | JSONResponse:
    """Thumbs up or down on an answer, with an optional comment, for the staff (see /staff); kept beside the index."""
    return give_feedback(staff_of(request), body, "api")


def assistant_of(request: Request) -> Assistant:
    app: Assistant = request.app.state.backend.get()
    return app


def source_url(request: Request, doc_id: str, part: str | None = None) -> str:
    """The source view's address: absolute when the request names a host, else from the site root."""
    base = str(request.base_url) if request.headers.get("host") else request.scope.get("root_path", "") + "/"
    return base + views.source_path(doc_id, part)


def _with_url(request: Request, hit: dict[str, Any]) -> dict[str, Any]:
    citation = hit["citation"]
    return {**hit, "source_url": source_url(request, citation["doc_id"], citation["part"])}


def _not_found(doc_id: str) -> JSONResponse:
    return JSONResponse({"detail": f"Onbekend document {doc_id!r}. / Unknown document {doc_id!r}."}, status_code=404)


def answer_json(request: Request, answer: Answer) -> dict[str, Any]:
    """An answer as the API returns it: every cited part with the absolute link to its source view."""
    data = answer.to_dict()
    for key in ("answers", "related", "suggestions"):
        data[key] = [_with_url(request, h) for h in data[key]]
    return data


@router.post("/api/ask", tags=["api"])
def api_ask(body: AskRequest, request: Request) -> dict[str, Any]:
    """The minister's own words answering the question, cited down to the sub-question, with source links."""
    app, policy = assistant_of(request), request.app.state.abstain_policy
    answer = views.ask(
        app, body.question, body.filters, body.top_k, policy, body.turns(), log=staff_of(request), channel="api"
    )
    return answer_json(request, answer)


@router.post("/api/similar", tags=["api"])
def api_similar(body: SimilarRequest, request: Request) -> dict[str, Any]:
    """Eerder gesteld? Per sub-question of the draft (numbered as the parser numbers documents), the earlier
    sub-questions above the calibrated similarity cut-off, most similar first, each with its answer, `similarity`
    (cosine) and `similarity_word`; `found` is false when none reaches the cut-off."""
    data = views.similar(assistant_of(request), body.question, body.filters, body.top_k).to_dict()
    for part in data["parts"]:
        part["earlier"] = [_with_url(request, h) for h in part["earlier"]]
    return data


# `{doc_id:path}`: an id may hold "/" (its links encode it as %2F, which the server decodes before routing).
@router.get("/api/documents/{doc_id:path}", tags=["api"], response_model=None)
def api_document(doc_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """A parsed document with its parts and which of them got an answer of their own."""
    doc = assistant_of(request).document(doc_id)
    if doc is None:
        return _not_found(doc_id)
    data = doc.to_dict()
    data["source"] = PurePath(data["source"]).name if data.get("source") else data.get("source")  # no server paths
    return {
        **data,
        "coverage": {**coverage(doc), "line": coverage_line(doc)},
        "source_url": source_url(request, doc_id),
    }


@router.get("/doc/{doc_id:path}", response_class=HTMLResponse, name="source_view", tags=["source view"])
def source_view(doc_id: str, request: Request, part: str | None = None, hl: str | None = None) -> HTMLResponse:
    """The document as a page; `?part=3e` highlights that part (link to it with `#part-3e`), `&hl=12-80` marks
    the sentences the chat marked (offsets into the answer text shown for the part)."""
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    doc = assistant_of(request).document(doc_id)
    if doc is None:
        return HTMLResponse(not_found_page(doc_id), status_code=404, headers=headers)
    marks = views.parse_marks(hl, len(doc.answer_for(part))) if part and doc.part(part) else ()
    return HTMLResponse(document_page(doc, part, marks), headers=headers)
