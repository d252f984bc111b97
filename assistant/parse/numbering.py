"""Split a question and its answer into numbered parts and pair them, using the sequence of labels as evidence.

Labels are found as candidates (clean ones such as "2. " and damaged ones such as "gevat?2." or "m22."), then the
most plausible chain 1, 2, 3 ... is chosen jointly for the question and the answer; an answer's labels that come out
of order ("1. en 3. ... 2. ...") are added to it afterwards. Lettered items (a) ... e)), ranges ("1. tot 4.",
"3. a-d)", "3. en 4. a) b) en c)", "a) tot d)"), lists ("2., 4. en 6.", "a) en d)") and references ("Zie vraag 1")
are resolved here.
Pure functions of strings; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.parse.clean import ANNEX
from assistant.parse.references import detect_references
from assistant.types import Part, Span

# Scores of a label candidate by what stands right before it: a clean label beats one glued to other text.
CLEAN, AFTER_PUNCT, GLUED_ALPHA, GLUED_DIGIT, GLUED_YEAR = 1.0, 0.9, 0.45, 0.45, 0.2
SKIP_PENALTY = 0.6
EMPTY_PENALTY = 0.5
RENUMBER_MIN = 3
"""Questions of fewer parts are not renumbered: "1. ... ? 1." is as often a quoted article ("Art. 52. § 1.")."""
LETTER_LIST_JUMP = 6
"""How far a list of letters may jump ("b) en d)"); a range ("e) tot en met n)") may span any number."""
UNNUMBERED_LEAD_MIN = 80
"""An answer whose numbers start above 1 answers the parts before them with the text before its first number, when
that text is this long: a shorter one ("De NMBS heeft mij het volgende laten weten.") introduces, it answers nothing."""
MAX_PART = 40
MAX_LETTER = "t"

_NUM = re.compile(r"(\d+)([.)])(?!\d)")
# "2. 404.939,68" and "4. 000.000 euro": a figure whose thousands separator got a space after it, no label
_SPLIT_FIGURE = re.compile(r"\s(?:\d{3}[.,]\d|0\d)")
_WORD_LABEL = re.compile(
    r"(?:(?<=\s)|^)(?:Antwoord\s+op\s+(?:de\s+)?vraag|Antwoord|Vraag|Ad)\s+(\d{1,2})\s*[:.)]?(?=\s)",
)
# "1 en 2." / "3-5." / "1 tot 3.", also glued to the sentence before it ("laten weten.1 en 2."), not in "2.1-3."
_DASH_RANGE = re.compile(
    r"(?<![\d,])(?<!\d\.)(\d{1,2})\s*(?:[-–]|\s(en|tot(?:\s+en\s+met)?)\s)\s*(\d{1,2})\s*[.)](?!\d)"
)
_RANGE_TAIL = re.compile(
    r"\s*(,|en|et|&|tot\s+en\s+met|tot|t\.e\.m\.|t/m|-|–|a|à)\s*(\d{1,2})\s*[.)]",
)
_MENTION = re.compile(
    r"\b(?:vra(?:ag|gen)|punt(?:en)?|nrs?\.?|rubrieke?n?|tabel(?:len)?|bijlagen?|artikel(?:en)?|art\.?|hoofdstuk)\s+(?:\d{1,2}\s*\.?\s*(?:\)\s*)?(?:,|en|&)\s*)*$",
    re.IGNORECASE,
)
_ANNEX_LABEL = re.compile(r"(?<![\d.,])(\d{1,2})\.(?=" + ANNEX.pattern + ")")
"""A label glued to the placeholder of the table that answers it ("4.2016201715480-2-1378-nl-fr-1")."""
_JOINS_NEXT = re.compile(r"\s*(?:en|,|&|en/of)?\s*")
"""All a label's text is when it is joined to the label after it ("1. d) en 2. ...")."""
_LABEL_AFTER_FIGURE = re.compile(r"\s+[A-Z]")
_LIST_WORDS = (",", "en", "et", "&")
"""Separators that name one more number ("1. en 3."), where the others span a range ("1. tot 3.")."""
_ABBREVIATION = re.compile(r"\b(?:nrs?|art|blz|p|vgl|zie)\.$", re.IGNORECASE)
_LEAD_LIST = re.compile(r"(\d{1,2}(?:\s*\.?\s*(?:,|en|&)\s*\d{1,2})*)\s*[.)]")
_LETTER = re.compile(r"([a-z])\s*\)")
_LETTER_RANGE = re.compile(r"([a-z])\s*[-–]\s*([a-z])\s*\)")
_LETTER_TAIL = re.compile(r"\s*(,|en|&|tot(?:\s+en\s+met)?|t/m|-|–)?\s*([a-z])\s*\)")
_LETTER_MENTION = re.compile(
    r"\b(?:zie|cfr?\.?|vraag|vragen|punt|punten|onder)\s+(?:ook\s+)?(?:vraag\s+|punt\s+)?\d{1,2}[ \t]?"
    r"(?:[a-z]\)\s*(?:,|en|&)\s*)*$",
    re.IGNORECASE,
)
_LETTER_SPAN_WORDS = ("-", "–", "t/m")
"""Separators of letters that span a range ("a) tot d)"), where the others name one more letter ("b) en d)")."""


