"""Metadata filters: the one list of filter keys, validated once into a frozen `Filters`, matched against
Documents in memory. How a store expresses them (Chroma's `where`) is the store's business, not this module's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from assistant.errors import ConfigError
from assistant.types import Document

FIELD_KEYS = ("minister", "department", "party", "asker", "doc_id")
"""Filters that name a document field exactly."""
DATE_KEYS = ("date_from", "date_to")
FILTER_KEYS = (*FIELD_KEYS[:4], *DATE_KEYS, "doc_id")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_number(iso: str | None) -> int | None:
    """ "2017-03-15" -> 20170315: dates as numbers, for range comparisons."""
    if not iso:
        return None
    digits = iso[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else None


def _check_date(key: str, value: str) -> date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"Ongeldige datum voor {key}: {value!r}; gebruik JJJJ-MM-DD, bv. 2023-03-02 (ISO date). "
            f"/ Invalid date for {key}: {value!r}; use YYYY-MM-DD, e.g. 2023-03-02 (ISO date)."
        ) from None


@dataclass(frozen=True)
class Filters:
    """Validated filters; None means "any". Build with `Filters.parse(mapping)`."""

    minister: str | None = None
    department: str | None = None
    party: str | None = None
    asker: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    doc_id: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | Filters | None) -> Filters:
        """Known keys with non-empty values; ConfigError (Dutch + English) for an unknown key, a date that is not
        YYYY-MM-DD, or a period that ends before it starts."""
        if isinstance(raw, Filters):
            return raw
        names = ", ".join(FILTER_KEYS)
        values: dict[str, str] = {}
        for key, value in (raw or {}).items():
            if key not in FILTER_KEYS:
                raise ConfigError(
                    f"Onbekende filter {key!r}; kies uit {names}. / Unknown filter {key!r} (unknown filter); "
                    f"use one of {names}."
                )
            if value is None or value == "":
                continue
            values[key] = str(value)
            if key in DATE_KEYS:
                _check_date(key, values[key])
        if "date_from" in values and "date_to" in values and values["date_from"] > values["date_to"]:
            raise ConfigError(
                "De begindatum (date_from) ligt na de einddatum (date_to). / date_from is later than date_to."
            )
        return cls(**values)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def as_dict(self) -> dict[str, str]:
        """The set filters only, e.g. {"party": "Groen"}."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def fields_set(self) -> dict[str, str]:
        """The set exact-match filters (not the dates)."""
        return {k: v for k in FIELD_KEYS if (v := getattr(self, k)) is not None}

    @property
    def date_range(self) -> tuple[int | None, int | None]:
        return date_number(self.date_from), date_number(self.date_to)

    def matches(self, doc: Document) -> bool:
        """Whether a document passes every set filter (a document without a date fails a date filter)."""
        for key, value in self.fields_set().items():
            if getattr(doc, key) != value:
                return False
        low, high = self.date_range
        if low is None and high is None:
            return True
        number = date_number(doc.date)
        if number is None:
            return False
        return (low is None or number >= low) and (high is None or number <= high)


NO_FILTERS = Filters()
