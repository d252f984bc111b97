"""Follow-up questions resolved from the conversation, without a generative model.

Given the current question and the earlier turns (each the user's question and the parts we cited), `resolve` says
what to search with: the question itself when it stands on its own, else the question with what it leaves out
carried from earlier turns (topic words, the document in focus) and what it changes replaced (a year; a department,
so "En bij Justitie?" finds the same question put to that minister), and one Dutch line saying what it understood.
Pure: document metadata comes in through a `Catalog`, and `search_resolved` is handed the search to call.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from assistant.periods import YEAR, about_years, years_in

# -- words

_WORD = re.compile(r"[\w'-]+", re.UNICODE)
_STOP = frozenset(
    """
    aan al alle alleen als altijd andere ben bij daar dan dat de der deze die dit door dus een eens en er ge geen
    geweest haar had heb hebben heeft hem het hier hij hoe hun iemand iets ik in is ja je kan kon kunnen maar me meer
    men met mij mijn moet moeten na naar niet niets nog nu of om omdat onder ons ook op over reeds te tegen toch toen
    tot u uit uw van veel voor want waren was wat werd werden wezen wie wil worden wordt zal ze zelf zich zij zijn zo
    zonder zou zouden welk welke wanneer waar waarom hoeveel hoelang vaak sinds per daarnaast daarvan daarvoor
    daarmee daarover daarbij daaraan daardoor daarop daarin ervan erover hiervan hierover hen zo'n zulke dergelijke
    dezelfde hetzelfde diezelfde gebeurt kunt mag jaar jaren dan
    the a an and to were how many much what which who when why does did do are for by with from has have had this
    that there their they them it its will would could should about of in on is was be been also any some those
    these then such he she his her over last since
    """.split()
)
"""Function words, question words and pronouns: what any two questions share, so never a topic."""

_ANAPHORA = frozenset(
    """
    daar daarvan daarvoor daarmee daarover daarbij daaraan daardoor daarop daarin ervan erover hiervan hierover hen
    zo'n zulke dergelijke dezelfde hetzelfde diezelfde toen ze zij hun hij haar
    it its they them their there those these such then he she his her
    """.split()
)
"""Words that point back to something said before."""
_DEMONSTRATIVES = frozenset("die dat deze dit that this".split())
"""Point back only as a determiner or pronoun ("die app"), not as a relative or conjunction ("mensen die ...")."""
_OPENERS = frozenset("en ook maar and also".split())
_CUES = frozenset("fod pod minister ministerie staatssecretaris departement kabinet bij aan van voor".split())
_SERVICE = re.compile(r"\b(?:fod|pod)\s+((?:[\w'-]+)(?:\s+(?:en\s+)?(?!en\b)[\w'-]+){0,3})")


def fold(text: str) -> str:
    """Lower case without diacritics ("Financiën" -> "financien"), as exports often lose them; same length."""
    out = []
    for ch in text:
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base[:1].lower() if base else ch.lower())
    return "".join(out).replace("\u2019", "'")


def words(text: str) -> list[str]:
    return [w.strip("'-") for w in _WORD.findall(fold(text)) if w.strip("'-")]


def stem(word: str) -> str:
    """Crude, but enough to tell whether two questions share a word ("vertalers" / "vertaling")."""
    return word[:6]


def content_words(text: str) -> list[str]:
    """The words that can carry a text's topic: no function words, question words, pronouns or years."""
    return [w for w in words(text) if w not in _STOP and not YEAR.fullmatch(w) and len(w) > 1]


def points_back(question: str) -> bool:
    """Whether the question refers to something said before ("daarvan", "zo'n LOI", "die app", "there")."""
    tokens = words(question)
    for i, t in enumerate(tokens):
        if t in _ANAPHORA:
            return True
        if t in _DEMONSTRATIVES:
            before = tokens[i - 1] if i else ""
            # a determiner or pronoun follows a function word or the verb that opens the question ("Is die app",
            # "met dat toestel"), a relative pronoun or conjunction follows a noun or verb ("Hoeveel mensen die ...")
            if i <= 1 or before in _STOP or (i == 2 and tokens[0] in _OPENERS):
                return True
    return False


# -- what the resolver needs to know about documents


class DocumentLike(Protocol):
    """The document metadata the resolver reads; assistant.types.Document has it."""

    @property
    def doc_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def question_text(self) -> str: ...
    @property
    def answer_text(self) -> str: ...
    @property
    def asker(self) -> str | None: ...
    @property
    def department(self) -> str | None: ...


_ROLE = re.compile(r"^(?:vice-?eerste\s*minister\s+en\s+)?(?:minister|staatssecretaris)\s+(?:van|voor)\s+")