@dataclass(frozen=True)
class Label:
    """A label candidate: covers numbers first..last (a range when they differ), or only its `members`."""

    start: int
    end: int
    first: int
    last: int
    score: float
    members: tuple[int, ...] = ()
    """The numbers a list names when it skips some ("1. en 3.", "2., 4. en 6."); empty: every one first..last."""

    @property
    def numbers(self) -> tuple[int, ...]:
        return self.members or tuple(range(self.first, self.last + 1))


@dataclass(frozen=True)
class LetterLabel:
    start: int
    end: int
    letters: tuple[str, ...]
    score: float


@dataclass
class Split:
    """The result for one document: parts, the intro, and the answer text that belongs to no part."""

    parts: list[Part]
    intro: str
    intro_span: Span | None
    unassigned: list[Span] = field(default_factory=list)
    score: float = 0.0


def _before_score(text: str, start: int, digits: str, run: str) -> float:
    """How clean the left edge of a label is; `run` is the whole digit run the label digits end."""
    if len(run) > len(digits):
        if re.fullmatch(r"(19|20)\d\d", run):
            return GLUED_YEAR
        return GLUED_DIGIT
    if start == 0:
        return CLEAN
    prev = text[start - 1]
    if prev.isspace():
        return CLEAN
    if prev in "?!:;.)\"'”’":
        return AFTER_PUNCT
    if prev.isalpha():
        return GLUED_ALPHA
    return GLUED_ALPHA * 0.5


