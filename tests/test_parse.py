"""Readers (text, JSONL, PDF), golden documents, the real corpora, and a property test over arbitrary text."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.errors import ParseError
from assistant.evaluate.alignment import score_alignment
from assistant.evaluate.gold import load_jsonl
from assistant.parse import FieldMap, parse_text, read_paths
from assistant.parse.numbering import split_parts
from assistant.parse.pdf import strip_running_lines
from assistant.parse.read import decode
from assistant.parse.records import parse_line
from assistant.types import Document
from tests.conftest import CORPUS, GOLDEN, shared_path

SEED = "seeds/000_7cb658cc4d654e89.txt"


def test_seed_every_part_right() -> None:
    path = shared_path(SEED)
    doc = parse_text(path.read_text(encoding="utf-8"), doc_id=path.stem)
    assert doc.title == "Vlaamse overheid - Stage- en leerwerkplaatsen"
    assert [p.label for p in doc.parts] == ["1", "2", "3", "3a", "3b", "3c", "3d", "3e", "4", "5", "6"]
    own = [p.label for p in doc.parts if p.answer and not p.ref]
    assert own == ["1", "3e"]
    for label in ["2", "3", "3a", "3b", "3c", "3d", "4", "5", "6"]:
        resolved = doc.resolve(label)
        assert resolved is not None and resolved.label == "1", label
    e = doc.part("3e")
    assert e is not None and "28 personen van buitenlandse herkomst" in " ".join(e.answer.split())
    assert doc.part("3a").question.startswith("Wat was de scholingsgraad")  # type: ignore[union-attr]


def test_text_header_and_hyphenation() -> None:
    text = (
        "Datum: 2023-05-04\nVraagsteller: Jan Peeters\nFractie: Groen\nMinister: Minister van Werk\n"
        "Thema's: werk, stages\n\nVlaamse overheid  -  Stages\n\nInleiding over de opleidings-\ncentra en meer.\n\n"
        "1. Hoeveel stages\nwaren er?\n\n2. Hoeveel jobs?\n 1. Er waren 12 stages.\n\n2. Zie vraag 1.\n"
    )
    doc = parse_text(text, doc_id="x")
    assert (doc.date, doc.asker, doc.party, doc.themes) == (
        "2023-05-04",
        "Jan Peeters",
        "Groen",
        ("werk", "stages"),
    )
    assert "opleidingscentra" in doc.intro
    assert doc.part("1").question == "Hoeveel stages waren er?"  # type: ignore[union-attr]
    assert doc.answer_for("2") == "Er waren 12 stages."


def test_answer_heading_splits() -> None:
    doc = parse_text("Titel - Onderwerp\n\n1. Vraag een?\n2. Vraag twee?\n\nANTWOORD\n\n1. Een.\n2. Twee.", "x")
    assert [doc.answer_for(p.label) for p in doc.parts] == ["Een.", "Twee."]


BE_RECORD = {
    "doc_id": 184501,
    "depotdat": "2017-01-05",
    "aut_person": "Burton, Emmanuel",
    "aut_party": "MR",
    "question": "Lijn Brussel-Luxemburg. - Technisch incident. \n\n Context. 1. Wat was de oorzaak?2. Hoe vaak?",
    "answer": "1. De noodrem werd geactiveerd. 2. Maandelijks 400 incidenten.",
    "answer_deptpres": "13",
    "answer_department": "Minister van Mobiliteit, belast met Belgocontrol en de NMBS",
    "answer_subdepartment": "Mobiliteit, Belgocontrol en NMBS",
    "question_theme": "VERVOER,NMBS",
}


def test_be_chamber_record() -> None:
    doc = parse_line(json.dumps(BE_RECORD), None, "be.jsonl")
    assert doc.doc_id == "184501"
    assert doc.title == "Lijn Brussel-Luxemburg - Technisch incident"
    assert (doc.date, doc.themes) == ("2017-01-05", ("VERVOER", "NMBS"))
    # The minister is the title that answered, never the Chamber's department number ("13").
    assert doc.minister == doc.department == "Minister van Mobiliteit, belast met Belgocontrol en de NMBS"
    assert doc.answer_for("2") == "Maandelijks 400 incidenten."


def test_generic_record_with_field_mapping() -> None:
    record = {
        "nr": "A-7",
        "onderwerp": "Fietspaden",
        "vraag": "1. Hoeveel km? 2. Wat kost het?",
        "antwoord": "1. 12 km. 2. 3 miljoen euro.",
        "datum": "2024-02-01",
    }
    fm = FieldMap.parse("id=nr,title=onderwerp,question=vraag,answer=antwoord,date=datum")
    doc = parse_line(json.dumps(record), fm, "x.jsonl")
    assert (doc.doc_id, doc.title, doc.date) == ("A-7", "Fietspaden", "2024-02-01")
    assert doc.answer_for("2") == "3 miljoen euro."


def test_field_mapping_rejects_unknown_field() -> None:
    with pytest.raises(ValueError, match="bad field mapping"):
        FieldMap.parse("identifier=nr")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"id": "1"}', "no 'question' field"),
        ('{"question": "q"}', "no 'id' field"),
    ],
)
def test_bad_record_is_reported(line: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_line(line, FieldMap(), "x.jsonl")


def test_bad_files_reported_others_read(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "latin1.txt").write_bytes("Titel - Café\n\n1. Vraag één?\n2. Twee?\n1. Ja.\n2. Nee.".encode("latin-1"))
    (tmp_path / "utf16.txt").write_bytes("Titel - Onderwerp\n\n1. Een?\n2. Twee?\n1. A.\n2. B.".encode("utf-16"))
    (tmp_path / "records.jsonl").write_text(json.dumps(BE_RECORD) + "\n{broken\n", encoding="utf-8")
    results = list(read_paths([tmp_path]))
    docs = {r.doc_id: r for r in results if isinstance(r, Document)}
    errors = {Path(e.path.split(":")[0]).name: e.reason for e in results if isinstance(e, ParseError)}
    assert set(docs) == {"latin1", "utf16", "184501"}
    assert docs["latin1"].title == "Titel - Café"
    assert docs["utf16"].answer_for("2") == "B."
    assert errors == {
        "empty.txt": "empty file",
        "binary.txt": "binary file (NUL bytes), not text",
        "records.jsonl": "not valid JSON (Expecting property name enclosed in double quotes at column 2)",
    }


def test_decode_utf8_bom() -> None:
    assert decode("\ufeffTitel".encode(), "x") == "Titel"


def _make_pdf(path: Path, text: str, encrypt: bool = False) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, encrypt="geheim" if encrypt else None)
    lines = text.split("\n")
    per_page = 18
    for page_no, start in enumerate(range(0, len(lines), per_page), start=1):
        c.setFont("Helvetica", 10)
        c.drawString(72, 800, "Vlaams Parlement - Schriftelijke vraag")
        y = 760
        for line in lines[start : start + per_page]:
            c.drawString(72, y, line)
            y -= 16
        c.drawString(280, 40, f"{page_no}")
        c.showPage()
    c.save()


def test_pdf_reader_strips_headers_footers_and_hyphens(tmp_path: Path) -> None:
    text = shared_path(SEED).read_text(encoding="utf-8").replace("opleiding om", "oplei-\nding om")
    pdf = tmp_path / "000_7cb658cc4d654e89.pdf"
    _make_pdf(pdf, text)
    (doc,) = list(read_paths([pdf]))
    assert isinstance(doc, Document)
    assert doc.doc_id == "000_7cb658cc4d654e89"
    assert "Schriftelijke vraag" not in doc.question_text + doc.answer_text
    assert "opleiding om" in doc.intro
    assert [p.label for p in doc.parts] == ["1", "2", "3", "3a", "3b", "3c", "3d", "3e", "4", "5", "6"]
    assert "28 personen" in doc.answer_for("3e")


def test_encrypted_and_corrupt_pdf_reported(tmp_path: Path) -> None:
    _make_pdf(tmp_path / "locked.pdf", "Titel - X\n\n1. Een?\n2. Twee?", encrypt=True)
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.4\n this is not a pdf")
    reasons = {Path(e.path).name: e.reason for e in read_paths([tmp_path]) if isinstance(e, ParseError)}
    assert "encrypted" in reasons["locked.pdf"]
    assert "not a readable PDF" in reasons["corrupt.pdf"] or "no text layer" in reasons["corrupt.pdf"]


def test_running_lines_removed() -> None:
    pages = ["Kop\ntekst een\n1", "Kop\ntekst twee\n2", "Kop\ntekst drie\n3"]
    assert strip_running_lines(pages) == ["tekst een", "tekst twee", "tekst drie"]


# ---------------------------------------------------------------- golden documents


def _golden_sources() -> list[Path]:
    return sorted(CORPUS.glob("*.txt"))


@pytest.mark.parametrize("path", _golden_sources(), ids=lambda p: p.stem)
def test_golden_samples(path: Path, update_golden: bool) -> None:
    _check_golden(parse_text(path.read_text(encoding="utf-8"), doc_id=path.stem, source=path.name), update_golden)


def test_golden_seed(update_golden: bool) -> None:
    path = shared_path(SEED)
    _check_golden(parse_text(path.read_text(encoding="utf-8"), doc_id=path.stem, source=path.name), update_golden)


def _check_golden(doc: Document, update: bool) -> None:
    golden = GOLDEN / f"{doc.doc_id}.json"
    got = json.loads(json.dumps(doc.to_dict(), ensure_ascii=False))
    if update or not golden.exists():
        if not update:
            pytest.fail(f"{golden} is missing; create it on purpose with `pytest --update-golden`")
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(golden.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- real corpora


@pytest.mark.integration
def test_dev_alignment_gold() -> None:
    gold = load_jsonl(shared_path("eval/be2017-dev.alignment.jsonl"))
    wanted = {str(g["doc"]) for g in gold}
    corpus = shared_path("corpora/be-chamber-2017/dekamer-2017.jsonl")
    docs = {d.doc_id: d for d in read_paths([corpus]) if isinstance(d, Document) and d.doc_id in wanted}
    result = score_alignment(gold, docs)
    assert result.docs_passed >= 24, result.failures


@pytest.mark.integration
def test_whole_belgian_corpus_parses() -> None:
    corpus = shared_path("corpora/be-chamber-2017/dekamer-2017.jsonl")
    results = list(read_paths([corpus]))
    docs = [d for d in results if isinstance(d, Document)]
    assert len(docs) == 3811
    numbered = sum(1 for d in docs if len(d.parts) > 1)
    assert numbered > 3000
    for d in docs:
        _assert_partition(d)


@pytest.mark.integration
def test_tweede_kamer_layout_does_not_crash() -> None:
    import csv

    path = shared_path("corpora/tk-2024/kamervragen-2024-11.csv")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for row in rows:
        doc = parse_text(row["text_content"], doc_id=row["name"])
        _assert_partition(doc)


# ---------------------------------------------------------------- property


def _assert_partition(doc: Document) -> None:
    """Every character of the answer lies in exactly one part's answer span or in an unassigned span."""
    covered = [0] * len(doc.answer_text)
    spans = [p.answer_span for p in doc.parts if p.answer_span] + list(doc.unassigned)
    for lo, hi in spans:
        assert 0 <= lo <= hi <= len(doc.answer_text)
        for i in range(lo, hi):
            covered[i] += 1
    assert all(c == 1 for c in covered), doc.doc_id
    for p in doc.parts:
        if p.answer_span:
            assert doc.answer_text[p.answer_span[0] : p.answer_span[1]] == p.answer


