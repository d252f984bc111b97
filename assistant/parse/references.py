"""References in answers, found after the parts are paired. Pure functions of strings.

Three kinds: a part whose own text only points to another part ("Zie vraag 1", "Zie het antwoord op vraag 2 b)",
"Zie hierboven") gets `ref`; a part that points to other parts and says more ("Zoals vermeld in het antwoord op
vraag 3, ...", "mijn antwoord op de derde vraag", "punt twee", "de vorige vraag", "de vragen 2 en 3") gets `see`;
a pointer to a question in another document ("het antwoord op de vraag nr. 205 van 30 januari 2017 gesteld aan de
heer Charles Michel, eerste minister") gets an `OtherQuestion` in `elsewhere`. Which document that is, is looked up
against the index elsewhere (assistant.crossref); a label that says what its answer is about ("Wat uw derde vraag
betreft", "In antwoord op uw zevende vraag") is no reference.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.parse.clean import fold
from assistant.parse.dates import dutch_date
from assistant.types import OtherQuestion, Part

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
    r"(?:de\s+)?(?:deel)?(?:vraag|punt)\s*" + _REF_NUM + r"|idem\s+(?:(?:vraag|punt)\s*)?" + _REF_NUM + r")",
    re.IGNORECASE,
)
_REFERENCE_ABOVE = re.compile(
    r"^\s*(?:zie|cf\.?)\s+(?:het\s+)?(?:antwoord\s+)?(?:hierboven|boven|supra|hiervoor|vorige\s+vraag)|^\s*idem\b",
    re.IGNORECASE,
)
# A reference counts as the whole answer only when little text of its own follows it.
REFERENCE_TAIL_MAX = 40


def detect_references(parts: list[Part]) -> list[Part]:
    """Mark parts whose own text is only a pointer to another part ("Zie vraag 1", "Zie punt 2 b)"), then the
    pointers of the others (`mark_mentions`)."""
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
    return mark_mentions(out)


def mark_mentions(parts: list[Part]) -> list[Part]:
    """Set `see` (other parts the text points to) and `elsewhere` (questions of other documents) on every part
    with text of its own."""
    labels = [p.label for p in parts]
    joined = _joined(parts)
    out: list[Part] = []
    for i, p in enumerate(parts):
        if not p.answer:
            out.append(p)
            continue
        see = tuple(t for t in mentioned_parts(p.answer, labels, i) if joined.get(t, t) != joined.get(p.label))
        elsewhere = other_questions(p.answer)
        if p.ref:
            see = ()  # a pure reference already shows the text it points to
        out.append(replace(p, see=see[:MENTIONS_MAX], elsewhere=elsewhere) if see or elsewhere else p)
    return out


def _joined(parts: list[Part]) -> dict[str, str]:
    """Each label to the label whose text it shares (itself, or the head of its range or reference)."""
    by_label = {p.label: p for p in parts}
    out: dict[str, str] = {}
    for p in parts:
        current, seen = p, {p.label}
        while current.ref and current.ref in by_label and current.ref not in seen:
            seen.add(current.ref)
            current = by_label[current.ref]
        out[p.label] = current.label
    return out


MENTIONS_MAX = 3
"""Parts followed from one part's text at most ("de vragen 1 tot 6" shows the first three)."""