def number_candidates(text: str) -> list[Label]:
    """Every place a part number could start, with its range extension when one follows."""
    out: list[Label] = []
    for m in _NUM.finditer(text):
        run, mark = m.group(1), m.group(2)
        run_start = m.start(1)
        # a decimal or dotted number ("8.256", "3.1.2") is no label; a short one that ends a sentence after a
        # figure may be ("... waren dat er 22. 552.1. Wat zijn de cijfers?"), glued, so it counts for little
        after_figure = False
        if run_start >= 2 and text[run_start - 1] in ".," and text[run_start - 2].isdigit():
            if not (text[run_start - 1] == "." and len(run) <= 2 and _LABEL_AFTER_FIGURE.match(text, m.end())):
                continue
            after_figure = True
        nxt = text[m.end() : m.end() + 1]
        # "2., 4. en 6. Zie tabel": a comma only in a list of labels that opens a sentence
        listed = nxt == "," and bool(_RANGE_TAIL.match(text, m.end())) and _opens_sentence(text, m.start(1))
        if nxt and not (nxt.isspace() or nxt.isalpha() or nxt in "(\"'‘“-–" or listed):
            continue
        for width in (1, 2):
            if width > len(run):
                break
            digits = run[-width:]
            if digits.startswith("0"):
                continue
            n = int(digits)
            if not 1 <= n <= MAX_PART:
                continue
            start = m.end(1) - width
            score = GLUED_DIGIT if after_figure else _before_score(text, start, digits, run)
            if _MENTION.search(text, max(0, start - 60), start):
                continue  # "de vragen 2., 3. en 4.": named in a sentence, no label ("Vraag 2" is one: _WORD_LABEL)
            if mark == "." and _SPLIT_FIGURE.match(text, m.end()):
                score = min(score, GLUED_YEAR)
            if mark == ")" and score < CLEAN:
                continue  # "nr. 97)" and the like: a bracket label must stand free
            out.append(_extend_range(text, Label(start, m.end(), n, n, score)))
    for m in _ANNEX_LABEL.finditer(text):
        n = int(m.group(1))
        if 1 <= n <= MAX_PART:
            out.append(Label(m.start(), m.end(), n, n, _before_score(text, m.start(), m.group(1), m.group(1))))
    for m in _DASH_RANGE.finditer(text):
        first, last = int(m.group(1)), int(m.group(3))
        if 1 <= first < last <= MAX_PART:
            before = text[m.start() - 1] if m.start() else " "
            score = CLEAN if before.isspace() else AFTER_PUNCT if before in "?!:;.)\"'”’" else GLUED_ALPHA
            members = (first, last) if m.group(2) == "en" and last > first + 1 else ()
            out.append(Label(m.start(), m.end(), first, last, score, members))
    for m in _WORD_LABEL.finditer(text):
        n = int(m.group(1))
        if 1 <= n <= MAX_PART:
            out.append(_extend_range(text, Label(m.start(), m.end(), n, n, CLEAN)))
    # "4. en 5.": the 5 is part of the range, not a label of its own
    ranges = [(c.start, c.end) for c in out if c.last > c.first]
    out = [c for c in out if not any(lo < c.start < hi for lo, hi in ranges)]
    out.sort(key=lambda c: (c.start, -c.score))
    return out


def _opens_sentence(text: str, start: int) -> bool:
    """Whether `start` begins the text, a line or a sentence ("... bijlage. 2., 4. en 6."; not "vraag nr. 2., 3.")."""
    line = text[:start].rstrip(" \t")
    before = line.rstrip()
    return not before or line.endswith("\n") or (before[-1] in ".!?:;" and not _ABBREVIATION.search(before))


def _extend_range(text: str, label: Label) -> Label:
    """Grow "1." into "1. tot 4." / "1. en 2." / "1., 2. en 3." / "1. en 3." when the text continues that way."""
    end, last = label.end, label.last
    members = list(label.numbers)
    while True:
        m = _RANGE_TAIL.match(text, end)
        if not m:
            break
        n = int(m.group(2))
        if n <= last or n > last + 12:
            break
        members += [n] if m.group(1) in _LIST_WORDS else list(range(last + 1, n + 1))
        end, last = m.end(), n
    if last == label.last:
        return label
    skips = members != list(range(label.first, last + 1))
    return Label(label.start, end, label.first, last, label.score, tuple(members) if skips else ())


def best_chain(cands: list[Label], allow_skips: bool, text: str = "") -> dict[int, tuple[float, list[Label]]]:
    """For each final number N, the best-scoring increasing chain of labels that starts at 1 and ends at N. With the
    `text`, a label with nothing but spaces before the next one ("Defensie: 1. 2. Twee ...": a figure, then the
    label) counts for less."""
    best: list[tuple[float, list[Label]] | None] = [None] * len(cands)
    for i, c in enumerate(cands):
        options: list[tuple[float, list[Label]]] = []
        if c.first == 1:
            options.append((c.score, [c]))
        elif allow_skips:
            options.append((c.score - SKIP_PENALTY * (c.first - 1), [c]))
        for j in range(i):
            prev = best[j]
            p = cands[j]
            if prev is None or p.end > c.start:
                continue
            gap = c.first - p.last - 1
            if gap == 0 or (allow_skips and 0 < gap <= 5):
                empty = EMPTY_PENALTY if text and not text[p.end : c.start].strip() else 0.0
                options.append((prev[0] + c.score - SKIP_PENALTY * gap - empty, prev[1] + [c]))
        if options:
            best[i] = max(options, key=lambda o: (o[0], -len(o[1])))
    by_end: dict[int, tuple[float, list[Label]]] = {}
    for entry in best:
        if entry is None:
            continue
        n = entry[1][-1].last
        if n not in by_end or entry[0] > by_end[n][0]:
            by_end[n] = entry
    return by_end


