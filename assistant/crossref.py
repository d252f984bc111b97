"""Which indexed document a reference to another question names ("het antwoord op de vraag nr. 205 van 30 januari
2017 gesteld aan de heer Charles Michel, eerste minister"), matched on what the corpus records. Pure.

The Belgian export has no question numbers and no ministers' names, only the filing date, the asker and the
answering department, so a match there needs the date the answer gives; a number is matched only against a source
that keeps its numbers (`Document.numbers`, the Tweede Kamer's). Where several documents fit, the one whose title
is closest to the referring document's wins, and only when it is clearly closest: no link beats a wrong one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from assistant.types import Document, OtherQuestion

_WORD = re.compile(r"[a-zà-ÿ]{3,}")
_OFFICE_STOP = frozenset(
    "minister staatssecretaris vice eersteminister van voor met belast toegevoegd aan het der des en de".split()
)
TITLE_MARGIN = 0.15
"""How much closer in title words the best of several fitting documents must be than the next one."""
TITLE_MIN = 0.1
"""A date and an office alone fit many questions of a busy day: the title must share some words as well."""
_TITLE_STOP = frozenset("van het een de der den voor met naar bij over aan uit door en in op te".split())


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def office_matches(addressee: str, doc: Document) -> bool:
    """Whether the office the answer names ("eerste minister", "minister van Defensie") is the document's
    department (or minister): every content word of the office occurs there."""
    where = f"{doc.department or ''} {doc.minister or ''}".lower()
    if re.fullmatch(r"(?:vice-?\s*)?eerste\s*minister", addressee.strip()):
        return bool(re.match(r"\s*eerste\s+minister\b", where))
    wanted = _words(addressee) - _OFFICE_STOP
    return bool(wanted) and wanted <= _words(where)


def _asker_matches(name: str, doc: Document) -> bool:
    """ "Barbara Pas" against the record's "Pas, Barbara": every name word occurs."""
    return bool(doc.asker) and _words(name) <= _words(doc.asker or "")


def _title_words(title: str) -> set[str]:
    """Title words cut to six letters, so "stations" meets "station" and "munitie" "munitieopslag"."""
    return {w[:6] for w in _words(title) if w not in _TITLE_STOP}


def _title_overlap(a: str, b: str) -> float:
    wa, wb = _title_words(a), _title_words(b)
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


class Directory:
    """The documents of one index generation, looked up by filing date and by their own numbers."""

    def __init__(self, docs: Iterable[Document]) -> None:
        self.by_date: dict[str, list[Document]] = defaultdict(list)
        self.by_number: dict[str, list[Document]] = defaultdict(list)
        for doc in docs:
            if doc.date:
                self.by_date[doc.date].append(doc)
            for number in doc.numbers:
                for digits in re.findall(r"\d+", number):
                    self.by_number[digits.lstrip("0")].append(doc)

    def find(self, ref: OtherQuestion, source: Document) -> Document | None:
        """The one indexed document that `ref` (found in `source`'s answer) names, or None."""
        if ref.oral:
            return None  # oral questions and committee debates are not written questions
        if ref.number and ref.number.lstrip("0") in self.by_number:
            candidates = list(self.by_number[ref.number.lstrip("0")])
            if ref.date:
                candidates = [d for d in candidates if d.date == ref.date] or candidates
        elif ref.date:
            candidates = list(self.by_date.get(ref.date, ()))
        else:
            return None  # neither a number the corpus keeps nor a date: too little to tell one question apart
        candidates = [d for d in candidates if d.doc_id != source.doc_id]
        if ref.addressee:
            candidates = [d for d in candidates if office_matches(ref.addressee, d)]
        elif ref.same_minister and source.department:
            candidates = [d for d in candidates if d.department == source.department]
        if ref.asker:
            candidates = [d for d in candidates if _asker_matches(ref.asker, d)]
        elif ref.same_asker and source.asker:
            candidates = [d for d in candidates if d.asker == source.asker]
        ranked = sorted(candidates, key=lambda d: -_title_overlap(d.title, source.title))
        scores = [_title_overlap(d.title, source.title) for d in ranked[:2]] + [0.0]
        if not ranked or scores[0] < TITLE_MIN or (len(ranked) > 1 and scores[0] - scores[1] < TITLE_MARGIN):
            return None
        return ranked[0]
