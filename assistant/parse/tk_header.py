"""The header of a Tweede Kamer document: "Vragen van het lid Paulusma (D66) aan de Staatssecretaris van ... over
<onderwerp> (ingezonden 11 oktober 2024)", "Antwoord van Staatssecretaris Karremans (...) (ontvangen ...)", the
document numbers. Gives title, askers, parties, addressee, minister, dates; pure functions of strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.parse.clean import fold
from assistant.parse.dates import dutch_date

AH_LINE = re.compile(r"^\s*AH\s+(\d{1,5})\s*$")
ZNUMBER = re.compile(r"\b(20\d\dZ\d{5})\b")
ZNUMBER_LINE = re.compile(r"^\s*20\d\dZ\d{5}\s*$")
TOELICHTING = re.compile(r"^\s*Toelichting\s*:?\s*$")
_ASKED = re.compile(
    r"(?:Mondelinge\s+|Schriftelijke\s+)?[Vv]ra(?:ag|gen)\s+van\s+(?:het\s+|de\s+)?(?:lid|leden)\s+(?P<askers>.+?)\s+aan\s+(?P<to>(?:de|het)\s+.+?)"
    r"\s+over\s+(?P<subject>.+?)\s*:?\s*\(\s*ingezonden\s+(?P<date>[^)]+?)\s*\)",
    re.S,
)
# a DOCX question puts "(ingezonden ...)" above "Vragen van ... over <onderwerp>" on a line of its own
_ASKED_LINE = re.compile(
    r"(?:Mondelinge\s+|Schriftelijke\s+)?[Vv]ra(?:ag|gen)\s+van\s+(?:het\s+|de\s+)?(?:lid|leden)\s+(?P<askers>.+?)\s+"
    r"aan\s+(?P<to>(?:de|het)\s+.+?)\s+over\s+(?P<subject>[^\n]+)"
)
_INGEZONDEN = re.compile(r"\(\s*ingezonden\s+([^)]+?)\s*\)")
_ANSWERED = re.compile(
    r"(?:Antwoord|Mededeling)\s+van\s+(?:de\s+)?(?P<who>(?:[Mm]inister|[Ss]taatssecretaris)[^()]*?)\s*"
    r"\((?P<dept>[^()]+?)\)?\s*(?:,\s*(?P<also>mede\s+namens\s+[^()]+?))?\s*\(\s*ontvangen\s+(?P<date>[^)]+?)\s*\)",
    re.S,
)
_SEE_ALSO = re.compile(r"Zie\s+ook\s+Aanhangsel\s+Handelingen\s*,?\s*vergaderjaar\s+[\d–-]+\s*,?\s*nr\.\s*(\d+)", re.S)
UITSTEL = re.compile(r"Uitstel\s+beantwoording|niet\s+binnen\s+de\s+(?:gebruikelijke|gestelde)\s+termijn", re.I)


@dataclass
class Header:
    title: str = ""
    askers: list[str] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)
    addressee: str | None = None
    minister: str | None = None
    department: str | None = None
    asked: str | None = None
    answered: str | None = None
    numbers: list[str] = field(default_factory=list)
    intro: str = ""
    preamble: str = ""
    end: int = 0
    """Where the header sentences end in the text they were read from."""


def _askers(spec: str) -> tuple[list[str], list[str]]:
    """ "Ellian (VVD) en Paternotte (D66)" / "Paternotte en Podt (beiden D66)" -> names, parties."""
    names: list[str] = []
    parties: list[str] = []
    for chunk in re.findall(r"([^()]+?)\s*\(([^()]*)\)|([^()]+)$", spec):
        who, party, tail = chunk
        who = who or tail
        for name in re.split(r"\s*,\s*|\s+en\s+", who.strip(" ,")):
            name = re.sub(r"^(?:en|het\s+lid|de\s+leden)\s+", "", name.strip())
            if name:
                names.append(name)
        party = re.sub(r"^(?:beiden|allen|beide)\s+", "", party.strip())
        if party and party not in parties:
            parties.append(party)
    return names, parties


def read_header(text: str) -> Header:
    """The metadata the header sentences give, the sentences themselves (question intro, answer preamble), and
    where in `text` they end."""
    h = Header()
    asked = _ASKED.search(text) or _ASKED_LINE.search(text)
    ends = [0]
    if asked:
        h.askers, h.parties = _askers(fold(asked.group("askers")))
        to = fold(asked.group("to"))
        h.addressee = to[0].upper() + to[1:]
        h.title = fold(asked.group("subject")).rstrip(":. ")
        date = asked.groupdict().get("date") or next((m.group(1) for m in _INGEZONDEN.finditer(text)), "")
        h.asked = dutch_date(date)
        h.intro = fold(asked.group(0)).rstrip(".") + "."
        ends.append(asked.end())
        ends += [m.end() for m in _INGEZONDEN.finditer(text)]
    answered = _ANSWERED.search(text)
    see = _SEE_ALSO.search(text)
    if answered:
        who = fold(answered.group("who"))
        dept = fold(answered.group("dept"))
        h.minister = f"{who[0].upper()}{who[1:]} ({dept})"
        h.department = dept
        h.answered = dutch_date(answered.group("date"))
        ends.append(answered.end())
    if see:
        ends.append(see.end())
        h.numbers.append(f"zie ook AH {see.group(1)}")
    h.end = max(ends)
    dot = re.match(r"[ \t]*\.", text[h.end :])
    if dot:
        h.end += dot.end()
    if answered:
        h.preamble = fold(text[answered.start() : max(h.end, answered.end())])
    for m in ZNUMBER.finditer(text):
        if m.group(1) not in h.numbers:
            h.numbers.insert(len(h.numbers) - (1 if see else 0), m.group(1))
    return h