def letter_candidates(text: str, lo: int, hi: int, max_letter: str = MAX_LETTER) -> list[LetterLabel]:
    """Lettered item labels in text[lo:hi], with ranges ("a-d)") and lists ("a) b) en c)") joined."""
    out: list[LetterLabel] = []
    for m in _LETTER_RANGE.finditer(text, lo, hi):
        a, b = m.group(1), m.group(2)
        if a < b <= max_letter:
            letters = tuple(chr(x) for x in range(ord(a), ord(b) + 1))
            out.append(LetterLabel(m.start(), m.end(), letters, _letter_score(text, m.start())))
    for m in _LETTER.finditer(text, lo, hi):
        ch = m.group(1)
        if ch > max_letter:
            continue
        if m.start() > 0 and text[m.start() - 1] in "(-–":
            continue  # "(b)" cites a point elsewhere; "a-d)" is handled above
        if _LETTER_MENTION.search(text, max(0, m.start() - 40), m.start()):
            continue  # "(zie ook 2 b) en c))", "onder punt 3 a)": named in a sentence, no label
        score = _letter_score(text, m.start())
        run = [ch]
        end = m.end()
        while True:
            t = _LETTER_TAIL.match(text, end, hi)
            if not t:
                break
            sep, nxt = t.group(1), t.group(2)
            if nxt == chr(ord(run[-1]) + 1):
                run.append(nxt)
            elif sep and run[-1] < nxt <= max_letter:
                # "a) tot d)" spans b and c; "b) en d)" names d only (c is answered elsewhere)
                spans = sep.startswith("tot") or sep in _LETTER_SPAN_WORDS
                if not spans and ord(nxt) - ord(run[-1]) > LETTER_LIST_JUMP:
                    break
                run += [chr(x) for x in range(ord(run[-1]) + 1, ord(nxt) + 1)] if spans else [nxt]
            else:
                break
            end = t.end()
        out.append(LetterLabel(m.start(), end, tuple(run), score))
    out.sort(key=lambda c: (c.start, -c.score))
    return out


def _letter_score(text: str, start: int) -> float:
    if start == 0 or text[start - 1].isspace():
        return CLEAN
    prev = text[start - 1]
    if prev in "?!:;.,)\"'":
        return AFTER_PUNCT
    if prev.isalpha():
        # "bedrijfscontrolesb)": a letter glued to a word; a lone "b)" inside a word is rarely a label
        return GLUED_ALPHA
    return GLUED_ALPHA * 0.5


def best_letter_chain(cands: list[LetterLabel], allowed: set[str] | None, from_a: bool) -> list[LetterLabel]:
    """The best increasing chain of letter labels (a, b, c ...), optionally starting at "a"."""
    best: list[tuple[float, list[LetterLabel]] | None] = [None] * len(cands)
    for i, c in enumerate(cands):
        if allowed is not None and not set(c.letters) <= allowed:
            continue
        options: list[tuple[float, list[LetterLabel]]] = []
        first = ord(c.letters[0]) - ord("a")
        if first == 0 or not from_a:
            options.append((c.score - (SKIP_PENALTY * first if from_a else 0.0), [c]))
        for j in range(i):
            prev = best[j]
            if prev is None or cands[j].end > c.start:
                continue
            gap = ord(c.letters[0]) - ord(cands[j].letters[-1]) - 1
            if gap < 0:
                # "a) en d) ... b) ... c)": a letter the chain's lists skipped may come after them
                covered = {ch for lab in prev[1] for ch in lab.letters}
                if covered.intersection(c.letters) or c.letters[0] < min(covered):
                    continue
                gap = 0
            if gap == 0 or (not from_a and 0 < gap <= 3):
                options.append((prev[0] + c.score - SKIP_PENALTY * gap, prev[1] + [c]))
        if options:
            best[i] = max(options, key=lambda o: o[0])
    chains = [b for b in best if b is not None]
    if not chains:
        return []
    return max(chains, key=lambda b: (b[0], len(b[1])))[1]


