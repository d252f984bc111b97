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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.catalog import _OPENERS, Catalog, DocumentLike, Mention, content_words, points_back, stem, words
from assistant.periods import about_years, years_in
from assistant.types import Retrieval

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
    lie within about 0.1 of each other). Set by reasoning, then checked on the dev conversations: focus 0.12-0.3,
    series 0.06-0.15 and alone 0.3-0.5 gave the same results there; avoid 0.1 lost an abstain and two hits."""

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
    if not any(re.search(rf"(?<!\d){old}(?!\d)", query) for old in before):
        # the earlier year came with an earlier turn, not in this query's words: the new one is added
        return f"{query.rstrip(' ?')} in {' en '.join(now)}?", (", ".join(before), ", ".join(now))
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
    """ "Ik begreep: ...?" for above the answer: the rewritten question, or the question with what it follows up
    ("Ik begreep: bij welke weersomstandigheden vliegen ze boven de stad? (vervolg op uw vorige vraag over
    'Vluchten boven Doornik')")."""
    follows = "vervolg op uw vorige vraag"
    doc = catalog.get(focus_doc) if focus_doc else None
    if rewritten:
        # an earlier follow-up's query carries its context in brackets ("... een handicap? (stagiairs ...) in
        # 2023?"): the line shows the question and names the document instead
        text = _CONNECTIVE.sub("", _CARRIED.sub(" ", resolved.query).strip())
        text = re.sub(r"\s*\?\s*", " ", text).strip()
        if _CARRIED.search(resolved.query) and doc is not None:
            follows += f" over '{doc.title}'"
    else:
        follows += f" over '{doc.title}'" if doc is not None else " over " + " ".join(resolved.carried)
        text = _CONNECTIVE.sub("", resolved.question.strip()).rstrip(" ?")
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[:1].lower() + text[1:]
    text += "?"
    if resolved.department and resolved.focus and resolved.focus[0][1] >= resolved.settings.target:
        text += f" ({resolved.department})"
    return f"Ik begreep: {text} ({follows})"


_CARRIED = re.compile(r"\s*\([^()]*\)")
"""The earlier words a follow-up's query carries, in brackets after the question."""
_CONNECTIVE = re.compile(r"^(?:en|maar|and|but)\b[\s,]*", re.I)
"""A follow-up's opening "En ..." joins it to the previous question; the line says that in its own words."""


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


# -- abstaining


def own_coverage(question: str, doc: DocumentLike, catalog: Catalog) -> float | None:
    """Share of the question's own topic words (not department names) that the document uses; None without any."""
    named = {w for m in catalog.mentions(question) for w in words(m.text)}
    own = {stem(w) for w in content_words(question) if w not in named}
    if not own:
        return None
    present = {stem(w) for w in words(f"{doc.title} {doc.question_text} {doc.answer_text}")}
    return len(own & present) / len(own)


def backed_by_conversation(
    resolved: Resolved, top: Any, unknown_words: Sequence[str], catalog: Catalog, share: float = 0.5
) -> bool:
    """Whether a follow-up's best hit is backed by the conversation, so that a similarity under the abstain threshold
    (a short follow-up is never very similar to a part) should not hide it: the hit lies in a document the conversation
    points to, the question names nothing the corpus lacks, and the document uses most of the question's own words."""
    return not unknown_words and conversation_backs(resolved, top, catalog, share)


def conversation_backs(resolved: Resolved, top: Any, catalog: Catalog, share: float = 0.5) -> bool:
    """`backed_by_conversation` but for the unknown words (which depend on the abstain policy's Zipf cut-off): the
    follow-up's best hit lies in a document the conversation points to that uses most of the question's own words."""
    if not resolved.followup or top.citation.doc_id not in dict(resolved.focus):
        return False
    doc = catalog.get(top.citation.doc_id)
    covered = own_coverage(resolved.question, doc, catalog) if doc is not None else None
    return covered is not None and covered >= share


def compose_resolved(resolved: Resolved, retrieval: Retrieval, policy: Any, catalog: Catalog) -> Any:
    """answer.compose for a resolved question (highlights by the query searched with; the question asked kept): the
    abstain policy, unless the conversation backs the best hit."""
    from assistant.answer import NEVER, compose

    answer = compose(resolved.query, retrieval, policy)
    hits = retrieval.hits
    if (
        answer.abstained
        and hits
        and backed_by_conversation(resolved, hits[0], policy.unknown(retrieval.evidence), catalog)
    ):
        answer = compose(resolved.query, retrieval, NEVER)
    return replace(answer, question=resolved.question, resolved=resolved)