_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        "een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien".split(), start=1
    )
}
_WORD_NUMBERS["één"] = 1
_ORDINALS = {
    w: i
    for i, w in enumerate(
        "eerste tweede derde vierde vijfde zesde zevende achtste negende tiende elfde twaalfde dertiende veertiende "
        "vijftiende".split(),
        start=1,
    )
}
_ITEM = r"\d{1,2}(?!\d|[,.]\d|\s*[-/]\s*\d{3})(?:\s*\.?\s*\(?[a-h]\))?"
_LIST = _ITEM + r"(?:\s*(?:,|en|tot(?:\s+en\s+met)?|t\.e\.m\.?|t/m|-|–)\s*" + _ITEM + ")*"
_VERBS = (
    r"(?:vermeld|aangegeven|aangeven|gezegd|gesteld|beschreven|uiteengezet|toegelicht|opgenomen|hernomen|verstrekt|"
    r"gegeven|besproken|uitgelegd|behandeld|weergegeven|geantwoord|verduidelijkt|vermelde|gemeld|geschetst|bedoeld|"
    r"aangehaald|aangetoond|getoond)"
)
# what stands before "vraag 3" / "punt 3" in a pointer: an answer to it, "zie", "verwijs naar", "zoals vermeld in"
_LEAD = (
    r"(?:(?:(?:het|mijn|dit|ons|de)\s+)?antwoord(?:en)?\s+(?:op|bij|onder|in|voor|van)|zie(?:\s+ook)?|cfr?\.?|"
    r"verwijs\w*\s+(?:\w+\s+){0,5}?naar|"
    + _VERBS
    + r"\s+(?:in|onder|bij)(?:\s+(?:het|mijn)\s+antwoord\s+(?:op|bij)|\s+de\s+tabel\s+(?:onder|bij|in))?)"
)
_TARGET_WORDS = r"(?:deel)?(?:vragen|vraag|punten|punt|antwoorden)"
_NUMBERED = re.compile(
    r"\b" + _LEAD + r"\s+(?:uw\s+|de\s+|het\s+|mijn\s+)?" + _TARGET_WORDS + r"\s+(?:nr\.?\s*)?(" + _LIST + r")",
    re.IGNORECASE,
)
# "Zoals in vraag 2 vermeld", "zoals in het antwoord op vraag 1 werd aangegeven": the verb after the number
_NUMBERED_BEFORE_VERB = re.compile(
    r"\bzoals\s+(?:reeds\s+|al\s+)?(?:in|onder|bij)\s+(?:(?:het|mijn)\s+antwoord\s+(?:op|bij)\s+)?"
    r"(?:uw\s+|de\s+|het\s+)?"
    + _TARGET_WORDS
    + r"\s+("
    + _LIST
    + r")\s*\.?\s*(?:werd\s+|wordt\s+|is\s+|reeds\s+|al\s+)*"
    + _VERBS
    + r"\b",
    re.IGNORECASE,
)
_WORDED = re.compile(
    r"\b"
    + _LEAD
    + r"\s+(?:uw\s+|de\s+|het\s+|mijn\s+)?(?:("
    + "|".join(_ORDINALS)
    + r")\s+(?:deel)?(?:vraag|punt)\b|(?:vraag|punt)\s+("
    + "|".join(_WORD_NUMBERS)
    + r")\b)",
    re.IGNORECASE,
)
_PREVIOUS = re.compile(
    r"\b(?:(?:(?:het|mijn)\s+)?antwoord\s+(?:op|bij)\s+(?:de\s+)?vorige\s+(?:deel)?vraag|"
    + _VERBS
    + r"\s+(?:in|bij)\s+(?:het\s+antwoord\s+op\s+)?de\s+vorige\s+(?:deel)?vraag|"
    r"(?<!\()zie\s+(?:ook\s+)?(?:het\s+antwoord\s+|mijn\s+antwoord\s+)?(?:hierboven|hiervoor|supra|vorige\s+vraag)|"
    r"(?:het|mijn)\s+antwoord\s+hierboven)"
    # "Zoals hierboven aangegeven, ..." as an answer's first words: nothing of its own stands above it
    r"|^\s*zoals\s+(?:reeds\s+|al\s+)?(?:hierboven|hoger|supra)\b",
    re.IGNORECASE,
)
# "vraag 3 van de heer X", "vraag 12 gesteld door": a question of another document, however small its number
_NOT_HERE = re.compile(
    r"\s*(?:\(|van\s+(?:de\s+heer|mevrouw|het\s+geachte|collega|\d)|,?\s*(?:eveneens\s+)?gesteld|"
    r"(?:van|uit)\s+(?:de|het|deze|dit)\s+(?!vraag|antwoord))",
    re.IGNORECASE,
)
# "In antwoord op uw zevende vraag kan ik ...": a label without its number, not a pointer
_LABEL_LEAD = re.compile(r"(?:^|[.!?:;]\s*|\n\s*)(?:in|als)\s+$", re.IGNORECASE)


