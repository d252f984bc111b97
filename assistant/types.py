"""The domain values: a Document with its numbered Parts, and the retrieval/answer values built on them.

Plain frozen dataclasses with one JSON shape each (`to_dict`/`from_dict`); storage and I/O live elsewhere.
Offsets are character offsets into the document's normalised `question_text` / `answer_text`, the texts the
source view shows, so a citation can be quoted and highlighted exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from string import ascii_lowercase
from typing import Any, Literal, NamedTuple

Span = tuple[int, int]
RefKind = Literal["reference", "joint", "items", "whole"]


class PartKey(NamedTuple):
    """A part of a document: ("sv_2024_0213", "3e"); written "sv_2024_0213#3e" where a string is needed."""

    doc_id: str
    label: str

    def __str__(self) -> str:
        return f"{self.doc_id}#{self.label}"

    @classmethod
    def parse(cls, key: str) -> PartKey:
        """ "doc#3e" -> PartKey("doc", "3e"); a chunk id's piece suffix ("doc#3e~1") is dropped."""
        doc_id, _, label = key.partition("#")
        return cls(doc_id, label.split("~", 1)[0])


@dataclass(frozen=True)
class Part:
    """One numbered sub-question ("3e") with the answer text of its own."""

    label: str
    question: str
    answer: str = ""
    ref: str | None = None
    """The label whose answer text answers this part, when it has none of its own (reference or range)."""
    ref_kind: RefKind | None = None
    """Why `ref` is set: "reference" ("Zie vraag 1"), "joint" ("1. en 2." / "1. tot 4."), "items" (a number
    answered through its lettered items), "whole" (an unnumbered answer answers every part)."""
    question_span: Span | None = None
    answer_span: Span | None = None

    @property
    def number(self) -> int:
        digits = "".join(ch for ch in self.label if ch.isdigit())
        return int(digits) if digits else 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Part:
        d = dict(data)
        for key in ("question_span", "answer_span"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)


OPTIONAL_DOCUMENT_FIELDS = ("addressee", "answer_date", "numbers")


