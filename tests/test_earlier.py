"""Eerder gesteld? on its own: a draft split by the project's numbering, each sub-question searched with the
draft's topic, earlier parts kept above the cut-off, each paragraph shown once."""

from __future__ import annotations

from assistant.earlier import SimilarPolicy, draft_parts, find_similar, part_query
from assistant.types import Citation, Hit

POLICY = SimilarPolicy(cutoff=0.8, strong=0.9)
DRAFT = (
    "Scholen krijgen steeds vaker phishing binnen. Dat kost veel tijd.\n"
    "1. Hoeveel scholen werden getroffen?2. Welke steun krijgen ze?\n3. Wat kost een datalek?"
)


def _hit(doc: str, part: str, similarity: float, answer: str = "") -> Hit:
    return Hit(
        Citation(doc, part, f"Titel {doc}"),
        similarity,
        f"vraag {part}",
        answer or f"antwoord {doc} {part}",
        similarity=similarity,
    )


def test_a_draft_is_split_with_the_documents_numbering() -> None:
    intro, parts = draft_parts(DRAFT)
    assert intro.startswith("Scholen krijgen") and [label for label, _ in parts] == ["1", "2", "3"]
    assert parts[1] == ("2", "Welke steun krijgen ze?")
    assert draft_parts("Hoeveel scholen kregen phishing?") == ("", [("1", "Hoeveel scholen kregen phishing?")])
    # a sub-question is searched with the draft's topic: the introduction's first sentence
    assert (
        part_query(intro, "Welke steun krijgen ze?")
        == "Scholen krijgen steeds vaker phishing binnen. Welke steun krijgen ze?"
    )


def test_earlier_parts_below_the_cut_off_are_not_shown_and_none_is_said() -> None:
    result = find_similar("Welke kleur hebben paleisdeuren?", lambda q, k: [_hit("a", "1", 0.79)], POLICY)
    assert not result.found and result.parts[0].earlier == ()
    assert result.to_dict()["found"] is False and result.to_dict()["cutoff"] == 0.8


def test_each_paragraph_is_shown_once_under_the_sub_question_it_is_most_like() -> None:
    joint = "De antwoorden op vraag 1 en 2 staan hieronder samen."
    by_question = {
        "1": [_hit("a", "1", 0.85), _hit("b", "1", 0.95, joint), _hit("b", "2", 0.94, joint), _hit("c", "4", 0.81)],
        "2": [_hit("a", "1", 0.91), _hit("d", "2", 0.86)],
        "3": [_hit("e", "1", 0.5)],
    }
    queries: list[str] = []

    def search(query: str, k: int) -> list[Hit]:
        queries.append(query)
        return next(v for label, v in by_question.items() if query.endswith(_question(label)))

    result = find_similar(DRAFT, search, POLICY, per_part=3)
    assert all(q.startswith("Scholen krijgen steeds vaker phishing binnen. ") for q in queries)
    shown = {p.label: [(h.citation.doc_id, h.citation.part) for h in p.earlier] for p in result.parts}
    # a#1 is more like sub-question 2; b's joint answer once, under its best label; e is below the cut-off
    assert shown == {"1": [("b", "1"), ("c", "4")], "2": [("a", "1"), ("d", "2")], "3": []}
    data = result.to_dict()
    first = data["parts"][0]["earlier"][0]
    assert (first["similarity"], first["similarity_word"]) == (0.95, "sterk gelijkend")
    assert data["parts"][0]["earlier"][1]["similarity_word"] == "gelijkend"


def test_at_most_per_part_earlier_parts_each() -> None:
    hits = [_hit("a", str(i), 0.9 - i / 100) for i in range(1, 6)]
    result = find_similar("Hoeveel scholen kregen phishing?", lambda q, k: hits, POLICY, per_part=2)
    assert [h.citation.part for h in result.parts[0].earlier] == ["1", "2"]


def _question(label: str) -> str:
    return dict(draft_parts(DRAFT)[1])[label]
