"""Years and periods named in a question ("in 2016", "tussen 2012 en 2016", "sinds 2015"), and how much a part
is about them. Pure functions of strings; the ranking that uses them is followup.py's and retrieve.py's.
"""

from __future__ import annotations

import re

YEAR = re.compile(r"(?:19[5-9]\d|20[0-4]\d)")
_YEAR_IN_TEXT = re.compile(r"(?<![\d.,])(?:19[5-9]\d|20[0-4]\d)(?![\d.,]\d)")
_RANGE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*(?:-|tot|t/m|tot en met|en|and|to)\s*((?:19|20)\d\d)(?!\d)")


def years_in(text: str) -> list[str]:
    """The years a text names, in order, each once; a range ("tussen 2012 en 2016") as its two ends."""
    out: list[str] = []
    for m in _YEAR_IN_TEXT.finditer(text):
        if m.group(0) not in out:
            out.append(m.group(0))
    return out


def year_span(text: str) -> tuple[int, int] | None:
    """The first and last year a text names, or None."""
    ys = [int(y) for y in years_in(text)]
    return (min(ys), max(ys)) if ys else None


def about_years(text: str, years: list[str] | tuple[str, ...]) -> float:
    """Share of `years` that `text` names (0 when there are none to look for)."""
    if not years:
        return 0.0
    named = set(years_in(text))
    return sum(y in named for y in years) / len(years)