@dataclass(frozen=True)
class Document:
    """A written question with its answer, split into parts."""

    doc_id: str
    title: str
    question_text: str
    answer_text: str
    parts: tuple[Part, ...] = ()
    intro: str = ""
    date: str | None = None
    """ISO date (YYYY-MM-DD): the filing date where the source gives one."""
    asker: str | None = None
    party: str | None = None
    minister: str | None = None
    department: str | None = None
    themes: tuple[str, ...] = ()
    source: str = ""
    url: str | None = None
    unassigned: tuple[Span, ...] = ()
    """Spans of `answer_text` that belong to no part (labels, preamble, closing lines)."""
    addressee: str | None = None
    """Who the question was put to, where that differs from who answered ("de Minister van Asiel en Migratie")."""
    answer_date: str | None = None
    """ISO date the answer was received, where the source gives it (Tweede Kamer: "ontvangen")."""
    numbers: tuple[str, ...] = ()
    """The source's own document numbers ("AH 601", "2024Z17331", "zie ook AH 426")."""

    def part(self, label: str) -> Part | None:
        for p in self.parts:
            if p.label == label:
                return p
        return None

    def resolve(self, label: str) -> Part | None:
        """The part whose own answer text answers `label`, following references (cycle-safe)."""
        seen: set[str] = set()
        current = self.part(label)
        while current is not None and current.ref and current.label not in seen:
            seen.add(current.label)
            target = self.part(current.ref) or self.part(current.ref + "a")
            if target is None:
                break
            current = target
        return current

    def answer_for(self, label: str) -> str:
        """The answer text a reader should see for `label`: its own text, or the text it points to; for a number
        answered through its lettered items, every item's answer, each after its label ("3a) ...", "3b-3d) ...")."""
        part = self.part(label)
        if part is not None and part.ref_kind == "items":
            return self._items_answer(part)
        p = self.resolve(label)
        return p.answer if p is not None else ""

    def _items_answer(self, part: Part) -> str:
        groups: list[tuple[list[str], str]] = []
        for item in self.parts:
            if item.label == part.label or item.label.rstrip(ascii_lowercase) != part.label:
                continue
            resolved = self.resolve(item.label)
            text = resolved.answer.strip() if resolved is not None and resolved.ref_kind != "items" else ""
            if groups and groups[-1][1] == text:
                groups[-1][0].append(item.label)
            else:
                groups.append(([item.label], text))
        labelled = [f"{ls[0] if len(ls) == 1 else ls[0] + '-' + ls[-1]}) {text}" for ls, text in groups if text]
        return "\n".join(labelled)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["parts"] = [p.to_dict() for p in self.parts]
        # fields added later appear only when set, so documents parsed before them keep their exact JSON
        for key in OPTIONAL_DOCUMENT_FIELDS:
            if not d[key]:
                del d[key]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        d = dict(data)
        d["parts"] = tuple(Part.from_dict(p) for p in d.get("parts", ()))
        d["themes"] = tuple(d.get("themes", ()))
        d["unassigned"] = tuple(tuple(s) for s in d.get("unassigned", ()))
        d["numbers"] = tuple(d.get("numbers", ()))
        return cls(**d)


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from: a document and a sub-question."""

    doc_id: str
    part: str
    title: str
    date: str | None = None
    minister: str | None = None
    department: str | None = None
    via_ref: str | None = None
    """Set when `part` is answered by reference: the label whose text is shown."""

    @property
    def who(self) -> str | None:
        """Who answered, as a name or title: the minister, else the department; never a bare code (older Belgian
        indexes hold the Chamber's department number, "7", as the minister)."""
        minister = self.minister if self.minister and not self.minister.strip().isdigit() else None
        return minister or self.department

    def label(self) -> str:
        who = self.who
        bits = [f"{self.title} - {self.doc_id}, vraag {self.part}"]
        if who:
            bits.append(who)
        if self.date:
            bits.append(self.date)
        return " - ".join(bits)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """A retrieved part with its score and the answer text a reader should see."""

    citation: Citation
    score: float
    question: str
    answer: str
    highlights: tuple[Span, ...] = field(default=())
    """Offsets into `answer` of the sentences that best match the question."""
    similarity: float | None = None
    """Cosine similarity of the question to the part's best chunk, when dense search found it."""

    @property
    def key(self) -> PartKey:
        return PartKey(self.citation.doc_id, self.citation.part)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["citation"] = self.citation.to_dict()
        d["highlights"] = [list(s) for s in self.highlights]
        return d


@dataclass(frozen=True)
class Evidence:
    """What retrieval knows about how well a question is answered at all: the basis of abstaining."""

    similarity: float | None = None
    """Cosine similarity of the question to the best hit, when the dense side ran."""
    coverage: float | None = None
    """Share of the question's content words (IDF-weighted) found in the best hit's document."""
    unknown_words: tuple[str, ...] = ()
    """Words of the question that no document uses, not even inside a compound."""
    unknown_frequency: tuple[float, ...] = ()
    """How common each of `unknown_words` is in the question's language generally (Zipf scale, text.zipf_frequency):
    a corpus may lack "geld" by chance, not "fipronilcrisis"."""
    language: str = "nl"
    """The question's language (text.language); one other than the corpus's shares few words with its documents."""

    @property
    def english(self) -> bool:
        return self.language == "en"

    def rare_words(self, below: float) -> tuple[str, ...]:
        """The unknown words rarer than `below` on the Zipf scale: the ones that say the corpus lacks the subject."""
        return tuple(w for w, f in zip(self.unknown_words, self.unknown_frequency, strict=True) if f < below)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["unknown_words"] = list(self.unknown_words)
        d["unknown_frequency"] = list(self.unknown_frequency)
        d["english"] = self.english
        return d


@dataclass(frozen=True)
class Retrieval:
    """Ranked hits for a question and the evidence for answering it."""

    hits: tuple[Hit, ...] = ()
    evidence: Evidence = field(default_factory=Evidence)