def mentioned_parts(text: str, labels: list[str], index: int) -> list[str]:
    """Labels of the other parts that `text` (the answer of part `index`) points to, in order of mention."""
    found: list[str] = []

    def add(number: int, letter: str = "") -> None:
        for candidate in (f"{number}{letter}", str(number), f"{number}a"):
            if candidate in labels:
                if candidate != labels[index] and candidate not in found:
                    found.append(candidate)
                return

    for m in _NUMBERED.finditer(text):
        if _is_label(text, m.start()) or _NOT_HERE.match(text, m.end()):
            continue
        for number, letter in _expand(m.group(1)):
            add(number, letter)
    for m in _NUMBERED_BEFORE_VERB.finditer(text):
        for number, letter in _expand(m.group(1)):
            add(number, letter)
    for m in _WORDED.finditer(text):
        if _is_label(text, m.start()):
            continue
        word = (m.group(1) or m.group(2)).lower()
        add(_ORDINALS.get(word) or _WORD_NUMBERS[word])
    if index > 0 and _PREVIOUS.search(text):
        previous = labels[index - 1]
        if previous not in found:
            found.append(previous)
    return found


def _is_label(text: str, start: int) -> bool:
    """Whether a match at `start` is a sentence opening "In antwoord op ..." (a label, not a pointer)."""
    return text[start : start + 8].lower().startswith("antwoord") and bool(_LABEL_LEAD.search(text[:start]))


def _expand(numbers: str) -> list[tuple[int, str]]:
    """ "2 en 3" -> [(2, ""), (3, "")]; "1 tot 3" -> 1, 2, 3; "2 b)" -> [(2, "b")]."""
    items = [(int(n), letter) for n, letter in re.findall(r"(\d{1,2})(?:\s*\.?\s*\(?([a-h])\))?", numbers)]
    out: list[tuple[int, str]] = []
    for i, (n, letter) in enumerate(items):
        if i and re.search(r"(?:tot|t\.e\.m|t/m|-|–)\s*" + str(n) + r"\b", numbers) and items[i - 1][0] < n:
            out += [(k, "") for k in range(items[i - 1][0] + 1, min(n, items[i - 1][0] + 12))]
        out.append((n, letter))
    return out


_OTHER = re.compile(
    r"(?:\b(?:(?:het|mijn|de|zijn|haar)\s+)?(?:antwoord(?:en)?|verwijs\w*|zie)\s+(?:\w+\s+){0,4}?"
    r"(?:op\s+|naar\s+|in\s+)?|\(\s*)(?:(de|mijn|uw|het|zijn|haar)\s+)?"
    r"((?:schriftelijke\s+|parlementaire\s+|mondelinge\s+)*)(?:vraag|vragen|interpellatie)\s+"
    r"(?:(?:nr\.?|n°|n\?|nummer)\s*)?(\d{1,2}(?:\.\d{3})+|\d{1,6})(?![\d,])",
    re.IGNORECASE,
)
_DATE_NEAR = re.compile(r"^[^.;]{0,80}?\b(?:van|op|d\.d\.|gesteld\s+op)\s+(\d{1,2}\s+[a-z]+\s+\d{4})", re.IGNORECASE)
_OFFICE = (
    r"((?i:(?:vice-?\s*)?eerste\s*minister|(?:minister|staatssecretaris)\s+(?:van|voor)\s+[^,.;()]+?"
    r"|minister\s+belast\s+met\s+[^,.;()]+?))"
    # where the office's name ends: punctuation, or a word that starts a clause ("... aan de minister van Justitie
    # aangezien het voorwerp ...", "... als voogdijminister")
    r"(?=\s*[,.;()]|\s+(?:in|op|over|betreffende|inzake|als|aangezien|omdat|gelet|dat|die|zodat|want|maar|wiens)\s|$)"
)
_ADDRESSEE = re.compile(
    r"^[^.;]{0,160}?\b(?:gesteld\s+)?aan\s+(?:de\s+heer\s+|mevrouw\s+|de\s+|mijn\s+collega,?\s+)?"
    r"(?:(?:[A-Z][\w'-]+\s*){1,4},\s*(?:de\s+)?)?" + _OFFICE,
)
_ASKER = re.compile(
    r"^[^.;]{0,120}?\b(?:van|door)\s+(?i:de\s+heer|mevrouw)\s+(?i:(?:de\s+)?volksvertegenwoordig\w*\s+)?"
    r"((?:[A-Z][\w'-]+\s*){1,4})"
)
_SAME_ASKER = re.compile(
    r"^[^.;]{0,160}?\b(?:(?:gesteld\s+)?door|van|aan)\s+(?:het(?:zelfde)?\s+geachte\s+lid|uzelf)", re.IGNORECASE
)
_OFFICE_ANY = re.compile(r"\b" + _OFFICE)
_OFFICE_BEFORE = re.compile(r"\bvan\s+(?:de\s+)?" + _OFFICE)
_MINE = re.compile(r"\bmijn\s+antwoord|\bik\s+(?:heb\s+)?(?:geantwoord|verwees)", re.IGNORECASE)
_ORAL = re.compile(
    r"^[^.]{0,200}?(?:integraal\s+verslag|CRIV|beknopt\s+verslag|in\s+(?:de\s+)?commissie|plenaire)", re.IGNORECASE
)
OTHER_TEXT_MAX = 240


