"""Eerder gesteld?: a draft question split into its sub-questions by the parser's own numbering, each matched to
the earlier sub-questions most like it, shown only above a similarity cut-off calibrated on the dev set (README,
"Eerder gesteld?"). An earlier paragraph is shown once, under the draft sub-question it is most like.

Pure given a search function; the Assistant supplies retrieval, and markup.py / api.py the HTML and JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from assistant.answer import highlight
from assistant.parse.numbering import split_parts
from assistant.types import Hit

Search = Callable[[str, int], list[Hit]]
"""search(query, top_k) -> Hits, best first, each with its cosine similarity."""
CANDIDATES = 10
"""Parts retrieved per draft sub-question before the cut-off and the de-duplication."""
CONTEXT_MAX = 300
"""Characters of the draft's introduction put before each sub-question."""
_SENTENCE_END = re.compile(r"(?<=[.?!])\s")


@dataclass(frozen=True)
class SimilarPolicy:
    """How similar (cosine similarity of a draft sub-question, as a query, to an earlier part) is similar enough
    to show, and when to call it "sterk gelijkend"; calibrated per model by eval/calibrate_similar.py."""

    cutoff: float = 0.867
    """Youden's J on the Belgian dev set: 94% of its questions' gold parts reach it, none of the best parts for
    its unanswerable questions, 0% of random pairs."""
    strong: float = 0.906
    """The median similarity of a dev question to its gold part."""

    def word(self, similarity: float) -> str:
        """ "sterk gelijkend" or "gelijkend" (below the cut-off: "weinig gelijkend")."""
        if similarity >= self.strong:
            return "sterk gelijkend"
        return "gelijkend" if similarity >= self.cutoff else "weinig gelijkend"


SHOW_ALL = SimilarPolicy(cutoff=-1.0, strong=2.0)
"""For a model nobody calibrated: every candidate is shown, none called strong."""
CALIBRATED = {"multilingual-e5-small": SimilarPolicy()}


def similar_policy_for(model: str | None) -> SimilarPolicy:
    return CALIBRATED.get(model or "", SHOW_ALL)


@dataclass(frozen=True)
class DraftPart:
    """One sub-question of the draft with the earlier parts most like it (above the cut-off), most similar first."""

    label: str
    question: str
    earlier: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class Similar:
    """The answer to "Eerder gesteld?" for one draft: per sub-question the earlier ones like it."""

    draft: str
    parts: tuple[DraftPart, ...]
    policy: SimilarPolicy

    @property
    def found(self) -> bool:
        return any(p.earlier for p in self.parts)

    def to_dict(self) -> dict[str, Any]:
        def earlier(hit: Hit) -> dict[str, Any]:
            similarity = _similarity(hit)
            return {**hit.to_dict(), "similarity": similarity, "similarity_word": self.policy.word(similarity)}

        return {
            "question": self.draft,
            "cutoff": self.policy.cutoff,
            "found": self.found,
            "parts": [
                {"label": p.label, "question": p.question, "earlier": [earlier(h) for h in p.earlier]}
                for p in self.parts
            ],
        }


def draft_parts(draft: str) -> tuple[str, list[tuple[str, str]]]:
    """The draft's introduction and its sub-questions as (label, question), numbered as the parser numbers a
    document's; an unnumbered draft is one sub-question "1"."""
    split = split_parts(draft, "")
    parts = [(p.label, p.question.strip()) for p in split.parts if p.question.strip()]
    return split.intro.strip(), parts or [("1", draft.strip())]


def part_query(intro: str, question: str) -> str:
    """What a sub-question is searched as: the first sentence of the draft's introduction gives it its topic
    ("2. Welke steun krijgen ze?" alone names nothing)."""
    if not intro:
        return question
    first = _SENTENCE_END.split(intro, maxsplit=1)[0][:CONTEXT_MAX]
    return f"{first} {question}"


def find_similar(draft: str, search: Search, policy: SimilarPolicy, per_part: int = 3) -> Similar:
    """Per sub-question of `draft`, up to `per_part` earlier parts at or above the cut-off, each earlier paragraph
    shown once: under the sub-question it is most like."""
    intro, parts = draft_parts(draft)
    candidates: list[tuple[float, int, Hit]] = []
    for i, (_, question) in enumerate(parts):
        for hit in search(part_query(intro if len(parts) > 1 else "", question), CANDIDATES):
            if _similarity(hit) >= policy.cutoff:
                candidates.append((_similarity(hit), i, hit))
    shown: list[list[Hit]] = [[] for _ in parts]
    seen: set[tuple[str, str]] = set()
    for _, i, hit in sorted(candidates, key=lambda c: -c[0]):
        # the same answer text under several labels (a joint answer, "Zie vraag 1") is one paragraph
        paragraph = (hit.citation.doc_id, " ".join(hit.answer.split()) or f"#{hit.citation.part}")
        if paragraph in seen or len(shown[i]) >= per_part:
            continue
        seen.add(paragraph)
        shown[i].append(replace(hit, highlights=highlight(parts[i][1], hit.answer)))
    return Similar(
        draft,
        tuple(DraftPart(label, question, tuple(hits)) for (label, question), hits in zip(parts, shown, strict=True)),
        policy,
    )


def _similarity(hit: Hit) -> float:
    return hit.similarity if hit.similarity is not None else hit.score