label_text = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "1. ",
                "2. ",
                "3.",
                "?2.",
                "a) ",
                "b)",
                "c) ",
                "a-d) ",
                " en ",
                " tot ",
                "Zie vraag 1. ",
                "8.256 m22. ",
                "\n",
                "\n\n",
                "3.1.2 ",
                "2. 750.000 ",
                "ANTWOORD\n",
                "1. tot 4. ",
            ]
        ),
        st.text(max_size=30),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=label_text, answer=label_text)
def test_arbitrary_text_never_crashes_and_partitions(question: str, answer: str) -> None:
    split = split_parts(question, answer)
    doc = Document("h", "h", question, answer, tuple(split.parts), unassigned=tuple(split.unassigned))
    _assert_partition(doc)
    assert [p.label for p in doc.parts]
    for p in doc.parts:
        doc.answer_for(p.label)


@settings(max_examples=100, deadline=None)
@given(text=label_text)
def test_arbitrary_file_text_never_crashes(text: str) -> None:
    doc = parse_text(text, doc_id="h")
    _assert_partition(doc)


def test_parse_stats_counts_what_the_parser_made_of_the_sample_corpus() -> None:
    """eval/parse_stats.py, the source of the README's parsing counts, on the bundled corpus (run as a script)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "parse_stats.py"), str(CORPUS), "--split", "2023-01"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    docs = [d for d in read_paths([CORPUS]) if isinstance(d, Document)]
    assert counts["all"]["documents"] == len(docs)
    assert counts["all"]["parts"] == sum(len(d.parts) for d in docs)
    assert counts["before 2023-01"]["documents"] + counts["from 2023-01"]["documents"] == len(docs)
    assert counts["all"]["parts_without_text"] == 0  # every part of the sample corpus has its answer
