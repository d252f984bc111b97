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


@dataclass(frozen=True)
class OtherQuestion:
    """A question in another document that an answer points to: "het antwoord op de vraag nr. 205 van 30 januari
    2017 gesteld aan de heer Charles Michel, eerste minister". Each field as far as the answer says it."""

    text: str
    """The pointing words as the answer has them (whitespace folded, clipped)."""
    number: str | None = None
    """The question's own number ("205"), as written without thousands dots."""
    date: str | None = None
    """ISO date the answer gives with the question (its filing date, in the Belgian Chamber's usage)."""
    addressee: str | None = None
    """Whom it was put to, as the answer names the office ("eerste minister", "minister van Defensie")."""
    asker: str | None = None
    """Who asked it, where the answer names someone ("Barbara Pas")."""
    same_asker: bool = False
    """The answer says the same member asked it ("eveneens gesteld door het geachte lid")."""
    same_minister: bool = False
    """The answering minister says it answered that question too ("mijn antwoord op ..."): same department."""
    oral: bool = False
    """An oral question or a committee debate (Integraal Verslag, CRIV): never a written question in the index."""

    def describe(self) -> str:
        """ "vraag nr. 205 van 30 januari 2017 aan de eerste minister" from the fields that are known."""
        bits = ["mondelinge vraag" if self.oral else "vraag"]
        if self.number:
            bits.append(f"nr. {self.number}")
        if self.date:
            bits.append(f"van {dutch_long_date(self.date)}")
        if self.asker:
            bits.append(f"van {self.asker}")
        elif self.same_asker:
            bits.append("van hetzelfde Kamerlid")
        if self.addressee:
            bits.append(f"aan de {self.addressee}")
        return " ".join(bits)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OtherQuestion:
        return cls(**data)


_MONTH_NAMES = "januari februari maart april mei juni juli augustus september oktober november december".split()


def dutch_long_date(iso: str) -> str:
    """ "2017-01-30" -> "30 januari 2017" (the ISO text itself when it is not a full date)."""
    try:
        year, month, day = (int(x) for x in iso.split("-"))
        return f"{day} {_MONTH_NAMES[month - 1]} {year}"
    except (ValueError, IndexError):
        return iso


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
    see: tuple[str, ...] = ()
    """Other parts of the document that this part's own text points to while saying more ("Zoals vermeld in het
    antwoord op vraag 3, ..."; "mijn antwoord op de derde vraag"): shown after its own text."""
    elsewhere: tuple[OtherQuestion, ...] = ()
    """Questions in other documents that its text points to ("het antwoord op vraag nr. 205 van ...")."""

    @property
    def number(self) -> int:
        digits = "".join(ch for ch in self.label if ch.isdigit())
        return int(digits) if digits else 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        # fields added later appear only when set, so parts parsed before them keep their exact JSON
        for key in OPTIONAL_PART_FIELDS:
            if not d[key]:
                del d[key]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Part:
        d = dict(data)
        for key in ("question_span", "answer_span"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        d["see"] = tuple(d.get("see", ()))
        d["elsewhere"] = tuple(OtherQuestion.from_dict(o) for o in d.get("elsewhere", ()))
        return cls(**d)


OPTIONAL_PART_FIELDS = ("see", "elsewhere")


OPTIONAL_DOCUMENT_FIELDS = ("addressee", "answer_date", "numbers", "layout")


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
    layout: str = ""
    """How the source numbers its questions: "tk" for the Tweede Kamer's "Vraag 1 / Antwoord 1" (whose sub-questions
    mostly ask for a position: "Deelt u de mening ...?"), "" for the numbered information requests of the Belgian
    Chamber and the Flemish Parliament. Retrieval weighs a sub-question's own words by it."""

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
class Quote:
    """The text of another part of the same document that a hit's answer points to ("zoals vermeld in het antwoord
    op vraag 3"), shown after the hit's own text."""

    label: str
    text: str


@dataclass(frozen=True)
class Pointer:
    """A question of another document that a hit's answer points to, and the indexed document it was found as
    (`doc_id` None: no document of the index matches what the answer says of it)."""

    question: OtherQuestion
    doc_id: str | None = None
    title: str | None = None

    def line(self) -> str:
        """ "Verwijst naar vraag nr. 205 van 30 januari 2017 aan de eerste minister: <title> (185836)." or "...: niet
        gevonden in de index." """
        head = f"Verwijst naar een andere {self.question.describe()}"
        if self.doc_id is None:
            return f"{head}: niet gevonden in de index."
        return f"{head}: {self.title} ({self.doc_id})."


QUOTE_HEAD = "uit het antwoord op vraag {label}:"


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
    quotes: tuple[Quote, ...] = ()
    """Other parts of the document that `answer` points to while saying more, shown after it."""
    pointers: tuple[Pointer, ...] = ()
    """Questions of other documents that `answer` points to."""

    @property
    def key(self) -> PartKey:
        return PartKey(self.citation.doc_id, self.citation.part)

    @property
    def shown_text(self) -> str:
        """Everything the reader is shown as this hit's answer: its own text, then each quoted part after "uit het
        antwoord op vraag 3:", then a line per question of another document. What fact recall is scored on."""
        blocks = [self.answer]
        blocks += [f"{QUOTE_HEAD.format(label=q.label)}\n{q.text}" for q in self.quotes]
        blocks += [p.line() for p in self.pointers]
        return "\n\n".join(b for b in blocks if b)

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