def _strip_span(text: str, lo: int, hi: int) -> Span:
    # what a label leaves before its text ("a) en b). Wat ...", "2., en ..."): spaces and stray punctuation
    while lo < hi and (text[lo].isspace() or text[lo] in ".,;:"):
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


@dataclass
class _QPart:
    number: int
    letter: str
    span: Span


def _question_parts(text: str, chain: list[Label]) -> tuple[list[_QPart], Span]:
    """Question segments per label; lettered items split out. Returns parts and the intro span."""
    intro = _strip_span(text, 0, chain[0].start) if chain else _strip_span(text, 0, len(text))
    out: list[_QPart] = []
    for i, lab in enumerate(chain):
        hi = chain[i + 1].start if i + 1 < len(chain) else len(text)
        letters = best_letter_chain(letter_candidates(text, lab.end, hi), None, from_a=True)
        if len(letters) < 2 or any(len(x.letters) > 1 for x in letters):
            out.append(_QPart(lab.first, "", _strip_span(text, lab.end, hi)))
            continue
        bare = _strip_span(text, lab.end, letters[0].start)
        if bare[1] > bare[0]:
            out.append(_QPart(lab.first, "", bare))
        for k, let in enumerate(letters):
            lhi = letters[k + 1].start if k + 1 < len(letters) else hi
            out.append(_QPart(lab.first, let.letters[0], _strip_span(text, let.end, lhi)))
    return out, intro


def _letter_map(qparts: list[_QPart]) -> dict[int, list[str]]:
    letters: dict[int, list[str]] = {}
    for q in qparts:
        if q.letter:
            letters.setdefault(q.number, []).append(q.letter)
    return letters


def split_parts(question: str, answer: str) -> Split:
    """Pair the numbered parts of `question` with the matching text in `answer`."""
    q_chains = best_chain(number_candidates(question), allow_skips=False)
    a_cands = _renumbered(answer, number_candidates(answer), max(q_chains, default=0))
    a_chains = best_chain(a_cands, allow_skips=True, text=answer)

    best_n, best_total = 0, 0.0
    for n, (q_score, chain) in q_chains.items():
        if n < 2 and chain[0].last < 2:
            continue
        a_best = max(
            (s - SKIP_PENALTY * (n - e) for e, (s, _) in a_chains.items() if e <= n),
            default=0.0,
        )
        total = q_score + max(a_best, 0.0)
        if total > best_total:
            best_n, best_total = n, total

    if best_n == 0:
        qspan = _strip_span(question, lone_label_end(question), len(question))
        q_parts = [_QPart(1, "", qspan)]
        intro_span: Span | None = None
        a_chain: list[Label] = []
    else:
        q_parts, ispan = _question_parts(question, q_chains[best_n][1])
        intro_span = ispan if ispan[1] > ispan[0] else None
        a_chain = _fill_gaps(answer, _answer_chain(a_chains, best_n), a_cands, best_n)

    parts = _pair(question, answer, q_parts, a_chain)
    parts = detect_references(parts)
    spans = sorted(p.answer_span for p in parts if p.answer_span is not None)
    return Split(
        parts=parts,
        intro=question[intro_span[0] : intro_span[1]] if intro_span else "",
        intro_span=intro_span,
        unassigned=complement(spans, len(answer)),
        score=best_total,
    )


_LONE_LABEL = re.compile(r"\s*1\s*[.)]\s+(?=\S)")


def lone_label_end(text: str) -> int:
    """Where the text starts after a leading "1." that numbers nothing else (a document with one part)."""
    m = _LONE_LABEL.match(text)
    return m.end() if m else 0


