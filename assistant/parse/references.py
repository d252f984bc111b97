"""References between the parts of one answer: a part whose own text only points to another part ("Zie vraag 1",
"Zie het antwoord op vraag 2 b)", "Zie hierboven"), found after the parts are paired. Pure functions of strings.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.types import Part

_REF_NUM = r"(\d{1,2})\s*(?:\.?\s*\(?([a-z])\)?)?"
_REFERENCE = re.compile(
    r"^\s*(?:"
    r"(?:zie|cf\.?|cfr\.?|voor)\s+(?:ook\s+)?(?:hiervoor\s+|hierboven\s+)?(?:het\s+|mijn\s+)?"
    r"(?:antwoord\s+(?:op|bij|onder|in)\s+)?(?:de\s+|het\s+)?(?:deel)?(?:vraag|punt|antwoord)\s*(?:nr\.?\s*)?"
    + _REF_NUM
    + r"|(?:ik\s+verwijs|er\s+wordt\s+verwezen)\s+(?:u\s+|het\s+geachte\s+lid\s+)?(?:graag\s+)?naar\s+"
    r"(?:mijn\s+|het\s+)?"
    r"antwoord\s+(?:op|bij)\s+(?:de\s+)?(?:deel)?(?:vraag|punt)\s*" + _REF_NUM + r"|"
    r"(?:het\s+)?antwoord\s+(?:op\s+deze\s+vraag\s+)?(?:is\s+)?(?:opgenomen\s+)?in\s+(?:het\s+)?antwoord\s+op\s+"
    r"(?:de\s+)?(?:deel)?(?:vraag|punt)\s*" + _REF_NUM + r")",
    re.IGNORECASE,
)
_REFERENCE_ABOVE = re.compile(
    r"^\s*(?:zie|cf\.?)\s+(?:het\s+)?(?:antwoord\s+)?(?:hierboven|boven|supra|hiervoor|vorige\s+vraag)|^\s*idem\b",
    re.IGNORECASE,
)
# A reference counts as the whole answer only when little text of its own follows it.
REFERENCE_TAIL_MAX = 40


def detect_references(parts: list[Part]) -> list[Part]:
    """Mark parts whose own text is only a pointer to another part ("Zie vraag 1", "Zie punt 2 b)")."""
    labels = [p.label for p in parts]
    out: list[Part] = []
    for i, p in enumerate(parts):
        if not p.answer or p.ref:
            out.append(p)
            continue
        target = reference_target(p.answer, labels, i)
        if target and target != p.label:
            out.append(replace(p, ref=target, ref_kind="reference"))
        else:
            out.append(p)
    return out


def reference_target(text: str, labels: list[str], index: int) -> str | None:
    """The label an answer text only points to ("Zie vraag 1"; "Zie hierboven" is the part before `index`)."""
    m = _REFERENCE.match(text)
    if m:
        groups = [g for g in m.groups() if g is not None]
        number = next(g for g in groups if g.isdigit())
        letter = next((g for g in groups if g.isalpha()), "")
        tail = text[m.end() :].strip(" .;,)")
        if len(tail) > REFERENCE_TAIL_MAX:
            return None
        for candidate in (number + letter, number, number + "a"):
            if candidate in labels:
                return candidate
        return None
    m = _REFERENCE_ABOVE.match(text)
    if m and index > 0 and len(text[m.end() :].strip(" .;,)")) <= REFERENCE_TAIL_MAX:
        return labels[index - 1]
    return None