def portfolio_phrases(department: str) -> tuple[str, ...]:
    """ "Minister van Financien, belast met Bestrijding van de fiscale fraude" -> ("financien", "bestrijding van de
    fiscale fraude"): the portfolio as a user names it, without the role or the minister it is attached to."""
    text = re.split(r",?\s*toegevoegd aan\b", fold(department))[0].strip()
    if text == "eerste minister":
        return (text,)
    text = _ROLE.sub("", text)
    out: list[str] = []
    for piece in re.split(r",|\bbelast met\b|\ben\b", text):
        piece = re.sub(r"^(?:de|het)\s+", "", piece.strip(" .;"))
        if len(piece) > 2 and piece not in out:
            out.append(piece)
    return tuple(out)


@dataclass(frozen=True)
class Mention:
    """A department or service named in a text, with where (offsets into the text as given)."""

    text: str
    """As written, with "FOD"/"POD" in front where there is one: "FOD Financiën"."""
    department: str | None
    """The department string of the metadata; None for a service the metadata does not name ("FOD Budget en
    Beheerscontrole"), which `Catalog.series_for` looks up in the answers."""
    cued: bool
    """Preceded by a word that makes it a service ("FOD", "bij", "van"), not a common noun."""
    start: int
    end: int
    service: str = ""
    """The folded service name for one the metadata does not name."""


class Catalog:
    """Document metadata for resolving follow-ups: departments and their names, series of the same question sent by
    one member to several ministers, and how rare each word is (to rank the words worth carrying)."""

    def __init__(self, docs: Iterable[DocumentLike]) -> None:
        self.docs: dict[str, DocumentLike] = {d.doc_id: d for d in docs}
        series: dict[tuple[str, str], list[str]] = defaultdict(list)
        df: Counter[str] = Counter()
        names: Counter[str] = Counter()
        for d in self.docs.values():
            if d.asker:
                series[(fold(d.asker), " ".join(words(d.title)))].append(d.doc_id)
            df.update({stem(w) for w in content_words(f"{d.title} {d.question_text}")})
            if d.department:
                names[d.department] += 1
        self._series = {doc_id: tuple(ids) for ids in series.values() if len(ids) > 1 for doc_id in ids}
        self._df = df
        self._n = max(1, len(self.docs))
        by_phrase: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for name, count in names.items():
            for position, phrase in enumerate(portfolio_phrases(name)):
                by_phrase[phrase].append((position, -count, name))
        # a phrase that several departments list belongs to the one that names it first (its main portfolio)
        self._department_of = {p: sorted(v)[0][2] for p, v in by_phrase.items()}
        alternatives = "|".join(re.escape(p).replace(r"\ ", r"\W+") for p in sorted(by_phrase, key=len, reverse=True))
        self._phrases = re.compile(rf"\b(?:(?:fod|pod)\s+)?({alternatives})\b") if alternatives else None

    @property
    def departments(self) -> tuple[str, ...]:
        return tuple(sorted(set(self._department_of.values())))

    def get(self, doc_id: str) -> DocumentLike | None:
        return self.docs.get(doc_id)

    def series(self, doc_id: str) -> tuple[str, ...]:
        """The other documents with the same title from the same member: the question sent to other ministers."""
        return tuple(d for d in self._series.get(doc_id, ()) if d != doc_id)

    def idf(self, word: str) -> float:
        """log(N / df) of a word's stem; 0 for a word no document uses (English, a typo: no evidence either way)."""
        df = self._df.get(stem(word), 0)
        return math.log(self._n / df) if df else 0.0

    def mentions(self, text: str) -> list[Mention]:
        """The departments and services a text names ("bij Justitie", "de FOD Mobiliteit", "FOD Budget en ...")."""
        folded = fold(text)
        found: list[Mention] = []
        if self._phrases is not None:
            for m in self._phrases.finditer(folded):
                phrase = re.sub(r"\W+", " ", m.group(1))
                found.append(
                    Mention(
                        text[m.start() : m.end()],
                        self._department_of.get(phrase),
                        _cued(folded, m.start()) or m.group(0) != m.group(1),
                        m.start(),
                        m.end(),
                    )
                )
        for m in _SERVICE.finditer(folded):
            if any(f.start <= m.start(1) < f.end for f in found):
                continue
            name = re.sub(r"\W+", " ", m.group(1)).strip()
            found.append(Mention(text[m.start() : m.end()], None, True, m.start(), m.end(), service=name))
        return sorted(found, key=lambda x: x.start)

    def answers_for(self, mention: Mention, candidates: Iterable[str]) -> tuple[str, ...]:
        """Which of the candidate documents answer for the named department or service."""
        candidates = tuple(candidates)
        if mention.department is not None:
            hits = tuple(d for d in candidates if self.docs[d].department == mention.department)
            if hits:
                return hits
        name = mention.service or fold(mention.text)
        return tuple(d for d in candidates if name in " ".join(words(self.docs[d].answer_text)))


