"""Dutch dates as written in parliamentary documents ("18 november 2024", "24 mei 2022") to ISO dates."""

from __future__ import annotations

import re

MONTHS = {
    m: i
    for i, m in enumerate(
        "januari februari maart april mei juni juli augustus september oktober november december".split(), start=1
    )
}
_DATE = re.compile(r"(\d{1,2})\s+([a-z]+)\s+(\d{4})", re.I)


def dutch_date(text: str) -> str | None:
    """The first "<day> <month> <year>" in `text` as YYYY-MM-DD; None when there is none."""
    for m in _DATE.finditer(text):
        month = MONTHS.get(m.group(2).lower())
        if month:
            return f"{int(m.group(3)):04d}-{month:02d}-{int(m.group(1)):02d}"
    return None
