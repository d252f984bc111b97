"""The staff page (/staff, Dutch, server-rendered, no scripts) and its CSV downloads: the questions asked, the ones we
could not answer (knowledge gaps) and the feedback, from staff.StaffLog.

Only for staff: answered to a loopback client, or to any client with ASSISTANT_STAFF_TOKEN (Authorization: Bearer
or X-Staff-Token); everyone else gets 403. The client address is the one security.ProxyGuard leaves: a configured
proxy's X-Forwarded-For, else the peer, and a peer that sent forwarding headers of its own is never loopback.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from assistant.staff import LISTS, Asked, Feedback, Gap, StaffLog, to_csv
from assistant.web import views
from assistant.web.security import FORWARDING_DROPPED

router = APIRouter()

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
"""No scripts, nothing loaded, never framed."""
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
SHOWN = 200
"""Rows per table on the page; the CSV has them all."""
FORBIDDEN = (
    "Geen toegang: de beheerpagina is er alleen vanaf deze machine (loopback) of met het beheertoken "
    "(ASSISTANT_STAFF_TOKEN, als 'Authorization: Bearer ...' of 'X-Staff-Token'). "
    "/ Forbidden: the staff page is for loopback clients or requests with the staff token."
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def presented_token(request: Request) -> str | None:
    """The token a request carries: `Authorization: Bearer T` or `X-Staff-Token: T`."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-staff-token") or None


def is_loopback(request: Request) -> bool:
    """Whether the client is this machine (and no unconfigured proxy forwarded for someone else)."""
    if request.scope.get(FORWARDING_DROPPED):
        return False
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def allowed(request: Request, token: str | None) -> bool:
    """Loopback, or the configured staff token (compared in constant time)."""
    given = presented_token(request)
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    return is_loopback(request)


def _guard(request: Request) -> Response | None:
    token = request.app.state.backend.settings.staff_token
    if allowed(request, token):
        return None
    return JSONResponse({"detail": FORBIDDEN}, status_code=403, headers=HEADERS)


def _since(request: Request) -> str | None:
    value = request.query_params.get("sinds", "").strip()
    return value if _DATE.fullmatch(value) else None


@router.get("/staff", response_class=HTMLResponse, include_in_schema=False)
def staff_page(request: Request) -> Response:
    """The questions asked, the knowledge gaps and the feedback, for staff."""
    refused = _guard(request)
    if refused is not None:
        return refused
    log: StaffLog = request.app.state.staff
    return HTMLResponse(page(log, _since(request)), headers=HEADERS)