def other_questions(text: str) -> tuple[OtherQuestion, ...]:
    """The questions of other documents that `text` points to, with what it says of their number, date,
    addressee and asker."""
    out: list[OtherQuestion] = []
    for m in _OTHER.finditer(text):
        whose, kinds, number = (m.group(1) or "").lower(), (m.group(2) or "").lower(), m.group(3).replace(".", "")
        after = text[m.end() : m.end() + 300]
        date_m = _DATE_NEAR.match(after)
        # the office before the number ("het antwoord van de eerste minister op vraag nr. 205") or after it
        addressee_m = _OFFICE_BEFORE.search(text, m.start(), m.start(3)) or _ADDRESSEE.match(after)
        if addressee_m is None and text[m.start()] == "(":
            # "Er wordt verwezen naar de minister van Binnenlandse Zaken (vraag nr. 1983 van 17 februari 2017)":
            # the question as sent on to the office named before the bracket
            addressee_m = next(reversed(list(_OFFICE_ANY.finditer(text, max(0, m.start() - 200), m.start()))), None)
        asker_m = _ASKER.match(after)
        explicit = int(number) > 40 or "schriftelijk" in kinds or "parlementair" in kinds
        if not (explicit or date_m or addressee_m or asker_m):
            continue  # "het antwoord op (uw) vraag (nr.) 3": a part of this document
        ends = [m.end()] + [x.end() + m.end() for x in (date_m, asker_m) if x]
        if addressee_m is not None and addressee_m.re is _ADDRESSEE:  # the words after the number: shown too
            ends.append(addressee_m.end() + m.end())
        found = OtherQuestion(
            text=fold(text[m.start() : max(ends)]).strip(" ,;(")[:OTHER_TEXT_MAX],
            number=number,
            date=dutch_date(date_m.group(1)) if date_m else None,
            addressee=fold(addressee_m.group(1)).lower() if addressee_m else None,
            asker=fold(asker_m.group(1)) if asker_m else None,
            same_asker=not asker_m and (whose in ("uw", "zijn", "haar") or bool(_SAME_ASKER.match(after))),
            same_minister=bool(_MINE.search(text, max(0, m.start() - 40), m.start(3))),
            oral="mondeling" in kinds or bool(_ORAL.match(after)),
        )
        earlier = next((o for o in out if o.number == number), None)
        if earlier is None:
            out.append(found)
        else:  # "vraag nr. 239 gesteld aan ... (vraag nr. 239 van 2 februari 2017)": one question, said twice
            out[out.index(earlier)] = replace(
                earlier,
                date=earlier.date or found.date,
                addressee=earlier.addressee or found.addressee,
                asker=earlier.asker or found.asker,
                same_asker=earlier.same_asker or found.same_asker,
                same_minister=earlier.same_minister or found.same_minister,
            )
    return tuple(out)


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
