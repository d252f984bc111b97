"""Answers that only send the question elsewhere: "De vraag ... wordt toegezonden aan de minister van Justitie",
"Dit behoort tot de bevoegdheid van mijn collega ...", "Voor deze vragen verwijs ik naar de minister van ...".

Such a part got no answer of substance from this minister, so coverage counts it apart and retrieval prefers a
document (often the same question put to the competent minister) that does answer. Pure functions of strings.
"""

from __future__ import annotations

import re

_REFERRAL = re.compile(
    r"(?:toegezonden|overgezonden|doorgestuurd|doorverwezen|overgemaakt)\s+(?:aan|naar)"
    r"|(?:behoort|behoren|valt|vallen|ressorteert|ressorteren)\s+(?:niet\s+)?(?:onder|tot)\s+(?:de\s+)?"
    r"(?:exclusieve\s+)?bevoegdhe"
    r"|tot\s+de\s+bevoegdhe(?:id|den)\s+van"
    r"|verwijs\s+(?:ik\s+)?(?:u\s+|het\s+geachte\s+lid\s+)?(?:graag\s+)?(?:door\s+)?naar\s+"
    r"(?:mijn\s+collega|de\s+(?:vice-?eerste\s*)?minister|de\s+staatssecretaris|de\s+bevoegde)"
    r"|(?:ben|is)\s+(?:hiervoor\s+|daarvoor\s+)?niet\s+bevoegd"
    r"|te\s+bekomen\s+bij\s+mijn\s+collega"
    r"|(?:richten|stellen)\s+aan\s+(?:mijn\s+collega|de\s+minister)",
    re.IGNORECASE,
)
REFERRAL_MAX_CHARS = 600
"""Longer answers that mention another minister's competence usually answer too, and are not referrals."""


def is_referral(answer: str) -> bool:
    """Whether an answer does little more than say that someone else is competent."""
    text = " ".join(answer.split())
    return 0 < len(text) <= REFERRAL_MAX_CHARS and _REFERRAL.search(text) is not None
