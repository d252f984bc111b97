"""Question + Hits to an Answer: the minister's own words, grouped by document, with the best sentences marked.

Extractive only: nothing is generated. Decides whether to abstain, from the dense similarity of the best hit
(calibrated on the dev set). Retrieval and formatting for a particular screen happen elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.retrieve import looks_english
from assistant.types import Hit, Span

NO_ANSWER = "Ik vond geen antwoord op deze vraag in de schriftelijke vragen."


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

    def abstains(self, question: str, top: Hit) -> bool:
        if top.similarity is None:
            return False
        if looks_english(question) or top.coverage is None:
            return top.similarity < self.english
        if top.unknown_words and top.similarity < self.unknown_words:
            return True
        return top.similarity + self.coverage_weight * top.coverage < self.dutch


NEVER = AbstainPolicy(dutch=-1.0, english=-1.0, unknown_words=-1.0)
CALIBRATED = {"multilingual-e5-small": AbstainPolicy()}
"""Thresholds hold only for the model they were measured with; other models never abstain unless given a policy."""


def policy_for(model: str | None) -> AbstainPolicy:
    return CALIBRATED.get(model or "", NEVER)


PRIMARY_MAX = 3
RELATED_MAX = 3

# a dot between digits ("107.384") does not end a sentence
_SENTENCE = re.compile(r"(?:[^.!?;\n]|(?<=\d)\.(?=\d))+(?:[.!?;]+|\n|$)")
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "de het een en van in op te is zijn was werd werden voor met aan door dat die dit deze er hoe hoeveel wat "
    "welke wie wanneer waar of om ook nog niet wel als bij tot uit naar over u uw ik we wij the of and to in is "
    "how many what which who was were for by".split()
)


@dataclass(frozen=True)
class Answer:
    """What the user sees: primary hits (best document first), related ones, or a plain 'not found'."""

    question: str
    hits: tuple[Hit, ...] = ()
    primary_count: int = 0
    abstained: bool = False
    message: str = ""
    suggestions: tuple[Hit, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "abstained": self.abstained,
            "message": self.message,
            "answers": [h.to_dict() for h in self.hits[: self.primary_count]],
            "related": [h.to_dict() for h in self.hits[self.primary_count :]],
            "suggestions": [h.to_dict() for h in self.suggestions],
        }


def _stem(word: str) -> str:
    return word.lower()[:6]


def highlight(question: str, text: str, max_sentences: int = 2) -> tuple[Span, ...]:
    """Offsets of the sentences of `text` that share the most content words with `question`."""
    terms = {_stem(w) for w in _WORD.findall(question) if w.lower() not in _STOP and len(w) > 1}
    if not terms:
        return ()
    scored: list[tuple[float, Span]] = []
    for m in _SENTENCE.finditer(text):
        sentence = m.group(0)
        words = {_stem(w) for w in _WORD.findall(sentence)}
        overlap = len(terms & words)
        if overlap:
            has_number = any(ch.isdigit() for ch in sentence)
            lo = m.start() + (len(sentence) - len(sentence.lstrip()))
            hi = m.end() - (len(sentence) - len(sentence.rstrip()))
            if hi > lo:
                scored.append((overlap + 0.5 * has_number, (lo, hi)))
    scored.sort(key=lambda s: -s[0])
    return tuple(sorted(span for _, span in scored[:max_sentences]))


def no_answer(top: Hit) -> str:
    """The plain "not found", naming the question's words that no document uses."""
    if not top.unknown_words:
        return NO_ANSWER
    words = ", ".join(f"'{w}'" for w in top.unknown_words)
    return f"{NO_ANSWER} Geen enkele vraag of antwoord vermeldt {words}."


def compose(question: str, hits: Sequence[Hit], policy: AbstainPolicy = NEVER) -> Answer:
    """Group the hits into an answer, or abstain when the best one is not good enough."""
    if not hits:
        return Answer(question, abstained=True, message=NO_ANSWER)
    top = hits[0]
    if policy.abstains(question, top):
        return Answer(question, abstained=True, message=no_answer(top), suggestions=tuple(hits[:3]))
    best_doc = top.citation.doc_id
    primary = [h for h in hits if h.citation.doc_id == best_doc][:PRIMARY_MAX]
    related: list[Hit] = []
    seen = {best_doc}
    for h in hits:
        if h.citation.doc_id not in seen and len(related) < RELATED_MAX:
            related.append(h)
            seen.add(h.citation.doc_id)
    shown = [replace(h, highlights=highlight(question, h.answer)) for h in primary + related]
    return Answer(question, hits=tuple(shown), primary_count=len(primary))