def _cued(folded: str, start: int) -> bool:
    before = folded[:start].split()
    while before and before[-1] in ("de", "het"):
        before.pop()
    return bool(before) and before[-1].strip(",.") in _CUES


# -- the conversation


@dataclass(frozen=True)
class Turn:
    """One earlier turn: what the user asked and the parts we cited for it, best first."""

    question: str
    cited: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Turn:
        """From {"question": ..., "cited": ["187226#1", ...]} (also accepts {"doc", "part"} objects or pairs)."""
        cited = []
        for c in data.get("cited", ()):
            if isinstance(c, str):
                doc, _, part = c.partition("#")
            elif isinstance(c, Mapping):
                doc, part = str(c["doc"]), str(c.get("part", ""))
            else:
                doc, part = str(c[0]), str(c[1])
            cited.append((doc, part))
        return cls(str(data["question"]), tuple(cited))


@dataclass(frozen=True)
class FollowupSettings:
    """Weights added to the retriever's fused score (about 1.6-1.8 for the best parts, and the first few of a question
    lie within about 0.1 of each other). Chosen on the dev conversations (README, Follow-ups)."""

    focus: float = 0.12
    """The document cited in the previous turn, for a question that points back or leaves its topic out."""
    weak_focus: float = 0.04
    """The same for a question that does neither: it wins only where the question alone finds nothing clearly better."""
    series: float = 0.06
    """The other documents of its series (the same question put to other ministers)."""
    target: float = 0.25
    """The document of its series that answers for the department the follow-up names ("En bij Justitie?")."""
    department: float = 0.06
    """Any document of the named department, where the series has none."""
    year: float = 0.04
    """A part whose question or answer names the year(s) the follow-up is about."""
    avoid: float = 0.03
    """Subtracted from the part that answered the previous turn: a follow-up asks something else."""
    carried: int = 8
    """How many earlier words (the rarest first) are carried into the query of a follow-up."""
    alone: float = 0.5
    """Share of a part's score that comes from the question alone rather than with the carried words."""


DEFAULTS = FollowupSettings()


@dataclass(frozen=True)
class Resolved:
    """What to search with for a question in its conversation, and what was understood."""

    question: str
    """What the user typed."""
    query: str
    """The question to search with: `question` itself unless it is a follow-up."""
    followup: bool = False
    """Whether earlier turns changed the query (the line `understood` is then worth showing)."""
    carried: tuple[str, ...] = ()
    """Words carried forward from earlier turns."""
    replaced: tuple[tuple[str, str], ...] = ()
    """(before, now) pairs the follow-up changed: a year, a department."""
    focus: tuple[tuple[str, float], ...] = ()
    """(doc_id, weight): documents the conversation points to, boosted when ranking."""
    avoid: tuple[tuple[str, str], ...] = ()
    """The part that answered the previous turn."""
    years: tuple[str, ...] = ()
    """The years the question is about, named now or carried."""
    department: str | None = None
    """The department the question is about, where the follow-up names one."""
    rewritten: bool = False
    """The query is the earlier question rewritten ("En in 2022?"), not this one with words added."""
    understood: str = ""
    """One Dutch line for above the answer; empty when the question was taken as it stands."""
    settings: FollowupSettings = field(default=DEFAULTS, compare=False, repr=False)

    def boost(self, doc_id: str, part: str, department: str | None = None, text: str = "") -> float:
        """What the conversation adds to a part's retrieval score (`text`: the part's question and answer)."""
        s = self.settings
        score = sum(w for d, w in self.focus if d == doc_id)
        if (doc_id, part) in self.avoid:
            score -= s.avoid
        if self.department and department == self.department and not any(w >= s.target for _, w in self.focus):
            score += s.department
        if self.followup and self.years and text:
            score += s.year * about_years(text, self.years)
        return score

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "query": self.query,
            "followup": self.followup,
            "carried": list(self.carried),
            "replaced": [list(p) for p in self.replaced],
            "focus": [d for d, _ in self.focus],
            "years": list(self.years),
            "department": self.department,
            "understood": self.understood,
        }


@dataclass(frozen=True)
class _State:
    """What the earlier turns leave for the next one."""

    query: str
    years: tuple[str, ...]
    focus_doc: str | None
    cited: tuple[tuple[str, str], ...]
    department: str | None


