"""Tweede Kamer answers as text ("Aanhangsel van de Handelingen" PDFs, the ministries' DOCX answers): page furniture
and footnotes removed, the header read for subject, askers, ministers, dates and document numbers, and the
"Vraag N" / "Antwoord N" blocks (joint ones such as "Vraag 4, 5, 7 en 8" too) paired into parts.

Recognised by its header, without a flag (`looks_like_tk`). Page furniture and footnotes are `tk_pages`' job, the
header sentences `tk_header`'s, reading files `assistant.parse.read`'s. Pure functions of strings. Numbered lists
inside an answer are left alone: only label lines make parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.parse.clean import fold
from assistant.parse.numbering import complement
from assistant.parse.references import mark_mentions, reference_target
from assistant.parse.tk_header import AH_LINE, TOELICHTING, UITSTEL, ZNUMBER, ZNUMBER_LINE, read_header
from assistant.parse.tk_pages import A_LABEL, NUMBERED_LINE, Q_LABEL, a_label_ok, join_lines, strip_furniture
from assistant.types import Document, Part, RefKind, Span

# a question of its own inside a joint block: the extraction glues paragraphs together ("delen?Heeft u")
_GLUED_QUESTION = re.compile(r"\?(?=[A-Z«\"'‘“À-Ý])")
_SPACED_QUESTION = re.compile(r"\?\s+(?=[A-Z«\"'‘“À-Ý])")
_FOLLOW_UP = re.compile(
    r"^(?:Zo\s+(?:ja|nee|neen|niet)\b|Indien\s+(?:ja|nee|niet)\b|En\s+zo\s+(?:ja|nee)\b|Waarom\s+(?:wel|niet)\b"
    r"|Kunt\s+u\s+dit\s+toelichten)"
)
_TK_REFERENCE = re.compile(
    r"^\s*(?:zie|voor)\s+(?:ook\s+)?(?:het\s+|mijn\s+)?antwoord\s+(?:op|bij)\s+(?:de\s+)?vra(?:ag|gen)\s+(\d{1,2})"
    r"|^\s*voor\s+het\s+antwoord\s+(?:op\s+deze\s+vra(?:ag|gen)\s+)?verwijs\s+ik\s+(?:u\s+)?(?:graag\s+)?naar\s+"
    r"(?:het\s+|mijn\s+)?(?:antwoord\s+op\s+)?(?:de\s+)?vra(?:ag|gen)\s+(\d{1,2})",
    re.I,
)
REFERENCE_TAIL_MAX = 40
TK_LAYOUT = "tk"
"""Document.layout of what this module parses."""


def looks_like_tk(text: str) -> bool:
    """Whether a text is a Tweede Kamer question or answer, judged by its header (two signals or more)."""
    head = text[:3000]
    signals = (
        re.search(r"Tweede Kamer", head),
        re.search(r"Aanhangsel van de Handelingen|^\s*AH\s+\d+\s*$", head, re.M),
        re.search(r"Vra(?:ag|gen)\s+(?:gesteld\s+)?(?:van|door)\s+(?:het\s+lid|de\s+leden|lid)\b", head),
        re.search(r"Antwoord\s+van\s+(?:de\s+)?(?:[Mm]inister|[Ss]taatssecretaris)", head),
        ZNUMBER.search(head),
        re.search(r"\(\s*ingezonden\s+\d", head),
        re.search(r"^\s*ah-tk-\d{8}-\d+", text, re.M),
    )
    return sum(1 for s in signals if s) >= 2


def expand_numbers(spec: str) -> list[int]:
    """ "4, 5, 7 en 8" -> [4, 5, 7, 8]; "2 t/m 6" and "4-7" are ranges."""
    out: list[int] = []
    tokens = re.findall(r"\d{1,2}|t/m|t\.e\.m\.|tot\s+en\s+met|tot|-|–", spec)
    pending_range = False
    for tok in tokens:
        if tok.isdigit():
            n = int(tok)
            if pending_range and out and out[-1] < n <= out[-1] + 40:
                out.extend(range(out[-1] + 1, n + 1))
            elif n not in out:
                out.append(n)
            pending_range = False
        else:
            pending_range = True
    return [n for n in out if n >= 1]


# ---------------------------------------------------------------- blocks and parts


@dataclass
class _Block:
    kind: str  # "q" or "a"
    numbers: list[int]
    label: str
    lines: list[str]


def _numbered_lines_layout(lines: list[str]) -> list[tuple[int, str, list[int], str]]:
    """Labels when there is no "Vraag N": numbered or bare-number lines as questions, "Antwoord" lines as answers."""
    a_positions = [(i, A_LABEL.match(ln)) for i, ln in enumerate(lines)]
    a_labels = [(i, m) for i, m in a_positions if m and a_label_ok(m)]
    if not a_labels:
        return []
    out: list[tuple[int, str, list[int], str]] = []
    expected = 1
    in_answer = False
    a_at = {i: m for i, m in a_labels}
    for i, line in enumerate(lines):
        if i in a_at:
            m = a_at[i]
            nums = expand_numbers(m.group("nums") or "")
            out.append((i, "a", nums, m.group("rest") or ""))
            in_answer = True
            continue
        m2 = NUMBERED_LINE.match(line)
        if not m2:
            continue
        nums = expand_numbers(m2.group("nums"))
        if not nums or nums[0] != expected:
            continue
        if in_answer:
            nxt_a = next((j for j, _ in a_labels if j > i), None)
            if nxt_a is None:
                continue
            # a numbered list inside an answer: only the last "k." before the next "Antwoord" is question k
            later = any(
                (m3 := NUMBERED_LINE.match(lines[j])) and expand_numbers(m3.group("nums"))[:1] == [expected]
                for j in range(i + 1, nxt_a)
            )
            a_nums = expand_numbers(a_at[nxt_a].group("nums") or "")
            if later or (a_nums and expected not in a_nums):
                continue
        out.append((i, "q", nums, m2.group("rest") or ""))
        expected = nums[-1] + 1
        in_answer = False
    return out


def _blocks(lines: list[str]) -> tuple[list[str], list[_Block], list[str]]:
    """Header lines, the labelled blocks in order, and trailing lines that belong to the question (Toelichting)."""
    labels: list[tuple[int, str, list[int], str]] = []
    for i, line in enumerate(lines):
        qm = Q_LABEL.match(line)
        if qm:
            labels.append((i, "q", expand_numbers(qm.group("nums")), qm.group("rest") or ""))
            continue
        am = A_LABEL.match(line)
        if am and a_label_ok(am) and (am.group("nums") or labels):
            labels.append((i, "a", expand_numbers(am.group("nums") or ""), am.group("rest") or ""))
    if not any(kind == "q" for _, kind, _, _ in labels):
        labels = _numbered_lines_layout(lines) or labels
    if not labels:
        return lines, [], []
    trailing: list[str] = []
    toel = next((i for i, ln in enumerate(lines) if TOELICHTING.match(ln) and i > labels[-1][0]), None)
    end = len(lines)
    if toel is not None:
        trailing, end = lines[toel:], toel
    blocks: list[_Block] = []
    prev_q: list[int] = []
    for k, (i, kind, nums, rest) in enumerate(labels):
        hi = labels[k + 1][0] if k + 1 < len(labels) else end
        body = ([rest] if rest else []) + lines[i + 1 : hi]
        label = lines[i].strip()
        if rest:
            label = label[: len(label) - len(rest)].strip()
        if kind == "a" and not nums:
            nums = list(prev_q)
        if kind == "q":
            prev_q = nums
        blocks.append(_Block(kind, nums, label, body))
    return lines[: labels[0][0]], blocks, trailing


def _fix_duplicates(blocks: list[_Block]) -> None:
    """A question label printed twice ("Vraag 7", "Vraag 7", "Antwoord 8"): the answer's number names the second."""
    q_numbers = {n for b in blocks if b.kind == "q" for n in b.numbers}
    seen: set[int] = set()
    for k, b in enumerate(blocks):
        if b.kind != "q":
            continue
        if b.numbers and set(b.numbers) <= seen and k + 1 < len(blocks):
            nxt = blocks[k + 1]
            if nxt.kind == "a" and nxt.numbers and not set(nxt.numbers) & q_numbers:
                b.numbers = list(nxt.numbers)
                q_numbers |= set(nxt.numbers)
        seen |= set(b.numbers)


