"""Question + Hits to an Answer: the minister's own words, grouped by document, with the best sentences marked.

Extractive only: nothing is generated. Decides whether to abstain, from retrieval's Evidence (calibrated on the
dev set). Retrieval and formatting for a particular screen happen elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from assistant import text
from assistant.filters import ActiveFilter, Resolved
from assistant.highlight import best_sentence, highlight, matching
from assistant.types import Evidence, Hit, Retrieval, Span

NO_ANSWER = "Ik vond geen antwoord op deze vraag in de schriftelijke vragen."
NO_ANSWER_EN = "I found no answer to this question in the written questions."
FOUND_WITHOUT = "Zonder die filters is er wel een antwoord: zoek opnieuw zonder filters."
NOT_FOUND_WITHOUT = "Ook zonder filters vond ik geen antwoord."


@dataclass(frozen=True)
class AbstainPolicy:
    """When the best hit is too weak to show as an answer. Chosen on the dev questions and follow-ups by `assistant
    eval --calibrate --questions Q --conversations C` (README, Abstain calibration): cross-validated, at most 3% false
    abstentions on the questions.

    Dutch questions: cosine similarity of the best part plus `coverage_weight` times the share of the question's
    content words found in its document must reach `dutch`; a question naming something no document mentions (a word
    unknown to the corpus even when split as a compound, and rarer in Dutch than `rare_zipf` on wordfreq's Zipf
    scale, so that a small corpus lacking "geld" does not count) must reach `unknown_words`. Questions in another
    language share no words with Dutch documents, so only the similarity counts, against `english`.
    """

    dutch: float = 0.9075
    english: float = 0.8225
    coverage_weight: float = 0.1
    unknown_words: float = 0.885
    rare_zipf: float = 1.25

    def unknown(self, evidence: Evidence) -> tuple[str, ...]:
        """The question's words that tell the corpus lacks its subject: unknown to the corpus and rare generally."""
        return evidence.rare_words(self.rare_zipf)

    def abstains(self, evidence: Evidence) -> bool:
        e = evidence
        if e.similarity is None:
            return False
        if e.language != text.CORPUS_LANGUAGE:
            return e.similarity < self.english
        if self.unknown(e) and e.similarity < self.unknown_words:
            return True
        return e.similarity + self.coverage_weight * (e.coverage or 0.0) < self.dutch


NEVER = AbstainPolicy(dutch=-1.0, english=-1.0, unknown_words=-1.0)
CALIBRATED = {"multilingual-e5-small": AbstainPolicy()}
"""Thresholds hold only for the model they were measured with; other models never abstain unless given a policy."""


def policy_for(model: str | None) -> AbstainPolicy:
    return CALIBRATED.get(model or "", NEVER)


PRIMARY_MAX = 3
RELATED_MAX = 3


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
    direct: Span | None = None
    """The sentence of the best hit's answer (offsets into `hits[0].answer`) that answers the question most
    directly: what the chat shows first, verbatim."""

    @property
    def direct_text(self) -> str:
        """The direct answer's sentence, or "" when there is none."""
        if self.direct is None or not self.hits:
            return ""
        lo, hi = self.direct
        return self.hits[0].answer[lo:hi]

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
            "direct": {"text": self.direct_text, "span": list(self.direct)} if self.direct is not None else None,
            "filters": [f.to_dict() for f in self.filters],
            "found_without_filters": self.found_without_filters,
        }


def no_answer(evidence: Evidence, policy: AbstainPolicy | None = None) -> str:
    """The plain "not found" in the question's language (English or Dutch), naming the words that tell the corpus
    lacks the subject."""
    unknown = (policy or AbstainPolicy()).unknown(evidence)
    words = ", ".join(f"'{w}'" for w in unknown)
    if evidence.english:
        return f"{NO_ANSWER_EN} No question or answer mentions {words}." if unknown else NO_ANSWER_EN
    return f"{NO_ANSWER} Geen enkele vraag of antwoord vermeldt {words}." if unknown else NO_ANSWER


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
        message = no_answer(retrieval.evidence, policy)
        return Answer(question, abstained=True, message=message, evidence=retrieval.evidence)
    top = hits[0]
    if policy.abstains(retrieval.evidence):
        return Answer(
            question,
            abstained=True,
            message=no_answer(retrieval.evidence, policy),
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
    chosen = primary + related
    matches = matching(question, [h.question or h.answer for h in chosen])
    shown = [
        replace(h, highlights=highlight(question, h.answer) if m else ()) for h, m in zip(chosen, matches, strict=True)
    ]
    direct = best_sentence(question, shown[0].answer)
    return Answer(question, hits=tuple(shown), primary_count=len(primary), evidence=retrieval.evidence, direct=direct)
