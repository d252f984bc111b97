"""A small corpus for follow-up tests: the sample corpus plus one member's question put to two ministers
(the same question to Financiën and to Justitie), as the parliaments' series are."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import CORPUS

FIRST = "Hoeveel mensen werken er op de vertaaldienst van de FOD Financiën?"
FOLLOWUP = "En bij Justitie?"
FIN_ID, JUS_ID = "vd_2017_fin", "vd_2017_jus"
FIN_FIGURE, JUS_FIGURE = "23 personeelsleden", "16 vertalers"

_DOC = """Datum: 2017-02-23
Vraagsteller: Kattrin Jadin
Fractie: MR
Minister: {minister}
Departement: {department}
Thema's: Vertaling, Personeel

Personeel van de vertaaldienst

De federale overheidsdiensten vertalen hun teksten zelf of laten ze vertalen. Ik had graag een overzicht van de
vertaaldienst van uw departement.

1. Hoeveel mensen werken er op de vertaaldienst van {service}?2. Welk budget had de vertaaldienst in 2016?

1. De vertaaldienst van {service} telt {figure}, van wie de meesten voltijds werken.

2. Het budget van de vertaaldienst bedroeg in 2016 {budget} euro, personeel niet inbegrepen.
"""


def write_series_corpus(folder: Path) -> Path:
    """The sample corpus and the two vertaaldienst documents in `folder`; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, folder / path.name)
    docs = {
        FIN_ID: ("Minister van Financiën, Johan Van Overtveldt", "Minister van Financiën", "de FOD Financiën",
                 FIN_FIGURE, "412.000"),
        JUS_ID: ("Minister van Justitie, Koen Geens", "Minister van Justitie", "de FOD Justitie", JUS_FIGURE,
                 "268.000"),
    }  # fmt: skip
    for doc_id, (minister, department, service, figure, budget) in docs.items():
        text = _DOC.format(minister=minister, department=department, service=service, figure=figure, budget=budget)
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    return folder