def resolve(
    question: str, history: Sequence[Turn], catalog: Catalog, settings: FollowupSettings = DEFAULTS
) -> Resolved:
    """The question to search with, given the earlier turns (oldest first). Without history: the question as is."""
    if not history:
        return Resolved(question, question, settings=settings)
    state: _State | None = None
    for turn in history:
        r = _resolve_one(turn.question, state, catalog, settings) if state else Resolved(turn.question, turn.question)
        state = _state_after(r, turn, state, catalog)
    assert state is not None
    return _resolve_one(question, state, catalog, settings)


def _state_after(r: Resolved, turn: Turn, before: _State | None, catalog: Catalog) -> _State:
    focus_doc = turn.cited[0][0] if turn.cited else (before.focus_doc if before else None)
    doc = catalog.get(focus_doc) if focus_doc else None
    department = doc.department if doc is not None else r.department
    return _State(r.query, r.years or tuple(years_in(r.query)), focus_doc, turn.cited, department)


def _resolve_one(question: str, state: _State, catalog: Catalog, s: FollowupSettings) -> Resolved:
    tokens = words(question)
    own = content_words(question)
    years = tuple(years_in(question))
    mentions = catalog.mentions(question)
    named = next((m for m in mentions if (m.cued or len(own) <= 2) and _is_new(m, state)), None)
    named_words = {w for m in mentions for w in words(m.text)}
    topic = [w for w in own if w not in named_words]
    opener = bool(tokens) and tokens[0] in _OPENERS
    elliptic = len(topic) <= 1 and (opener or bool(years) or named is not None or len(tokens) <= 4)
    marked = elliptic or opener or named is not None or points_back(question)

    replaced: list[tuple[str, str]] = []
    carried: tuple[str, ...] = ()
    if elliptic:
        query = state.query
        if years:
            query, pair = _replace_years(query, state.years, years)
            replaced.append(pair)
        if named is not None:
            query, pair = _replace_department(query, named, catalog)
            replaced.append(pair)
        have = {stem(w) for w in words(query)}
        extra = [w for w in topic if stem(w) not in have]
        if extra:
            query = f"{query.rstrip(' ?')} {' '.join(extra)}?"
        carried = tuple(w for w in content_words(state.query) if stem(w) not in {stem(x) for x in own})
    elif marked:
        earlier = content_words(state.query)
        if named is not None:
            gone = {w for m in catalog.mentions(state.query) for w in words(m.text)}
            earlier = [w for w in earlier if w not in gone]
        carried = _carry(earlier, own, catalog, s.carried)
        query = f"{question.rstrip()} ({' '.join(carried)})" if carried else question
        if years and state.years and set(years) != set(state.years):
            replaced.append((", ".join(state.years), ", ".join(years)))
    else:
        query = question

    focus: dict[str, float] = {}
    department = None
    if named is not None:
        department = named.department
        siblings = catalog.series(state.focus_doc) if state.focus_doc else ()
        targets = catalog.answers_for(named, siblings)
        if targets:
            department = department or catalog.docs[targets[0]].department
        for d in siblings:
            focus[d] = s.target if d in targets else s.series
    elif state.focus_doc is not None:
        weight = s.focus if marked else s.weak_focus
        focus[state.focus_doc] = weight
        for d in catalog.series(state.focus_doc):
            focus[d] = s.series * weight / s.focus
    resolved = Resolved(
        question=question,
        query=query,
        followup=marked,
        carried=carried,
        replaced=tuple(replaced),
        focus=tuple(sorted(focus.items(), key=lambda kv: -kv[1])),
        avoid=tuple(state.cited[:1]),
        years=years or (state.years if marked else ()),
        department=department,
        rewritten=elliptic,
        settings=s,
    )
    return (
        replace(resolved, understood=understood(resolved, catalog, state.focus_doc, elliptic)) if marked else resolved
    )


def _is_new(m: Mention, state: _State) -> bool:
    return m.department is None or m.department != state.department


def _carry(earlier: Sequence[str], own: Sequence[str], catalog: Catalog, limit: int) -> tuple[str, ...]:
    """The earlier words the question lacks, at most `limit` of them (the rarest), in their earlier order."""
    have = {stem(w) for w in own}
    unique: dict[str, str] = {}
    for w in earlier:
        if stem(w) not in have and stem(w) not in unique:
            unique[stem(w)] = w
    keep = sorted(unique.values(), key=lambda w: -catalog.idf(w))[:limit]
    return tuple(w for w in unique.values() if w in keep)


