"""Nothing lost under bad input and interruption: every bad file reported, the rest ingested, the index intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.cli import main as cli_main
from assistant.index import Index
from assistant.ingest import ingest
from tests.conftest import CORPUS, ROOT
from tests.fakes import FakeEmbedder


def _pdf(path: Path, lines: list[str] | None, encrypt: bool = False) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, encrypt="geheim" if encrypt else None)
    if lines is None:
        c.rect(72, 400, 300, 200, fill=1)  # a "scan": an image-like drawing with no text layer
    else:
        for i, line in enumerate(lines):
            c.drawString(72, 780 - 16 * i, line)
    c.showPage()
    c.save()


def _bad_inputs(folder: Path) -> dict[str, str]:
    """Write every kind of bad input; returns file name -> a word its reason must contain."""
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "huge.txt").write_bytes(b"Titel - Onderwerp\n\n1. Vraag?\n" + b"x" * 50_000_000)
    (folder / "records.jsonl").write_text(
        json.dumps({"id": "ok-1", "question": "1. Een? 2. Twee?", "answer": "1. Ja. 2. Nee.", "title": "Goed"})
        + "\n{dit is geen json\n"
        + json.dumps({"id": "no-question"})
        + "\n",
        encoding="utf-8",
    )
    _pdf(folder / "locked.pdf", ["Titel - X", "1. Een?", "2. Twee?"], encrypt=True)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> garbage")
    _pdf(folder / "scan.pdf", None)
    # readable, in other encodings
    (folder / "latin1.txt").write_bytes("Café - Vraag\n\n1. Één?\n2. Twee?\n1. Ja.\n2. Nee.".encode("latin-1"))
    (folder / "utf16.txt").write_bytes("Titel - Vraag\n\n1. Een?\n2. Twee?\n1. Ja.\n2. Nee.".encode("utf-16"))
    return {
        "empty.txt": "empty",
        "binary.txt": "binary",
        "huge.txt": "too large",
        "records.jsonl:2": "JSON",
        "records.jsonl:3": "question",
        "locked.pdf": "encrypted",
        "corrupt.pdf": "PDF",
        "scan.pdf": "no text layer",
    }


def test_bad_inputs_reported_rest_ingested_nothing_lost(tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    ingest([CORPUS], Index.open(index_dir), FakeEmbedder, model_name="fake", progress=False)
    before = set(Index.open_existing(index_dir).parts.all_ids())

    expected = _bad_inputs(tmp_path / "bad")
    report = ingest([tmp_path / "bad"], Index.open(index_dir), FakeEmbedder, model_name="fake", progress=False)
    reasons = {Path(f.path).name: f.reason for f in report.failures}
    assert set(reasons) == set(expected)
    for name, word in expected.items():
        assert word.lower() in reasons[name].lower(), (name, reasons[name])
    assert report.docs_new == 3  # ok-1, latin1, utf16
    after = Index.open_existing(index_dir)
    assert before <= set(after.parts.all_ids())
    assert {"ok-1", "latin1", "utf16"} <= {d.doc_id for d in after.documents()}


def test_cli_exit_status_says_some_files_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL", "fake")
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.txt").write_text((CORPUS / "sv_2023_0302.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (src / "empty.txt").write_bytes(b"")
    status = cli_main(["ingest", str(src), "--index", str(tmp_path / "idx"), "--quiet"])
    out = capsys.readouterr()
    assert status == 2
    assert "empty.txt: empty file" in out.err
    assert "1 new" in out.out


_SLOW_INGEST = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from assistant.index import Index
    from assistant.ingest import ingest
    from tests.fakes import FakeEmbedder

    class Slow(FakeEmbedder):
        def embed_passages(self, texts):
            time.sleep(0.15)
            return super().embed_passages(texts)

    ingest([Path({src!r})], Index.open(Path({idx!r})), Slow, model_name="fake", progress=False)
    print("done")
    """
)


def _corpus(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        text = (
            f"Onderwerp {i} - Vraag nummer {i}\n\n1. Hoeveel dossiers waren er in jaar {i}?\n2. Wat kost dossier {i}?\n"
            f"3. Waarom {i}?\n1. Er waren {i * 13} dossiers.\n2. Het kost {i * 101} euro.\n3. Zie vraag 1.\n"
        )
        (folder / f"doc{i:03d}.txt").write_text(text, encoding="utf-8")


def test_sigkill_midway_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _corpus(src, 120)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    script = _SLOW_INGEST.format(root=str(ROOT), src=str(src), idx=str(killed))
    proc = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until some, but not all, documents are stored
        db = killed / "docs.sqlite"
        if db.exists():
            import sqlite3

            try:
                n = sqlite3.connect(str(db)).execute("SELECT COUNT(*) FROM docs").fetchone()[0]
            except sqlite3.Error:
                n = 0
            if n >= 20:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = Index.open_existing(killed).document_count()
    assert 0 < partial < 120

    ingest([src], Index.open(killed), FakeEmbedder, model_name="fake", progress=False)
    ingest([src], Index.open(clean), FakeEmbedder, model_name="fake", progress=False)
    a, b = Index.open_existing(killed), Index.open_existing(clean)
    assert sorted(a.parts.all_ids()) == sorted(b.parts.all_ids())
    assert a.parts.count() == b.parts.count() == 360
    assert [d.to_dict() for d in a.documents()] == [d.to_dict() for d in b.documents()]
    assert a.read_keywords().keys == b.read_keywords().keys