def split_joint_question(text: str, n: int) -> list[Span] | None:
    """The spans of the n questions in a joint block's text, or None when they cannot be told apart."""
    for rx in (_GLUED_QUESTION, _SPACED_QUESTION):
        cuts = [0]
        for m in rx.finditer(text):
            if not _FOLLOW_UP.match(text[m.end() :]):
                cuts.append(m.end())
        if len(cuts) == n:
            bounds = cuts + [len(text)]
            return [(bounds[i], bounds[i + 1]) for i in range(n)]
    return None


class _Writer:
    """Appends labelled blocks to a text and remembers where each body lies."""

    def __init__(self, head: str) -> None:
        self.text = head

    def add(self, label: str, body: str) -> Span:
        sep = "\n\n" if self.text else ""
        self.text += sep + label
        if body and label:
            self.text += "\n"
        lo = len(self.text)
        self.text += body
        return lo, len(self.text)


def _reference(answer: str, numbers: list[int]) -> int | None:
    m = _TK_REFERENCE.match(answer)
    if m:
        target = int(next(g for g in m.groups() if g))
        tail = answer[m.end() :].strip(" .;,)")
        tail = re.sub(r"^(?:en|,)\s*\d{1,2}\b", "", tail).strip(" .;,)")
        if len(tail) <= REFERENCE_TAIL_MAX and target in numbers:
            return target
        return None
    labels = [str(n) for n in numbers]
    found = reference_target(answer, labels, 0)
    return int(found) if found and found.isdigit() else None


