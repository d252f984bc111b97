"""Question + Hits to an Answer: the minister's own words, grouped by document, with the best sentences marked.

Extractive only: nothing is generated. Decides whether to abstain, from retrieval's Evidence (calibrated on the
dev set). Retrieval and formatting for a particular screen happen elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from assistant import text
from assistant.filters import ActiveFilter, Resolved
from assistant.types import Evidence, Hit, Retrieval, Span

NO_ANSWER = "Ik vond geen antwoord op deze vraag in de schriftelijke vragen."
FOUND_WITHOUT = "Zonder die filters is er wel een antwoord: zoek opnieuw zonder filters."
NOT_FOUND_WITHOUT = "Ook zonder filters vond ik geen antwoord."


@dataclass(frozen=True)
class AbstainPolicy:
    """When the best hit is too weak to show as an answer. Chosen on the dev set (README, Evaluate).

    Dutch questions: cosine similarity of the best part plus `coverage_weight` times the share of the question's
    content words found in its document must reach `dutch`; a question naming something no document mentions
    (a word unknown to the corpus even when split as a compound) must reach `unknown_words`. English questions share
    no words with Dutch documents, so only the similarity counts, against `english`.
    """

    dutch: float = 0.875
    english: float = 0.826
    coverage_weight: float = 0.05
    unknown_words: float = 0.885

    def abstains(self, evidence: Evidence) -> bool:
        e = evidence
        if e.similarity is None:
            return False
        if e.english or e.coverage is None:
            return e.similarity < self.english
        if e.unknown_words and e.similarity < self.unknown_words:
            return True
        return e.similarity + self.coverage_weight * e.coverage < self.dutch


NEVER = AbstainPolicy(dutch=-1.0, english=-1.0, unknown_words=-1.0)
CALIBRATED = {"multilingual-e5-small": AbstainPolicy()}
"""Thresholds hold only for the model they were measured with; other models never abstain unless given a policy."""


def policy_for(model: str | None) -> AbstainPolicy:
    return CALIBRATED.get(model or "", NEVER)


PRIMARY_MAX = 3
RELATED_MAX = 3

# a dot between digits ("107.384") does not end a sentence
_SENTENCE = re.compile(r"(?:[^.!?;\n]|(?<=\d)\.(?=\d))+(?:[.!?;]+|\n|$)")


@dataclass(frozen=True)
class Answer:
    """What the user sees: primary hits (best document first), related ones, or a plain 'not found'."""

    question: str
    hits: tuple[Hit, ...] = ()
    primary_count: int = 0
    abstained: bool = False
    message: str = ""
    suggestions: tuple[Hit, ...] = field(default=())
    evidence: Evidence = field(default_factory=Evidence)
    """What retrieval found about the question as a whole (similarity, coverage, unknown words)."""
    resolved: Any = None
    """For a question asked in a conversation: the followup.Resolved it was searched as (what was understood)."""
    filters: tuple[ActiveFilter, ...] = ()
    """The filters applied, each as given and as the known values it was resolved to."""
    found_without_filters: bool | None = None
    """For an answer that found nothing under its filters: whether the question is answered without them (None:
    no filters, or an answer was found)."""

    @property
    def understood(self) -> str:
        """One Dutch line for above the answer ("Ik begreep: ..."); empty for a question taken as it stands."""
        r = self.resolved
        return str(r.understood) if r is not None and r.followup else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "abstained": self.abstained,
            "message": self.message,
            "evidence": self.evidence.to_dict(),
            "understood": self.understood,
            "resolved": self.resolved.to_dict() if self.resolved is not None else None,
            "answers": [h.to_dict() for h in self.hits[: self.primary_count]],
            "related": [h.to_dict() for h in self.hits[self.primary_count :]],
            "suggestions": [h.to_dict() for h in self.suggestions],
            "filters": [f.to_dict() for f in self.filters],
            "found_without_filters": self.found_without_filters,
        }


def highlight(question: str, answer: str, max_sentences: int = 2) -> tuple[Span, ...]:
    """Offsets of the sentences of `answer` that share the most content words (stemmed, as the keyword side sees
    them) with `question`."""
    terms = set(text.terms(question))
    if not terms:
        return ()
    scored: list[tuple[float, Span]] = []
    for m in _SENTENCE.finditer(answer):
        sentence = m.group(0)
        overlap = len(terms & set(text.terms(sentence)))
        if overlap:
            has_number = any(ch.isdigit() for ch in sentence)
            lo = m.start() + (len(sentence) - len(sentence.lstrip()))
            hi = m.end() - (len(sentence) - len(sentence.rstrip()))
            if hi > lo:
                scored.append((overlap + 0.5 * has_number, (lo, hi)))
    scored.sort(key=lambda s: -s[0])
    return tuple(sorted(span for _, span in scored[:max_sentences]))


def no_answer(evidence: Evidence) -> str:
    """The plain "not found", naming the question's words that no document uses."""
    if not evidence.unknown_words:
        return NO_ANSWER
    words = ", ".join(f"'{w}'" for w in evidence.unknown_words)
    return f"{NO_ANSWER} Geen enkele vraag of antwoord vermeldt {words}."


def with_filters(answer: Answer, filters: Resolved, found_without: bool | None) -> Answer:
    """The answer with the filters it was found under; a 'not found' names them and says whether the question is
    answered without them (`found_without` None: not looked at, so not said)."""
    if not answer.abstained or not filters.active:
        return replace(answer, filters=filters.active, found_without_filters=None)
    named = f"met deze filters: {filters.describe()}"
    if NO_ANSWER in answer.message:
        message = answer.message.replace(NO_ANSWER, f"{NO_ANSWER[:-1]} {named}.", 1)
    else:
        message = f"{answer.message} ({named[0].upper()}{named[1:]}.)"
    if found_without is not None:
        message += " " + (FOUND_WITHOUT if found_without else NOT_FOUND_WITHOUT)
    return replace(answer, filters=filters.active, found_without_filters=found_without, message=message)


def compose(question: str, retrieval: Retrieval, policy: AbstainPolicy = NEVER) -> Answer:
    """Group the hits into an answer, or abstain when the evidence is not good enough."""
    hits = retrieval.hits
    if not hits:
        return Answer(question, abstained=True, message=NO_ANSWER, evidence=retrieval.evidence)
    top = hits[0]
    if policy.abstains(retrieval.evidence):
        return Answer(
            question,
            abstained=True,
            message=no_answer(retrieval.evidence),
            suggestions=tuple(hits[:3]),
            evidence=retrieval.evidence,
        )
    best_doc = top.citation.doc_id
    primary = [h for h in hits if h.citation.doc_id == best_doc][:PRIMARY_MAX]
    related: list[Hit] = []
    seen = {best_doc}
    for h in hits:
        if h.citation.doc_id not in seen and len(related) < RELATED_MAX:
            related.append(h)
            seen.add(h.citation.doc_id)
    shown = [replace(h, highlights=highlight(question, h.answer)) for h in primary + related]
    return Answer(question, hits=tuple(shown), primary_count=len(primary), evidence=retrieval.evidence)
