"""Inputs people have: .docx, .csv, .html, text in other encodings, PDFs that make pypdf complain, and the
Flemish published layout."""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

import pytest

from assistant.errors import ParseError
from assistant.parse import FieldMap, read_file, read_paths
from assistant.parse.numbering import split_parts
from assistant.parse.read import decode
from assistant.parse.records import file_ids
from assistant.parse.text import parse_text
from assistant.types import Document
from tests.conftest import CORPUS

SIMPLE = "Titel - Onderwerp\n\n1. Hoeveel kost het?\n2. Wanneer start het?\n\n1. Het kost 5 euro.\n2. In mei.\n"


def _docs(path: Path, **kw: object) -> list[Document | ParseError]:
    return list(read_file(path, **kw))  # type: ignore[arg-type]


def test_docx_built_with_python_docx_uses_word_numbering(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("Fietspaden - Onderhoud in 2023")
    d.add_paragraph("Veel fietspaden liggen er slecht bij.")
    d.add_paragraph("Hoeveel kilometer werd hersteld?", style="List Number")
    d.add_paragraph("Welk budget was er?", style="List Number")
    d.add_paragraph("ANTWOORD")
    d.add_paragraph("Er werd 41 km hersteld.", style="List Number 2")
    d.add_paragraph("Het budget was 3 miljoen euro.", style="List Number 2")
    path = tmp_path / "vraag.docx"
    d.save(str(path))
    (doc,) = _docs(path)
    assert isinstance(doc, Document)
    assert doc.title == "Fietspaden - Onderhoud in 2023"
    assert [(p.label, p.question, p.answer) for p in doc.parts] == [
        ("1", "Hoeveel kilometer werd hersteld?", "Er werd 41 km hersteld."),
        ("2", "Welk budget was er?", "Het budget was 3 miljoen euro."),
    ]


def test_bad_docx_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "kapot.docx"
    path.write_bytes(b"PK\x03\x04 no zip at all")
    (err,) = _docs(path)
    assert isinstance(err, ParseError) and "not a readable .docx" in err.reason


def test_csv_whole_text_field_ids_from_file_names(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    tk = "Vragen van het lid X (D66) aan de Minister van Y over Z (ingezonden 1 mei 2024).\n"
    tk += "Vraag 1\nEen?\nAntwoord 1\nJa."
    path.write_text(
        f'name,text_content\n"Antwoord_X.pdf","{tk}"\n"Antwoord_X.docx","{tk}"\n"Anders.txt","{SIMPLE}"\n',
        encoding="utf-8",
    )
    docs = _docs(path)
    assert [d.doc_id for d in docs if isinstance(d, Document)] == ["Antwoord_X_pdf", "Antwoord_X_docx", "Anders"]
    mapped = list(read_paths([path], FieldMap.parse("id=name,text=text_content")))
    assert [d.doc_id for d in mapped if isinstance(d, Document)] == ["Antwoord_X_pdf", "Antwoord_X_docx", "Anders"]
    assert docs[2].parts[1].answer == "In mei."  # type: ignore[union-attr]


def test_csv_generic_columns_and_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "vragen.csv"
    path.write_text("id,title,question,answer\nv1,Titel,1. Een? 2. Twee?,1. Ja. 2. Nee.\n,Leeg,Vraag?,Antwoord\n",
                    encoding="utf-8")  # fmt: skip
    docs = _docs(path)
    assert isinstance(docs[0], Document) and [p.answer for p in docs[0].parts] == ["Ja.", "Nee."]
    assert isinstance(docs[1], ParseError) and "row 2" in docs[1].path


@pytest.mark.parametrize(
    ("names", "ids"),
    [(["a.pdf", "b.docx"], ["a", "b"]), (["X.pdf", "X.docx"], ["X_pdf", "X_docx"]), (["n", "n"], ["n", "n_2"])],
)
def test_file_ids(names: list[str], ids: list[str]) -> None:
    assert file_ids(names) == ids


def test_html_file(tmp_path: Path) -> None:
    path = tmp_path / "vraag.html"
    path.write_text(
        "<html><head><title>x</title><style>p{}</style></head><body><h1>Zwembaden - Renovatie</h1>"
        "<p>Veel zwembaden zijn <b>oud</b>.</p><ol><li>Hoeveel zwembaden?</li><li>Welk bedrag?</li></ol>"
        "<h2>ANTWOORD</h2><ol><li>Negen.</li><li>14 miljoen euro.</li></ol><script>alert(1)</script></body></html>",
        encoding="utf-8",
    )
    (doc,) = _docs(path)
    assert isinstance(doc, Document)
    assert doc.title == "Zwembaden - Renovatie" and doc.intro == "Veel zwembaden zijn oud."
    assert [(p.question, p.answer) for p in doc.parts] == [("Hoeveel zwembaden?", "Negen."),
                                                          ("Welk bedrag?", "14 miljoen euro.")]  # fmt: skip
    assert "alert" not in doc.answer_text


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (codecs.BOM_UTF8 + "Één € “x”".encode(), "Één € “x”"),
        ("Één € “x”".encode(), "Één € “x”"),
        ("Één € “x”".encode("utf-16"), "Één € “x”"),
        ("Één € “x” – ‘y’".encode("cp1252"), "Één € “x” – ‘y’"),
        ("Café één".encode("latin-1"), "Café één"),
        (b"Caf\xe9 \x81", "Café \x81"),  # 0x81 has no Windows-1252 character: Latin-1
    ],
)
def test_encodings(data: bytes, text: str) -> None:
    assert decode(data, "x") == text


