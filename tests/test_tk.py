"""The Tweede Kamer layout: quirks as parametrised snippets, golden documents, the dev alignment gold and all 86
documents of the shared CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluate.alignment import score_alignment
from assistant.evaluate.gold import load_jsonl
from assistant.parse import read_paths
from assistant.parse.text import parse_text
from assistant.parse.tk import expand_numbers, looks_like_tk, parse_tk, split_joint_question, strip_furniture
from assistant.types import Document
from tests.conftest import GOLDEN, ROOT, shared_path
from tests.test_parse import _assert_partition

TK_CSV = "corpora/tk-2024/kamervragen-2024-11.csv"
PDF_HEAD = """Tweede Kamer der Staten-Generaal2
Vergaderjaar 2024–2025 Aanhangsel van de Handelingen
Vragen gesteld door de leden der Kamer, met de daarop door de
regering gegeven antwoorden
563
Vragen van het lid Paulusma (D66) aan de Staatssecretaris van
Volksgezondheid, Welzijn en Sport over het bericht «Toezichthouder:
toegankelijkheid jeugdzorg onder druk» (ingezonden 11 oktober 2024).
Antwoord van Staatssecretaris Karremans (Volksgezondheid, Welzijn en
Sport) (ontvangen 15 november 2024). Zie ook Aanhangsel Handelingen,vergaderjaar 2024–2025, nr. 426.
"""


def tk(body: str) -> Document:
    return parse_tk(PDF_HEAD + body, doc_id="x")


def pairs(doc: Document) -> dict[str, tuple[str, str]]:
    """label -> (question, the answer it resolves to), for compact expectations."""
    out = {}
    for p in doc.parts:
        resolved = doc.resolve(p.label)
        out[p.label] = (p.question, resolved.answer if resolved else "")
    return out


def test_header_metadata() -> None:
    doc = tk("Vraag 1\nBent u bekend met het bericht?\nAntwoord 1\nJa.\n")
    assert doc.title == "het bericht «Toezichthouder: toegankelijkheid jeugdzorg onder druk»"
    assert (doc.asker, doc.party) == ("Paulusma", "D66")
    assert doc.addressee == "De Staatssecretaris van Volksgezondheid, Welzijn en Sport"
    assert doc.minister == "Staatssecretaris Karremans (Volksgezondheid, Welzijn en Sport)"
    assert doc.department == "Volksgezondheid, Welzijn en Sport"
    assert (doc.date, doc.answer_date) == ("2024-10-11", "2024-11-15")
    assert doc.numbers == ("AH 563", "zie ook AH 426")
    assert doc.intro.startswith("Vragen van het lid Paulusma (D66)")


@pytest.mark.parametrize(
    ("askers", "names", "parties"),
    [
        ("de leden Ellian (VVD) en Paternotte (D66)", "Ellian, Paternotte", "VVD, D66"),
        ("de leden Paternotte en Podt (beiden D66)", "Paternotte, Podt", "D66"),
        ("het lid Boomsma (Nieuw Sociaal Contract)", "Boomsma", "Nieuw Sociaal Contract"),
    ],
)
def test_askers_and_parties(askers: str, names: str, parties: str) -> None:
    doc = parse_tk(f"Vragen van {askers} aan de Minister van Financiën over de begroting (ingezonden 1 mei 2024).\n"
                   "Antwoord van Minister Heinen (Financiën) (ontvangen 2 juni 2024).\nVraag 1\nWat?\nAntwoord 1\nDit.",
                   doc_id="x")  # fmt: skip
    assert (doc.asker, doc.party, doc.date, doc.answer_date) == (names, parties, "2024-05-01", "2024-06-02")


def test_docx_header_numbers() -> None:
    doc = parse_text(
        "AH 601\n2024Z17331\nAntwoord van minister Faber - Van de Klashorst (Asiel en Migratie) (ontvangen 20 november"
        " 2024)\n\nVraag 1\nKunt u dit aangeven? 1)\n\nAntwoord op vraag 1\nDe inzichten uit het rapport.\n\n"
        " \n\n1) Kamerstuk 19637, nr. 3203\n",
        doc_id="x",
    )
    assert doc.numbers == ("AH 601", "2024Z17331")
    assert doc.minister == "Minister Faber - Van de Klashorst (Asiel en Migratie)"
    assert pairs(doc) == {"1": ("Kunt u dit aangeven?", "De inzichten uit het rapport.")}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # interleaved "Vraag N ... Antwoord N"
        ("Vraag 1\nEen?\nAntwoord 1\nJa.\nVraag 2\nTwee?\nAntwoord 2\nNee.",
         {"1": ("Een?", "Ja."), "2": ("Twee?", "Nee.")}),
        # "Antwoord op vraag N", "Antwoord vraag N:" with text on the label line
        ("Vraag 1\nEen?\nAntwoord op vraag 1\nJa.\nVraag 2\nTwee?\nAntwoord vraag 2: Nee.",
         {"1": ("Een?", "Ja."), "2": ("Twee?", "Nee.")}),
        # "1. <q> Antwoord: <a>", with a numbered list inside the first answer
        ("1. Een?\nAntwoord:\nDrie punten:\n1. alfa\n2. beta\n2. Twee?\nAntwoord: Nee.",
         {"1": ("Een?", "Drie punten: 1. alfa 2. beta"), "2": ("Twee?", "Nee.")}),
        # a bare number on its own line
        ("1\nEen?\nAntwoord\nJa.\n2\nTwee?\nAntwoord\nNee.", {"1": ("Een?", "Ja."), "2": ("Twee?", "Nee.")}),
        # joint blocks: "Vraag 2 en 3" / "Antwoord 2 en 3", questions told apart where the extraction glued them
        ("Vraag 1\nEen?\nAntwoord 1\nJa.\nVraag 2 en 3\nTwee?Drie? Zo ja, welke?\nAntwoord 2 en 3\nSamen.",
         {"1": ("Een?", "Ja."), "2": ("Twee?", "Samen."), "3": ("Drie? Zo ja, welke?", "Samen.")}),
        # "Antwoord 4-7" and "vragen 1 tot en met 3"
        ("Vragen 1 tot en met 3\nA?B?C?\nAntwoord op vragen 1 tot en met 3\nAlles.",
         {"1": ("A?", "Alles."), "2": ("B?", "Alles."), "3": ("C?", "Alles.")}),
        ("Vraag 4-5\nVier en vijf.\nAntwoord 4-5\nBeide.",
         {"4": ("Vier en vijf.", "Beide."), "5": ("Vier en vijf.", "Beide.")}),
        # "1, 2 en 3" listed out of order with the next block
        ("Vraag 1, 2 en 4\nA?B?D?\nAntwoord 1, 2 en 4\nSamen.\nVraag 3\nC?\nAntwoord 3\nApart.",
         {"1": ("A?", "Samen."), "2": ("B?", "Samen."), "3": ("C?", "Apart."), "4": ("D?", "Samen.")}),
        # a reference to another part's answer
        ("Vraag 1\nEen?\nAntwoord 1\nJa.\nVraag 2\nTwee?\nAntwoord 2\nZie het antwoord op vraag 1.",
         {"1": ("Een?", "Ja."), "2": ("Twee?", "Ja.")}),
        ("Vraag 1\nEen?\nAntwoord 1\nJa.\nVraag 2\nTwee?\nAntwoord 2\nVoor het antwoord verwijs ik naar vraag 1.",
         {"1": ("Een?", "Ja."), "2": ("Twee?", "Ja.")}),
        # a question label printed twice, the answer's number names the second
        ("Vraag 1\nEen?\nVraag 1\nEen?\nAntwoord 2\nAntwoord twee.",
         {"1": ("Een?", ""), "2": ("Een?", "Antwoord twee.")}),
    ],
)  # fmt: skip
def test_labels_and_pairing(body: str, expected: dict[str, tuple[str, str]]) -> None:
    doc = tk(body)
    assert pairs(doc) == expected
    _assert_partition(doc)


def test_reference_to_two_parts_points_to_the_first() -> None:
    doc = tk("Vraag 1\nA?\nAntwoord 1\nJa.\nVraag 2\nB?\nAntwoord 2\nNee.\nVraag 3\nC?\nAntwoord 3\n"
             "Zie het antwoord op vraag 1 en 2.")  # fmt: skip
    assert doc.part("3").ref == "1" and doc.part("3").ref_kind == "reference"  # type: ignore[union-attr]


def test_page_furniture_and_footnotes_removed_answer_whole_over_the_page() -> None:
    body = (
        "Vraag 1\nBent u bekend met het bericht?1\nAntwoord 1\nHet antwoord loopt door en noemt een brief\n"
        "2. Met dit wetsvoorstel wordt het beter en het loopt over de\n"
        "1NOS.nl, 8 oktober 2024, «Toezichthouder: toegankelijkheid jeugdzorg onder druk»\n"
        "2Kamerstuk 31 839, nr. 1031\n \n  \nah-tk-20242025-563\n"
        "ISSN 0921 - 7398’s-Gravenhage 2024Tweede Kamer, vergaderjaar 2024–2025, Aanhangsel 1\n"
        "pagina heen.\nVraag 2\nEn de Kamer3 dan?\nAntwoord 2\nNee.\n3Kamerstukken II 2024/25, 19 637, nr. 3308\n"
        "Tweede Kamer, vergaderjaar 2024–2025, Aanhangsel 2"
    )
    doc = tk(body)
    assert pairs(doc) == {
        "1": ("Bent u bekend met het bericht?",
              "Het antwoord loopt door en noemt een brief. Met dit wetsvoorstel wordt het beter en het loopt over de "
              "pagina heen."),
        "2": ("En de Kamer dan?", "Nee."),
    }  # fmt: skip
    for junk in ("2025, Aanhangsel", "ah-tk", "ISSN", "NOS.nl", "Kamerstuk", "Staten-Generaal"):
        assert junk not in doc.answer_text and junk not in doc.question_text


def test_footnote_mark_on_its_own_line_and_glued_to_a_word() -> None:
    lines, _ = strip_furniture(
        "Vraag 1\nHeeft Zelensky gedreigd (NAVO)?\n1\nAntwoord 1\nIn een verklaring\n2 herhaald, en Algerije3, Irak.\n"
        "1New York Post, 17 oktober 2024\n2https://mfa.gov.ua/en/news\n3TRT World, januari 2024\n"
    )
    assert lines == ["Vraag 1", "Heeft Zelensky gedreigd (NAVO)?", "Antwoord 1", "In een verklaring",
                     "\x01herhaald, en Algerije, Irak."]  # fmt: skip


def test_numbered_list_inside_answer_is_not_parts() -> None:
    doc = tk("Vraag 1\nWelke stappen?\nAntwoord 1\nDrie stappen:\n1. eerst\n2. dan\n3. tot slot\nVraag 2\nEn nu?\n"
             "Antwoord 2\nKlaar.")  # fmt: skip
    assert [p.label for p in doc.parts] == ["1", "2"]
    assert doc.part("1").answer == "Drie stappen: 1. eerst 2. dan 3. tot slot"  # type: ignore[union-attr]


def test_question_only_and_postponement_are_unanswered() -> None:
    questions = parse_text(
        "Tweede Kamer der Staten-Generaal2\nVergaderjaar 2024–2025 Vragen gesteld door de leden der Kamer\n2024Z18775\n"
        "Vragen van het lid Krul (CDA) aan de Minister voor Economische Zaken over het bericht «X» (ingezonden 19"
        " november 2024)\nVraag 1\nKent u het bericht?\nVraag 2\nWat gaat u doen?\n",
        doc_id="q",
    )
    assert [(p.label, p.answer, p.ref) for p in questions.parts] == [("1", "", None), ("2", "", None)]
    notice = parse_text(
        "AH 600\n2024Z17067\nMededeling van minister Wiersma (Landbouw) (ontvangen 20 november 2024)\n\n"
        "De vragen van het lid Flach (SGP) kunnen niet binnen de gebruikelijke termijn worden beantwoord.\n",
        doc_id="u",
    )
    assert all(not p.answer and not p.ref for p in notice.parts)
    _assert_partition(notice)


@pytest.mark.parametrize(
    ("spec", "numbers"),
    [("1", [1]), ("4, 5, 7 en 8", [4, 5, 7, 8]), ("2 t/m 6", [2, 3, 4, 5, 6]), ("4-7", [4, 5, 6, 7]),
     ("9 tot en met 14", [9, 10, 11, 12, 13, 14]), ("1, 2, 3, 4 en 5", [1, 2, 3, 4, 5])],
)  # fmt: skip
def test_expand_numbers(spec: str, numbers: list[int]) -> None:
    assert expand_numbers(spec) == numbers


def test_joint_question_not_split_when_count_differs() -> None:
    assert split_joint_question("Een? Zo ja, welke?", 2) is None
    assert split_joint_question("Een?Twee?", 2) == [(0, 4), (4, 9)]


def test_seed_and_samples_are_not_taken_for_tweede_kamer() -> None:
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        assert not looks_like_tk(path.read_text(encoding="utf-8")), path.name


# ---------------------------------------------------------------- the shared CSV

GOLDEN_TK = ("Antwoord_op_vragen_van_het_lid_Boomsma_o", "Antwoord_op_vragen_van_de_leden_Ellian_e",
             "Antwoord_op_vragen_van_het_lid_Ceder_ove")  # fmt: skip


def _tk_docs() -> dict[str, Document]:
    return {d.doc_id: d for d in read_paths([shared_path(TK_CSV)]) if isinstance(d, Document)}


@pytest.mark.integration
@pytest.mark.parametrize("doc_id", GOLDEN_TK)
def test_tk_golden(doc_id: str, update_golden: bool) -> None:
    doc = _tk_docs()[doc_id]
    golden = GOLDEN / "tk" / f"{doc_id}.json"
    # the CSV's path depends on where ../shared is; its file name does not
    got = json.loads(json.dumps({**doc.to_dict(), "source": Path(doc.source).name}, ensure_ascii=False))
    if update_golden or not golden.exists():
        if not update_golden:
            pytest.fail(f"{golden} is missing; create it on purpose with `pytest --update-golden`")
        golden.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.integration
def test_tk_dev_alignment_gold() -> None:
    gold = load_jsonl(ROOT / "eval" / "tk2024-dev.alignment.jsonl")
    assert len(gold) == 13
    result = score_alignment(gold, _tk_docs())
    assert result.docs_passed >= 12, result.failures


@pytest.mark.integration
def test_all_86_tk_documents_parse_and_partition() -> None:
    results = list(read_paths([shared_path(TK_CSV)]))
    docs = [d for d in results if isinstance(d, Document)]
    assert len(results) == len(docs) == 86
    assert len({d.doc_id for d in docs}) == 86
    assert "Antwoord_op_vragen_van_het_lid_Boswijk_o_pdf" in {d.doc_id for d in docs}
    for d in docs:
        _assert_partition(d)
        assert d.title and "Staten-Generaal" not in d.title, d.doc_id


def test_tk_gold_ids_are_csv_stems() -> None:
    gold = load_jsonl(ROOT / "eval" / "tk2024-dev.alignment.jsonl")
    questions = load_jsonl(ROOT / "eval" / "tk2024-dev.questions.jsonl")
    ids = {g["doc"] for g in gold}
    assert all(c["gold"] == [] or {x["doc"] for x in c["gold"]} <= ids for c in questions)
    assert len(questions) >= 25
    assert {c["kind"] for c in questions} >= {"en", "abstain"}
    assert Path(ROOT / "eval" / "tk2024-dev.questions.jsonl").read_text(encoding="utf-8").count("\n") == len(questions)