def parse_tk(text: str, doc_id: str, source: str = "") -> Document:
    """A Document from the text of one Tweede Kamer question or answer (PDF or DOCX extraction)."""
    lines, info = strip_furniture(text)
    head_lines, blocks, trailing = _blocks(lines)
    header_text = "\n".join(ln for ln in head_lines if not AH_LINE.match(ln) and not ZNUMBER_LINE.match(ln))
    h = read_header(header_text)
    numbers: list[str] = []
    ah = info.get("ah") or next((m.group(1) for ln in head_lines if (m := AH_LINE.match(ln))), None)
    if ah:
        numbers.append(f"AH {ah}")
    for ln in head_lines:
        zm = ZNUMBER.search(ln) if ZNUMBER_LINE.match(ln) else None
        if zm and zm.group(1) not in numbers:
            numbers.append(zm.group(1))
    numbers += [n for n in h.numbers if n not in numbers]
    _fix_duplicates(blocks)

    intro = h.intro
    extra = join_lines(trailing)
    if extra:
        intro = f"{intro}\n\n{extra}" if intro else extra
    leftover = join_lines(header_text[h.end :].split("\n"))
    if leftover and blocks:
        intro = f"{intro}\n\n{leftover}" if intro else leftover  # text between the header and the first question
    q = _Writer(intro)
    a = _Writer(h.preamble)
    questions: dict[int, Span] = {}
    answers: dict[int, Span] = {}
    joint: dict[int, int] = {}
    order: list[int] = []
    for b in blocks:
        if b.kind == "q":
            body = join_lines(b.lines, glue_questions=len(b.numbers) > 1)
            lo, hi = q.add(b.label, body)
            pieces = split_joint_question(body, len(b.numbers)) if len(b.numbers) > 1 else None
            for k, n in enumerate(b.numbers):
                if n in questions:
                    continue
                span = (lo + pieces[k][0], lo + pieces[k][1]) if pieces else (lo, hi)
                questions[n] = _trim(q.text, span)
                if n not in order:
                    order.append(n)
        else:
            body = join_lines(b.lines)
            span = a.add(b.label, body)
            span = _trim(a.text, span)
            targets = [n for n in b.numbers if n not in answers and n not in joint]
            if not targets or span[1] <= span[0]:
                continue
            answers[targets[0]] = span
            for n in targets[1:]:
                joint[n] = targets[0]
            for n in targets:
                if n not in order:
                    order.append(n)
    if leftover and not blocks:
        if UITSTEL.search(leftover) or looks_like_answer_notice(leftover):
            a.add("", leftover)  # a notice, not an answer: it stays unassigned
        else:
            span = q.add("", leftover)
            questions[1] = _trim(q.text, span)
            order.append(1)
    if not order:
        order.append(1)
    parts = _parts(q.text, a.text, sorted(order), questions, answers, joint)
    spans = sorted(p.answer_span for p in parts if p.answer_span is not None)
    title = h.title or _first_sentence(next((p.question for p in parts if p.question), leftover))
    return Document(
        doc_id=doc_id,
        title=title,
        question_text=q.text,
        answer_text=a.text,
        parts=tuple(parts),
        intro=intro,
        date=h.asked,
        asker=", ".join(h.askers) or None,
        party=", ".join(h.parties) or None,
        minister=h.minister,
        department=h.department,
        source=source,
        unassigned=tuple(complement(spans, len(a.text))),
        addressee=h.addressee,
        answer_date=h.answered,
        numbers=tuple(numbers),
        layout=TK_LAYOUT,
    )


def looks_like_answer_notice(text: str) -> bool:
    """Whether text without labels is the minister's notice about the answer rather than the questions."""
    return bool(re.search(r"\b(?:Mijn\s+antwoord|beantwoording\s+van\s+de(?:ze)?\s+vragen)\b", text, re.I))


def _parts(
    qtext: str,
    atext: str,
    order: list[int],
    questions: dict[int, Span],
    answers: dict[int, Span],
    joint: dict[int, int],
) -> list[Part]:
    labels = list(order)
    parts: list[Part] = []
    for n in labels:
        qs = questions.get(n)
        own = answers.get(n)
        ref: str | None = None
        kind: RefKind | None = None
        if n in joint:
            ref, kind = str(joint[n]), "joint"
        elif own is not None:
            target = _reference(atext[own[0] : own[1]], labels)
            if target is not None and target != n:
                ref, kind = str(target), "reference"
        parts.append(
            Part(
                label=str(n),
                question=qtext[qs[0] : qs[1]] if qs else "",
                answer=atext[own[0] : own[1]] if own else "",
                ref=ref,
                ref_kind=kind,
                question_span=qs,
                answer_span=own,
            )
        )
    return mark_mentions(parts)


def _trim(text: str, span: Span) -> Span:
    lo, hi = span
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


def _first_sentence(text: str) -> str:
    """A title where the header gives none: the first sentence of the first question (or of the notice)."""
    sentence = re.split(r"(?<=[?.!])\s", fold(text), maxsplit=1)[0]
    return sentence[:160] or "Schriftelijke vragen"
