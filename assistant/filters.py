"""Metadata filters: the one list of filter keys, validated once into a frozen `Filters`, resolved against the
values the documents use (case, accents, punctuation and word order do not matter; a prefix, part or near-miss of a
known value resolves to it), and matched against Documents in memory. How a store expresses them (Chroma's
`where`) is the store's business, not this module's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

from rapidfuzz import fuzz, process

from assistant.catalog import fold
from assistant.errors import ConfigError
from assistant.types import Document

NAME_KEYS = ("minister", "department", "party", "asker")
"""Filters that name a person, party or department: matched loosely, may resolve to several known values."""
FIELD_KEYS = (*NAME_KEYS, "doc_id")
"""Filters that name a document field (doc_id exactly)."""
DATE_KEYS = ("date_from", "date_to")
FILTER_KEYS = (*NAME_KEYS, *DATE_KEYS, "doc_id")
LABELS = {
    "minister": "minister",
    "department": "departement",
    "party": "fractie",
    "asker": "vraagsteller",
    "date_from": "gesteld vanaf",
    "date_to": "gesteld tot en met",
    "doc_id": "document",
}
"""How the chat names each filter, for messages."""
LOOSE_MAX = 8
"""A value that matches more known values than this only loosely is too vague to resolve ("minister")."""
FUZZY_MIN = 80
"""rapidfuzz ratio (0-100) each word of a value must reach against a word of a known value: one typo in a name of
five letters or more ("Peters" -> "Peeters"), not a different name."""
SUGGESTIONS = 3
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WORD = re.compile(r"[^\W_]+")


def date_number(iso: str | None) -> int | None:
    """ "2017-03-15" -> 20170315: dates as numbers, for range comparisons."""
    if not iso:
        return None
    digits = iso[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else None


def check_date(key: str, value: str, label: str | None = None) -> date:
    """The date in `value` (YYYY-MM-DD); ConfigError (Dutch + English) naming the field as `label` or `key`."""
    name = f"{label} ({key})" if label else key
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"Ongeldige datum voor {name}: {value!r}; gebruik JJJJ-MM-DD, bv. 2023-03-02 (ISO date). "
            f"/ Invalid date for {key}: {value!r}; use YYYY-MM-DD, e.g. 2023-03-02 (ISO date)."
        ) from None


def words(value: str) -> list[str]:
    """ "Pas, Barbara" -> ["pas", "barbara"]: lower case, no accents, no punctuation."""
    return _WORD.findall(fold(value))


def match_key(value: str) -> str:
    """What two spellings of one name share: "Open VLD", "open-vld" and "OPEN vld" -> "open vld"; "Pas, Barbara"
    and "Barbara Pas" -> "barbara pas" (words sorted)."""
    return " ".join(sorted(words(value)))


def _squashed(value: str) -> str:
    return "".join(words(value))


@dataclass(frozen=True)
class Filters:
    """Validated filters; None means "any". A name filter holds one or more exact values (any of them passes).
    Build with `Filters.parse(mapping)`; `FilterValues.resolve` turns loose names into known values."""

    minister: tuple[str, ...] | None = None
    department: tuple[str, ...] | None = None
    party: tuple[str, ...] | None = None
    asker: tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None
    doc_id: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | Filters | None) -> Filters:
        """Known keys with non-empty values (a name filter: a string or a list of strings); ConfigError (Dutch +
        English) for an unknown key, a date that is not YYYY-MM-DD, or a period that ends before it starts."""
        if isinstance(raw, Filters):
            return raw
        names = ", ".join(FILTER_KEYS)
        values: dict[str, Any] = {}
        for key, value in (raw or {}).items():
            if key not in FILTER_KEYS:
                raise ConfigError(
                    f"Onbekende filter {key!r}; kies uit {names}. / Unknown filter {key!r} (unknown filter); "
                    f"use one of {names}."
                )
            if key in NAME_KEYS:
                given = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
                kept = tuple(dict.fromkeys(s for v in given if v is not None and (s := str(v).strip())))
                if kept:
                    values[key] = kept
                continue
            if value is None or str(value).strip() == "":
                continue
            values[key] = str(value).strip()
            if key in DATE_KEYS:
                check_date(key, values[key], LABELS[key].capitalize())
        if "date_from" in values and "date_to" in values and values["date_from"] > values["date_to"]:
            raise ConfigError(
                "De begindatum (Gesteld vanaf, date_from) ligt na de einddatum (Gesteld tot en met, date_to). "
                "/ date_from is later than date_to."
            )
        return cls(**values)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def as_dict(self) -> dict[str, str | list[str]]:
        """The set filters only, as `parse` takes them, e.g. {"party": "Groen"} ({"party": ["A", "B"]} for two)."""
        out: dict[str, str | list[str]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                out[f.name] = value[0] if len(value) == 1 else list(value)
            elif value is not None:
                out[f.name] = value
        return out

    def fields_set(self) -> dict[str, tuple[str, ...]]:
        """The set field filters (not the dates), each as the exact values that pass."""
        out = {k: v for k in NAME_KEYS if (v := getattr(self, k)) is not None}
        if self.doc_id is not None:
            out["doc_id"] = (self.doc_id,)
        return out

    @property
    def date_range(self) -> tuple[int | None, int | None]:
        return date_number(self.date_from), date_number(self.date_to)

    def matches(self, doc: Document) -> bool:
        """Whether a document passes every set filter (a document without a date fails a date filter)."""
        for key, allowed in self.fields_set().items():
            if getattr(doc, key) not in allowed:
                return False
        low, high = self.date_range
        if low is None and high is None:
            return True
        number = date_number(doc.date)
        if number is None:
            return False
        return (low is None or number >= low) and (high is None or number <= high)


NO_FILTERS = Filters()

How = Literal["exact", "loose", "fuzzy"]


@dataclass(frozen=True)
class ActiveFilter:
    """One filter as applied: what was given, the known values it stands for, and how they were found."""

    key: str
    given: str
    values: tuple[str, ...]
    how: How = "exact"

    @property
    def label(self) -> str:
        return LABELS[self.key]

    def describe(self) -> str:
        """ "fractie 'Open VLD'", "fractie 'open vld' (Open VLD)", "gesteld vanaf 2023-01-01"."""
        if self.key in DATE_KEYS:
            return f"{self.label} {self.given}"
        shown = f"{self.label} {self.given!r}"
        if self.values != (self.given,):
            shown += f" ({'; '.join(self.values)})"
        return shown

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "given": self.given, "values": list(self.values), "how": self.how}


@dataclass(frozen=True)
class Resolved:
    """Filters with every name resolved to known values, and what each given filter became."""

    filters: Filters
    active: tuple[ActiveFilter, ...] = ()

    def describe(self) -> str:
        """The active filters in one Dutch phrase: "fractie 'Open VLD', gesteld vanaf 2023-01-01"."""
        return ", ".join(a.describe() for a in self.active)


class FilterValues:
    """The values the documents use for each name filter, to resolve what a user typed to them."""

    def __init__(self, known: Mapping[str, Iterable[str]]) -> None:
        self.known: dict[str, tuple[str, ...]] = {k: tuple(sorted(set(known.get(k, ())))) for k in NAME_KEYS}
        self._keys = {k: [(match_key(v), _squashed(v), words(v)) for v in vs] for k, vs in self.known.items()}

    @classmethod
    def of(cls, docs: Iterable[Document]) -> FilterValues:
        known: dict[str, set[str]] = {k: set() for k in NAME_KEYS}
        for d in docs:
            for k in NAME_KEYS:
                if value := getattr(d, k):
                    known[k].add(value)
        return cls(known)

    def resolve(self, raw: Mapping[str, Any] | Filters | None) -> Resolved:
        """`raw` checked (`Filters.parse`) with each name resolved to the known values it matches: the same
        words in any case, accents, punctuation or order; else the known values it is a prefix or part of; else
        near-misses. ConfigError (Dutch + English) naming the field and the closest known values when none fits."""
        filters = Filters.parse(raw)
        active: list[ActiveFilter] = []
        resolved: dict[str, tuple[str, ...]] = {}
        for key in NAME_KEYS:
            given = getattr(filters, key)
            if given is None:
                continue
            values: list[str] = []
            for one in given:
                found, how = self.match(key, one)
                active.append(ActiveFilter(key, one, found, how))
                values.extend(v for v in found if v not in values)
            resolved[key] = tuple(values)
        for key in (*DATE_KEYS, "doc_id"):
            if (value := getattr(filters, key)) is not None:
                active.append(ActiveFilter(key, value, (value,)))
        return Resolved(Filters(**{**_plain(filters), **resolved}), tuple(active))

    def match(self, key: str, given: str) -> tuple[tuple[str, ...], How]:
        """The known values of `key` that `given` stands for, and how they were found (see `resolve`)."""
        known = self.known[key]
        if given in known:
            return (given,), "exact"
        gkey, gsquash, gwords = match_key(given), _squashed(given), words(given)
        rows = list(zip(known, self._keys[key], strict=True))
        same = tuple(v for v, (k, s, _) in rows if gwords and (k == gkey or s == gsquash))
        if same:
            return same, "loose"
        part = tuple(
            v for v, (_, s, ws) in rows if gwords and (_words_start(gwords, ws) or (len(gsquash) > 3 and gsquash in s))
        )
        if 0 < len(part) <= LOOSE_MAX:
            return part, "loose"
        if len(part) > LOOSE_MAX:
            raise ConfigError(_vague(key, given, part))
        # each word close to a word of the value; of equally close values, the one closest as a whole
        scored = [
            ((min(_best_ratio(g, ws) for g in gwords), fuzz.ratio(gkey, k)), v) for v, (k, _, ws) in rows if gwords
        ]
        best = max((s for s, _ in scored), default=(0.0, 0.0))
        if best[0] >= FUZZY_MIN:
            return tuple(v for s, v in scored if s == best), "fuzzy"
        raise ConfigError(_unknown(key, given, self.closest(key, given)))

    def closest(self, key: str, given: str, limit: int = SUGGESTIONS) -> list[str]:
        """The known values of `key` most like `given`, best first."""
        found = process.extract(match_key(given), self.known[key], scorer=fuzz.WRatio, processor=match_key, limit=limit)
        return [choice for choice, _, _ in found]


def _plain(filters: Filters) -> dict[str, Any]:
    return {f.name: getattr(filters, f.name) for f in fields(filters)}


def _words_start(given: Sequence[str], known: Sequence[str]) -> bool:
    """Whether each given word begins a different word of the known value ("peeters" in "an peeters", "fin" in
    "minister van financien")."""
    free = list(known)
    for g in given:
        hit = next((w for w in free if w.startswith(g)), None)
        if hit is None:
            return False
        free.remove(hit)
    return True


def _best_ratio(word: str, known: Sequence[str]) -> float:
    if len(word) < 4:
        return 100.0 if word in known else 0.0
    return max((fuzz.ratio(word, w) for w in known), default=0.0)


def _listed(values: Sequence[str]) -> str:
    return ", ".join(repr(v) for v in values)


def _quoted(given: str, limit: int = 60) -> str:
    """The value as typed, for a message; a long one cut (the message is about the field, not the paste)."""
    return repr(given if len(given) <= limit else given[:limit] + "...")


def _unknown(key: str, given: str, closest: Sequence[str]) -> str:
    label, given = LABELS[key], _quoted(given)
    if not closest:
        return (
            f"Geen enkel document heeft een {label}: filter {key!r} kan niets vinden. "
            f"/ No document has a {key}: the {key!r} filter cannot match anything."
        )
    return (
        f"Onbekende {label} {given}; bedoelt u {_listed(closest)}? "
        f"/ Unknown {key} {given} (filter {key!r}); did you mean {_listed(closest)}?"
    )


def _vague(key: str, given: str, matches: Sequence[str]) -> str:
    label, given = LABELS[key], _quoted(given)
    shown = _listed(matches[:SUGGESTIONS])
    return (
        f"{label.capitalize()} {given} past op {len(matches)} waarden, bv. {shown}; maak het preciezer. "
        f"/ {key.capitalize()} {given} matches {len(matches)} values (filter {key!r}), e.g. {shown}; "
        f"be more specific."
    )