def _answer_chain(a_chains: dict[int, tuple[float, list[Label]]], n: int) -> list[Label]:
    options = [(s - SKIP_PENALTY * (n - e), chain) for e, (s, chain) in a_chains.items() if e <= n]
    if not options:
        return []
    score, chain = max(options, key=lambda o: o[0])
    return chain if score > 0 else []


def _renumbered(text: str, cands: list[Label], n: int) -> list[Label]:
    """The answer's labels, or, where its labels that open a sentence run 1, 1, 2, ..., n-1 for a question of n
    parts (seen in the export's Defence answers: "1. ... 1. Behalve de tenten ... 2. ..."), those labels numbered
    1 to n in their order: the second "1." answers question 2, and so on."""
    if n < RENUMBER_MIN:
        return cands
    clean = [c for c in cands if c.first == c.last and c.score >= AFTER_PUNCT and _opens_sentence(text, c.start)]
    if [c.first for c in clean] != [1, *range(1, n)]:
        return cands
    return [replace(c, first=k, last=k, score=CLEAN) for k, c in enumerate(clean, start=1)]


def _fill_letter_gaps(chain: list[LetterLabel], cands: list[LetterLabel], allowed: set[str]) -> list[LetterLabel]:
    """The letter chain with the items a list skipped ("a) en d) ... b) ... c) ..."), taken from clean single-letter
    labels after it, in text order (as `_fill_gaps` does for numbers)."""
    covered = {ch for c in chain for ch in c.letters}
    out = list(chain)
    for ch in sorted(allowed - covered):
        beyond = next((c for c in chain if c.letters[-1] > ch and len(c.letters) > 1), None)
        if beyond is None:
            continue  # only a list that skipped it, not a chain that ends before it
        for c in cands:
            if (
                c.letters == (ch,)
                and c.start >= beyond.end
                and c.score >= AFTER_PUNCT
                and not any(o.start < c.end and c.start < o.end for o in out)
            ):
                out.append(c)
                covered.add(ch)
                break
    return sorted(out, key=lambda c: c.start)


def _fill_gaps(text: str, chain: list[Label], cands: list[Label], n: int) -> list[Label]:
    """The chain with the labels it passed over because they come out of order ("1. en 3. ... 2. en 4. ..."), in
    text order: a number below the chain's last that no label covers is taken from a clean label that starts with it,
    names none of the covered ones and opens a sentence after the first label beyond it."""
    covered = {k for c in chain for k in c.numbers}
    out = list(chain)
    for g in range(1, min(n, max(covered, default=0)) + 1):
        if g in covered:
            continue
        beyond = next(c for c in chain if c.last > g)
        for c in cands:
            if (
                c.first == g
                and not covered.intersection(c.numbers)
                and c.last <= n
                and c.start >= beyond.end
                and c.score >= AFTER_PUNCT
                and _opens_sentence(text, c.start)
                and not any(o.start < c.end and c.start < o.end for o in out)
            ):
                out.append(c)
                covered.update(c.numbers)
                break
    return sorted(out, key=lambda c: c.start)


def complement(spans: list[Span], length: int) -> list[Span]:
    """The stretches of a text of `length` characters that no span covers (spans in order)."""
    out: list[Span] = []
    pos = 0
    for lo, hi in spans:
        if lo > pos:
            out.append((pos, lo))
        pos = max(pos, hi)
    if pos < length:
        out.append((pos, length))
    return out


