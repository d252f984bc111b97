"""What a question asks once its filters are set: the words that only repeat a filter taken out, so that search
compares what is asked and not who was asked or when.

"Wat zei de minister van Leefmilieu in antwoord op een vraag van maart 2017 over de belofte van de
cosmeticasector ...?" with a department filter on that minister and a date filter on March 2017 searches as "Wat zei
over de belofte van de cosmeticasector ...?". A phrase is taken out only when a filter says the same: the role
("de minister van", "volgens de staatssecretaris voor", "according to the minister of") followed by words that all
occur in a minister or department filter, and a period ("een vraag van maart 2017", "in januari 2017") that lies
within the date filter. Anything else stays, so a question about "de minister van Landbouw" filtered on Justitie, or
about "maart 2016" filtered on 2017, keeps its words. Pure.
"""

from __future__ import annotations

import re
from datetime import date

from assistant.filters import Filters, words
from assistant.parse.dates import MONTHS as DUTCH_MONTHS

_EN_MONTHS = "january february march april may june july august september october november december"
MONTHS = {**DUTCH_MONTHS, **{name: i for i, name in enumerate(_EN_MONTHS.split(), start=1)}}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_ROLE = re.compile(
    r"(?:\b(?:volgens|according\s+to)\s+)?\b(?:de\s+|the\s+)?(?:vice-?eerste\s*minister\s+en\s+)?(?:eerste\s+)?"
    r"(?:minister|staatssecretaris|secretary\s+of\s+state)\s+(?:van|voor|of|for)\s+",
    re.I,
)
_PERIOD = re.compile(
    r"(?:\b(?:in\s+antwoord\s+)?op\s+|\bin\s+(?:reply|answer)\s+to\s+)?"
    r"\b(?:een|de|a|the)\s+(?:schriftelijke\s+|parlementaire\s+|written\s+|parliamentary\s+)?(?:vraag|question)\s+"
    rf"(?:van|uit|of|from)\s+(?:\d{{1,2}}\s+)?(?:(?P<m1>{_MONTH})\s+)?(?P<y1>\d{{4}})"
    rf"|\b(?:in|van|uit|of)\s+(?P<m2>{_MONTH})\s+(?P<y2>\d{{4}})",
    re.I,
)
GLUE = frozenset({"de", "het", "en", "van", "voor", "met", "the", "and", "of", "for"})
"""Words a named department may contain but a taken-out phrase does not end on ("... Begroting de inspanning")."""
_MARK = ",:;?.!"


def content_query(question: str, filters: Filters) -> str:
    """The question without the phrases that only repeat its filters (the question itself when none does)."""
    named = {w for key in ("department", "minister") for v in getattr(filters, key) or () for w in words(v)}
    q = _without_roles(question, named) if named else question
    if filters.date_from or filters.date_to:
        q = _PERIOD.sub(lambda m: " " if _within(m, filters) else m.group(0), q)
    if q == question:
        return question
    q = re.sub(r"\s+", " ", q)
    q = re.sub(r"\s+([,:;?.!])", r"\1", q)
    q = re.sub(r"[,;:]\s*([?.!])", r"\1", q).strip(" ,:;")
    return q[:1].upper() + q[1:] if q.strip(" ?.!") else question


def _without_roles(question: str, named: set[str]) -> str:
    out: list[str] = []
    rest = question
    while (m := _ROLE.search(rest)) is not None:
        taken: list[re.Match[str]] = []
        tail = rest[m.end() :]
        for token in re.finditer(r"\S+", tail):
            ws = words(token.group())
            if not ws or not all(w in named for w in ws):
                break
            taken.append(token)
            if token.group()[-1] in _MARK:
                break
        while taken and taken[-1].group()[-1] not in _MARK and words(taken[-1].group())[-1] in GLUE:
            taken.pop()
        if not taken:  # the role names no filtered department: it is part of the question
            out.append(rest[: m.end()])
            rest = tail
            continue
        mark = taken[-1].group()[-1]
        out.append(rest[: m.start()] + (mark if mark in "?.!" else " "))
        rest = tail[taken[-1].end() :]
    out.append(rest)
    return "".join(out)


def _within(m: re.Match[str], filters: Filters) -> bool:
    """Whether the month (or year) the phrase names overlaps the date filter."""
    year = int(m.group("y1") or m.group("y2"))
    month_name = m.group("m1") or m.group("m2")
    if month_name:
        month = MONTHS[month_name.lower()]
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)
    else:
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    low = date.fromisoformat(filters.date_from) if filters.date_from else date.min
    high = date.fromisoformat(filters.date_to) if filters.date_to else date.max
    return start <= high and low < end