def _replace_years(query: str, before: Sequence[str], now: Sequence[str]) -> tuple[str, tuple[str, str]]:
    if not before:
        return f"{query.rstrip(' ?')} in {' en '.join(now)}?", ("", ", ".join(now))
    out = query
    for i, old in enumerate(before):
        out = re.sub(rf"(?<!\d){old}(?!\d)", now[min(i, len(now) - 1)], out)
    if len(now) > len(before):
        out = out.replace(now[len(before) - 1], " en ".join(now[len(before) - 1 :]), 1)
    return out, (", ".join(before), ", ".join(now))


def _replace_department(query: str, named: Mention, catalog: Catalog) -> tuple[str, tuple[str, str]]:
    """The earlier question with its department changed: the first one it names becomes the new one, the others go;
    one that names none gets "bij <new>"."""
    said = named.text
    old = catalog.mentions(query)
    if not old:
        return f"{query.rstrip(' ?')} bij {said}?", ("", said)
    out = query
    for m in reversed(old):
        out = out[: m.start] + (said if m is old[0] else "") + out[m.end :]
    return re.sub(r"\s+", " ", out).replace(" ?", "?"), (old[0].text, said)


def understood(resolved: Resolved, catalog: Catalog, focus_doc: str | None, rewritten: bool) -> str:
    """ "Ik begreep: ..." for above the answer: the rewritten question, or the question and what it is about."""
    if rewritten:
        text = resolved.query.rstrip(" ?")
    else:
        doc = catalog.get(focus_doc) if focus_doc else None
        about = f"over '{doc.title}'" if doc is not None else "over " + " ".join(resolved.carried)
        text = f"{resolved.question.rstrip(' ?')}, {about}"
    if resolved.department and resolved.focus and resolved.focus[0][1] >= resolved.settings.target:
        text += f" ({resolved.department})"
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[:1].lower() + text[1:]
    return f"Ik begreep: {text} (vervolg op uw vorige vraag)"


# -- ranking with the conversation

Search = Callable[[str, Mapping[str, Any], int], Sequence[Any]]
"""retriever.search(question, filters, top_k) -> Hits, best first."""


def rerank(hits: Iterable[Any], resolved: Resolved) -> list[Any]:
    """Hits of searches with the same query, one per part (the first seen), ordered by their score plus what the
    conversation adds (`Resolved.boost`). The abstain evidence for the best of them is retrieval's to work out."""
    best: dict[tuple[str, str], Any] = {}
    for h in hits:
        best.setdefault((h.citation.doc_id, h.citation.part), h)

    def total(h: Any) -> float:
        c = h.citation
        return float(h.score) + resolved.boost(c.doc_id, c.part, c.department, f"{h.question}\n{h.answer}")

    return sorted(best.values(), key=lambda h: -total(h))


def _candidates(query: str, resolved: Resolved, search: Search, f: dict[str, Any], top_k: int) -> list[Any]:
    hits = list(search(query, f, max(40, top_k)))
    if "doc_id" not in f:
        for doc_id, _ in resolved.focus[:4]:
            hits += search(query, {**f, "doc_id": doc_id}, 8)
    if resolved.department and "department" not in f:
        hits += search(query, {**f, "department": resolved.department}, 10)
    return hits


def _fuse(carried: Sequence[Any], alone: Sequence[Any], weight: float) -> list[Any]:
    """The carried query's hits with their score mixed with the score the question alone gives the same part: the
    carried words find the document, the question's own words pick the part within it."""
    own: dict[tuple[str, str], float] = {}
    for h in alone:
        key = (h.citation.doc_id, h.citation.part)
        own[key] = max(own.get(key, -math.inf), float(h.score))
    floor = min(own.values(), default=0.0)
    return [
        replace(h, score=(1 - weight) * h.score + weight * own.get((h.citation.doc_id, h.citation.part), floor))
        for h in carried
    ]


def search_resolved(
    resolved: Resolved, search: Search, filters: Mapping[str, Any] | None = None, top_k: int = 10
) -> list[Any]:
    """Hits for a resolved question: the retriever's candidates with those of the documents in focus, reranked.
    Without focus (no history, a topic switch) this is one plain search."""
    f = dict(filters or {})
    if not resolved.focus and not resolved.department:
        return list(search(resolved.query, f, top_k))
    hits = _candidates(resolved.query, resolved, search, f, top_k)
    weight = resolved.settings.alone
    if weight and resolved.carried and not resolved.rewritten and resolved.query != resolved.question:
        hits = _fuse(hits, _candidates(resolved.question, resolved, search, f, top_k), weight)
    return rerank(hits, resolved)[:top_k]