@router.get("/staff/{kind}.csv", include_in_schema=False)
def staff_csv(kind: str, request: Request) -> Response:
    """One list as a CSV download: questions, gaps or feedback."""
    refused = _guard(request)
    if refused is not None:
        return refused
    if kind not in LISTS:
        return JSONResponse({"detail": f"Onbekende lijst {kind!r}. / Unknown list."}, status_code=404, headers=HEADERS)
    log: StaffLog = request.app.state.staff
    since = _since(request)
    name = f"parlement-qa-{kind}{'-sinds-' + since if since else ''}.csv"
    return Response(
        to_csv(log, kind, since),
        media_type="text/csv; charset=utf-8",
        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---------------------------------------------------------------- HTML

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 2rem auto;
  max-width: 72rem; padding: 0 1.25rem 4rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid #d0d7de; }
th { background: #f6f8fa; }
td.n { text-align: right; white-space: nowrap; }
.note { background: #fff8e6; border: 1px solid #d4a72c; border-radius: 6px; padding: .5rem .8rem; }
.down { color: #a40e26; font-weight: 600; } .up { color: #1a7f37; font-weight: 600; }
.meta { color: #59636e; }
"""


def _parts(parts: tuple[str, ...]) -> str:
    links = []
    for item in parts:
        doc, _, part = item.partition("#")
        links.append(f'<a href="{escape(views.source_path(doc, part or None))}">{escape(item)}</a>')
    return ", ".join(links)


def _rating(rating: str) -> str:
    return '<span class="up">duim omhoog</span>' if rating == "up" else '<span class="down">duim omlaag</span>'


def _gap_rows(gaps: list[Gap]) -> str:
    return "".join(
        f'<tr><td>{escape(g.question)}</td><td class="n">{g.count}</td><td>{escape(g.first)}</td>'
        f"<td>{escape(g.last)}</td></tr>"
        for g in gaps[:SHOWN]
    )


def _feedback_rows(items: list[Feedback]) -> str:
    return "".join(
        f"<tr><td>{escape(f.at)}</td><td>{_rating(f.rating)}</td><td>{escape(f.channel)}</td>"
        f"<td>{escape(f.question)}</td><td>{escape(f.comment)}</td><td>{_parts(f.shown)}</td></tr>"
        for f in items[:SHOWN]
    )


def _question_rows(items: list[Asked]) -> str:
    return "".join(
        f"<tr><td>{escape(a.at)}</td><td>{escape(a.channel)}</td><td>{escape(a.question)}</td>"
        f"<td>{escape('; '.join(f'{k}={v}' for k, v in a.filters.items()))}</td>"
        f"<td>{'nee' if a.abstained else 'ja'}</td><td>{_parts(a.cited)}</td></tr>"
        for a in items[:SHOWN]
    )


def _table(head: tuple[str, ...], body: str, empty: str) -> str:
    if not body:
        return f'<p class="meta">{escape(empty)}</p>'
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def page(log: StaffLog, since: str | None = None) -> str:
    """The staff page as HTML; every stored text escaped."""
    counts = log.counts()
    query = f"?sinds={since}" if since else ""
    csv_links = " | ".join(f'<a href="staff/{kind}.csv{query}">{label}</a>' for kind, label in _CSV_LABELS)
    gaps = log.gaps(since=since)
    feedback = log.feedback(since=since)
    asked = log.questions(limit=SHOWN, since=since)
    note = (
        ""
        if log.log_questions
        else '<p class="note">Het vragenlogboek staat uit: gestelde vragen worden niet bewaard. Zet '
        "<code>ASSISTANT_QUESTION_LOG=1</code> om ze te bewaren (en licht de gebruikers in). Feedback die lezers "
        "geven, wordt altijd bewaard.</p>"
    )
    period = f" sinds {escape(since)}" if since else ""
    return (
        '<!doctype html>\n<html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Parlement Q&amp;A - beheer</title><style>{_CSS}</style></head>\n<body>"
        "<h1>Vragen en feedback</h1>"
        f'<p class="meta">{counts["questions"]} vragen in het logboek, waarvan {counts["abstained"]} zonder '
        f"antwoord; feedback: {counts['up']} keer duim omhoog, {counts['down']} keer duim omlaag.</p>{note}"
        f'<form method="get" action="staff"><label>Sinds <input type="date" name="sinds" value="{escape(since or "")}">'
        '</label> <button type="submit">Toon</button></form>'
        f"<p>Downloaden als CSV: {csv_links}</p>"
        f'<h2>Kennislacunes{period}</h2><p class="meta">Vragen waarop de assistent geen antwoord vond, dezelfde '
        "vraag samengeteld, de vaakst gestelde eerst.</p>"
        + _table(("Vraag", "Aantal keer", "Eerst gesteld", "Laatst gesteld"), _gap_rows(gaps), "Geen kennislacunes.")
        + f"<h2>Feedback{period}</h2>"
        + _table(
            ("Tijd (UTC)", "Oordeel", "Via", "Vraag", "Toelichting", "Getoonde delen"),
            _feedback_rows(feedback),
            "Nog geen feedback.",
        )
        + f'<h2>Gestelde vragen{period}</h2><p class="meta">De laatste {SHOWN}; de CSV bevat ze alle.</p>'
        + _table(
            ("Tijd (UTC)", "Via", "Vraag", "Filters", "Beantwoord", "Geciteerd"),
            _question_rows(asked),
            "Geen gestelde vragen in het logboek.",
        )
        + '<p><a href="./">&larr; naar de chat</a></p></body></html>\n'
    )


_CSV_LABELS = (("questions", "gestelde vragen"), ("gaps", "kennislacunes"), ("feedback", "feedback"))
