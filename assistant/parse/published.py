"""Flemish Parliament written questions in their published layout: the heading "SCHRIFTELIJKE VRAAG nr. 524 van
<NAAM> datum: 24 mei 2022 aan <MINISTER>" and, before the answer, "<MINISTER> ANTWOORD op vraag nr. 524 van
24 mei 2022 van <NAAM>". The headings give asker, date, minister and number; what lies between them is the
question (title line first), what follows the answer heading is the answer. Pure functions of strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.parse.dates import dutch_date

_QUESTION_HEAD = re.compile(
    r"^\s*SCHRIFTELIJKE\s+VRAAG\s+nr\.?\s*(?P<nr>\d+)\s+van\s+(?P<asker>[^\n]+?)\s+"
    r"datum\s*:\s*(?P<date>\d{1,2}\s+[a-z]+\s+\d{4})\s+aan\s+(?P<to>[^\n]+)\n"
)
# the answer heading, with the minister's signature lines (upper case) that the PDF puts above it
_ANSWER_HEAD = re.compile(
    r"\n(?:[ \t]*[A-ZÀ-Ý][A-ZÀ-Ý .,'’&-]+[ \t]*\n){0,3}[ \t]*ANTWOORD\s+op\s+vraag\s+nr\.?\s*\d+\s+van\s+"
    r"\d{1,2}\s+[a-z]+\s+\d{4}\s+van\s+[^\n]+\n"
)
_UPPER_LINE = re.compile(r"^[ \t]*[A-ZÀ-Ý][A-ZÀ-Ý .,'’&-]+[ \t]*$")


@dataclass(frozen=True)
class Published:
    number: str
    asker: str
    date: str | None
    minister: str
    question: str
    """The title line, then the question text."""
    answer: str


def _name(text: str) -> str:
    """ "BART DOCHY" -> "Bart Dochy"; names already in mixed case stay as they are."""
    text = " ".join(text.split())
    return text.title() if text.isupper() else text


def _office(text: str) -> str:
    """ "VLAAMS MINISTER VAN WELZIJN, VOLKSGEZONDHEID EN GEZIN" -> "Vlaams minister van welzijn, ..."."""
    text = " ".join(text.split())
    return text[:1] + text[1:].lower() if text.isupper() else text


def read_published(text: str) -> Published | None:
    """The parts of a document in the published layout, or None when the text does not open with its heading."""
    head = _QUESTION_HEAD.match(text)
    if head is None:
        return None
    rest = text[head.end() :]
    lines = rest.split("\n")
    office: list[str] = []
    while lines and (_UPPER_LINE.match(lines[0]) or not lines[0].strip()) and len(office) < 3:
        if lines[0].strip():
            office.append(lines[0].strip())
        lines.pop(0)
    who = head.group("to").strip()
    if "," in who and not office:
        who, _, tail = who.partition(",")
        office.append(tail.strip())
    minister = ", ".join(x for x in (_office(" ".join(office)), _name(who)) if x)
    body = "\n".join(lines)
    answer_head = _ANSWER_HEAD.search("\n" + body)
    if answer_head is None:
        question, answer = body, ""
    else:
        question, answer = body[: answer_head.start()], body[answer_head.end() - 1 :]
    return Published(
        number=head.group("nr"),
        asker=_name(head.group("asker")),
        date=dutch_date(head.group("date")),
        minister=minister,
        question=question.strip(),
        answer=answer.strip(),
    )