def test_each_bad_encoding_is_one_reported_file_others_read(tmp_path: Path) -> None:
    (tmp_path / "kort.txt").write_bytes(SIMPLE.encode("utf-16")[:-1])  # truncated UTF-16
    (tmp_path / "binair.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "win.txt").write_bytes(SIMPLE.replace("5 euro", "5 €").encode("cp1252"))
    (tmp_path / "oud.txt").write_bytes(SIMPLE.replace("Titel", "Café").encode("latin-1"))
    results = list(read_paths([tmp_path]))
    errors = {Path(e.path).name: e.reason for e in results if isinstance(e, ParseError)}
    assert set(errors) == {"kort.txt", "binair.txt"}
    assert "UTF-16" in errors["kort.txt"] and "truncated" in errors["kort.txt"]
    docs = {d.doc_id: d for d in results if isinstance(d, Document)}
    assert docs["win"].parts[0].answer == "Het kost 5 €."
    assert docs["oud"].title == "Café - Onderwerp"


def test_pypdf_warnings_stay_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    path = tmp_path / "kapot.pdf"
    path.write_bytes(b"garbage before %PDF-1.4\n1 0 obj <<>> endobj trailer <<>>")
    with caplog.at_level(logging.WARNING):
        (err,) = _docs(path)
    assert isinstance(err, ParseError)
    out = capsys.readouterr()
    assert "invalid pdf header" not in (out.out + out.err).lower()
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]


@pytest.mark.parametrize(
    ("question", "answer"),
    [("1. Hoeveel kost het?", "1. Het kost 5 euro."), ("1) Hoeveel kost het?", "1) Het kost 5 euro."),
     ("Hoeveel kost het?", "Het kost 5 euro.")],
)  # fmt: skip
def test_single_part_without_intro_loses_its_number(question: str, answer: str) -> None:
    (part,) = split_parts(question, answer).parts
    assert (part.question, part.answer) == ("Hoeveel kost het?", "Het kost 5 euro.")


def test_flemish_published_layout_headings() -> None:
    doc = parse_text((CORPUS / "svp_2023_0412.txt").read_text(encoding="utf-8"), doc_id="svp_2023_0412")
    assert (doc.asker, doc.date, doc.numbers) == ("Liesbeth Van Daele", "2023-04-12", ("nr. 412",))
    assert doc.minister == "Vlaams minister van mobiliteit en openbare werken, Koen Mertens"
    assert doc.title == "Buurtbussen - Inzet in landelijke gemeenten in 2022"
    assert [p.label for p in doc.parts] == ["1", "2", "3"]
    assert doc.part("3").answer.startswith("Er werden 1.284 ritten")  # type: ignore[union-attr]
    assert "KOEN MERTENS" not in doc.question_text and "ANTWOORD" not in doc.answer_text


@pytest.mark.parametrize(
    "heading",
    ["SCHRIFTELIJKE VRAAG nr. 524 van BART PEETERS datum: 24 mei 2022 aan AN JANSSENS, VLAAMS MINISTER VAN WONEN\n",
     "SCHRIFTELIJKE VRAAG\nnr. 524\nvan BART PEETERS\ndatum: 24 mei 2022\naan AN JANSSENS\n"
     "VLAAMS MINISTER VAN WONEN\n"],
)  # fmt: skip
def test_flemish_heading_one_line_or_many(heading: str) -> None:
    text = heading + ("Wonen - Leegstand\n1. Hoeveel?\n2. Waar?\nAN JANSSENS\nVLAAMS MINISTER VAN WONEN\n"
                      "ANTWOORD op vraag nr. 524 van 24 mei 2022 van BART PEETERS\n1. Veel.\n2. Overal.\n")  # fmt: skip
    doc = parse_text(text, doc_id="x")
    assert (doc.asker, doc.date, doc.minister) == (
        "Bart Peeters",
        "2022-05-24",
        "Vlaams minister van wonen, An Janssens",
    )
    assert [(p.question, p.answer) for p in doc.parts] == [("Hoeveel?", "Veel."), ("Waar?", "Overal.")]