def _pair(question: str, answer: str, q_parts: list[_QPart], a_chain: list[Label]) -> list[Part]:
    """Give each question part its own answer span, or a reference to the part that carries the joint text."""
    letters = _letter_map(q_parts)
    bare = {q.number for q in q_parts if not q.letter}
    labels = [f"{q.number}{q.letter}" for q in q_parts]
    own: dict[str, Span] = {}
    refs: dict[str, tuple[str, str]] = {}

    def expand(n: int) -> list[str]:
        if n not in letters:
            return [str(n)] if n in bare else []
        return ([str(n)] if n in bare else []) + [f"{n}{ch}" for ch in letters[n]]

    waiting: list[str] = []

    def assign(group: list[str], span: Span, kind: str = "joint") -> None:
        group = [g for g in group if g in labels and g not in own and g not in refs]
        if not group:
            return
        if _JOINS_NEXT.fullmatch(answer[span[0] : span[1]]):
            # "d) en 2. <text>", "3. a) en b), 4. en 5. <text>": no text of its own, so the next label's
            waiting.extend(group)
            return
        group = group + [g for g in waiting if g not in group]
        waiting.clear()
        if span[1] > span[0]:
            own[group[0]] = span
            for other in group[1:]:
                refs[other] = (group[0], kind)

    if not a_chain:
        span = _strip_span(answer, lone_label_end(answer) if len(q_parts) == 1 else 0, len(answer))
        if labels:
            assign(labels, span, kind="whole")
    if a_chain and a_chain[0].first > 1:
        # "Het kadaster omvat 272 CT ... 2. Het melden ...": the answer to the first parts, before any number
        lead = _strip_span(answer, 0, a_chain[0].start)
        said = answer[lead[0] : lead[1]]
        if len(said) >= UNNUMBERED_LEAD_MIN and not said.endswith(":"):
            # a list the chain could not take ("1., 3. en 4.", "1 . De WGO") names the parts it answers
            listed = _LEAD_LIST.match(said)
            numbers = [int(n) for n in re.findall(r"\d+", listed.group(1))] if listed else []
            covered = {k for c in a_chain for k in c.numbers}
            wanted = [n for n in numbers if n < a_chain[0].first] or list(range(1, a_chain[0].first))
            wanted = [n for n in wanted if n not in covered]
            if listed and numbers != wanted:
                listed = None  # "1, 2 en 6." where 6 has a label of its own too: keep the list in the text
            text_from = lead[0] + listed.end() if listed else lead[0]
            assign([g for k in wanted for g in expand(k)], _strip_span(answer, text_from, lead[1]))
    for i, lab in enumerate(a_chain):
        hi = a_chain[i + 1].start if i + 1 < len(a_chain) else len(answer)
        last = lab.last
        head = [g for k in lab.numbers[:-1] for g in expand(k)]
        if last not in letters:
            assign(head + expand(last), _strip_span(answer, lab.end, hi))
            continue
        allowed = set(letters[last])
        letter_cands = letter_candidates(answer, lab.end, hi)
        chain = _fill_letter_gaps(best_letter_chain(letter_cands, allowed, from_a=False), letter_cands, allowed)
        if not chain:
            assign(head + expand(last), _strip_span(answer, lab.end, hi))
            continue
        pre = _strip_span(answer, lab.end, chain[0].start)
        if pre[1] > pre[0]:
            bare_group = head + ([str(last)] if last in bare else [])
            if last not in bare:
                # "2. Om de enveloppe ... d) ...": no part 2 of its own, so the items before the first letter
                bare_group += [f"{last}{ch}" for ch in letters[last] if ch < chain[0].letters[0]]
            assign(bare_group, pre)
            head = []
        for k, let in enumerate(chain):
            lhi = chain[k + 1].start if k + 1 < len(chain) else hi
            group = head + [f"{last}{ch}" for ch in let.letters]
            head = []
            assign(group, _strip_span(answer, let.end, lhi))

    parts: list[Part] = []
    for q, label in zip(q_parts, labels, strict=True):
        ref: str | None
        kind: str | None
        ref, kind = refs.get(label, (None, None))
        own_span = own.get(label)
        if own_span is None and ref is None and not q.letter and q.number in letters:
            first_item = f"{q.number}{letters[q.number][0]}"
            if first_item in own or first_item in refs:
                ref, kind = first_item, "items"
        parts.append(
            Part(
                label=label,
                question=question[q.span[0] : q.span[1]],
                answer=answer[own_span[0] : own_span[1]] if own_span else "",
                ref=ref,
                ref_kind=kind,  # type: ignore[arg-type]  # one of RefKind's values, set above
                question_span=q.span,
                answer_span=own_span,
            )
        )
    return parts
