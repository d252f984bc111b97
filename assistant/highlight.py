"""What in a part's answer answers the question: the sentences that hold the question's key terms or the kind of
value it asks for (a number for "hoeveel", a date for "wanneer"), and whether a part matches the question at all.

Pure functions of strings (offsets into the answer text, like every Span); composing and showing answers is
answer.py's and the web's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

from assistant import text
from assistant.parse.clean import ANNEX
from assistant.types import Span

Kind = Literal["number", "date"]

# a dot between digits ("107.384") does not end a sentence, nor does one after a lone letter or a label ("3e.")
_SENTENCE = re.compile(r"(?:[^.!?;\n]|(?<=\d)\.(?=\d))+(?:[.!?;]+|\n|$)")

# Question words say what is asked, not what about: they are no key terms ("hoeveel" is no stopword of bm25s').
_QUESTION_WORDS = frozenset(
    text.terms("hoeveel wanneer welke welk wat waarom waar wie hoe lang vaak groot duur sinds datum")
    + ["hoe", "wat", "how", "many", "much", "when", "which", "what"]
)
_NUMBER_ASKED = re.compile(
    r"\b(?:hoeveel|hoe\s+(?:veel|lang|vaak|groot|duur|hoog)|aantal|percentage|bedrag|welk\s+budget"
    r"|wat\s+kost(?:te|ten|en)?|kostprijs|how\s+(?:many|much|long|often))\b",
    re.IGNORECASE,
)
_DATE_ASKED = re.compile(r"\b(?:wanneer|sinds\s+wanneer|op\s+welke\s+datum|when)\b", re.IGNORECASE)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"(?:19|20)\d\d")
_NUMBER_WORD = re.compile(
    r"\b(?:twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|twintig|dertig"
    r"|veertig|vijftig|honderd|duizend|miljoen|miljard|procent|helft|derde|kwart)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(?:1[89]|20)\d\d\b|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"
    r"|\b(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december)\b",
    re.IGNORECASE,
)

PART_MATCH = 0.75
"""A part other than the best hit matches when its own question holds at least this share of the key terms that
the best-matching shown part's question holds: "Hoeveel van de begeleide stagiairs kregen een contract?" does not
match "Hoeveel stagiairs van buitenlandse herkomst liepen stage?", though its answer mentions "buitenlandse
herkomst"."""


def asked_kind(question: str) -> Kind | None:
    """The kind of value a question asks for: "number" ("hoeveel", "hoe lang", "wat kost"), "date" ("wanneer")."""
    if _NUMBER_ASKED.search(question):
        return "number"
    if _DATE_ASKED.search(question):
        return "date"
    return None


def has_kind(sentence: str, kind: Kind | None, question: str = "") -> bool:
    """Whether a sentence holds the asked kind of value; a number the question itself names ("in 2022") is no
    answer to it."""
    if kind == "number":
        given = set(_DIGITS.findall(question))
        # a year places a sentence ("Sinds 2016 heeft Elia ..."): it counts nothing
        found = [n for n in _DIGITS.findall(sentence) if n not in given and not _YEAR.fullmatch(n)]
        return bool(found) or _NUMBER_WORD.search(sentence) is not None
    if kind == "date":
        return _DATE.search(sentence) is not None
    return False


def key_terms(question: str) -> frozenset[str]:
    """The stemmed content words of a question, without its question words."""
    return frozenset(text.terms(question)) - _QUESTION_WORDS


def _forms(term: str) -> frozenset[str]:
    """A stemmed term and, for a verb form the Dutch stemmer keeps its -t or -d on ("verhaalt", "verhaald", "betaalt",
    "daalt"), the stem without it ("verhaal", as "verhalen" stems), so the forms of one verb meet."""
    if len(term) > 4 and term[-1] in "td" and not term.isdigit():
        return frozenset((term, text.stemmer().stemWord(term[:-1])))
    return frozenset((term,))


def _held(keys: frozenset[str], words: Iterable[str]) -> list[str]:
    """The key terms that `words` (stemmed) hold, in any of their forms."""
    present = {f for w in words for f in _forms(w)}
    return [k for k in keys if _forms(k) & present]


def sentences(answer: str) -> list[Span]:
    """The sentences of an answer as spans, without their surrounding white space; an annexed table's placeholder
    (parse.clean.ANNEX) ends the sentence before it and is none itself."""
    out: list[Span] = []
    for m in _SENTENCE.finditer(answer):
        pieces, pos = [], m.start()
        for annex in ANNEX.finditer(answer, m.start(), m.end()):
            pieces.append((pos, annex.start()))
            pos = annex.end()
        pieces.append((pos, m.end()))
        for lo, hi in pieces:
            s = answer[lo:hi]
            lo, hi = lo + (len(s) - len(s.lstrip())), hi - (len(s) - len(s.rstrip()))
            if hi > lo:
                out.append((lo, hi))
    return out


def scored(question: str, answer: str) -> list[tuple[float, Span]]:
    """The sentences that answer the question, best first, each with its score (key terms held, a number half,
    plus 1.5 for holding the asked kind of value). With an asked kind, only sentences holding it count when any does;
    when no sentence holds a key term, those holding the asked kind are the answer."""
    keys = key_terms(question)
    if not keys:
        return []
    kind = asked_kind(question)
    found: list[tuple[float, bool, Span]] = []
    for lo, hi in sentences(answer):
        sentence = answer[lo:hi]
        # a year or other number the question names places the question; it says less than a word
        shared = sum(0.5 if t.isdigit() else 1.0 for t in _held(keys, text.terms(sentence)))
        if shared:
            kinded = has_kind(sentence, kind, question)
            found.append((shared + 1.5 * kinded, kinded, (lo, hi)))
    if kind and not found:
        # a terse answer names nothing of the question ("750.000 euro, verdeeld over twee oproepen."): in a part that
        # matches, the sentences with the asked kind of value are what answers
        found = [(1.0, True, (lo, hi)) for lo, hi in sentences(answer) if has_kind(answer[lo:hi], kind, question)]
    if kind and any(k for _, k, _ in found):
        found = [f for f in found if f[1]]
    found.sort(key=lambda f: (-f[0], f[2]))
    return [(score, span) for score, _, span in found]


def highlight(question: str, answer: str, max_sentences: int = 2) -> tuple[Span, ...]:
    """Offsets of the (at most `max_sentences`) sentences of `answer` that best answer `question`, in text order."""
    return tuple(sorted(span for _, span in scored(question, answer)[:max_sentences]))


def best_sentence(question: str, answer: str) -> Span | None:
    """The one sentence of `answer` that best answers `question`, or None."""
    found = scored(question, answer)
    return found[0][1] if found else None


def part_match(question: str, part_question: str) -> float:
    """The share of the question's key terms that a part's own question holds (0.0 to 1.0)."""
    keys = key_terms(question)
    if not keys:
        return 0.0
    return len(_held(keys, text.terms(part_question))) / len(keys)


def matching(question: str, part_questions: Sequence[str]) -> list[bool]:
    """Per shown part (best hit first): whether it matches the question well enough to highlight anything in it.
    The best hit always does: it is what the answer leads with."""
    if not part_questions:
        return []
    shares = [part_match(question, q) for q in part_questions]
    best = max(shares)
    return [i == 0 or (best > 0 and share >= PART_MATCH * best) for i, share in enumerate(shares)]
