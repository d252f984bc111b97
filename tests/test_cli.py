"""The `assistant` command: every --help has examples that parse, a port in use is an error before any banner,
`ask --server` answers through a running server (without loading a model, Chroma or Gradio), the local ask path
imports no Gradio, the ingest summary's figures, and `assistant questions` with its CSV export."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import cli
from assistant.config import Settings
from assistant.index import Index
from assistant.staff import Feedback, StaffLog
from assistant.web.app import create_app
from tests.conftest import CORPUS, ROOT, fake_assistant, ingest_sample
from tests.test_browser import serving

FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
COMMANDS = ("parse", "eval", "ingest", "ask", "serve", "questions")
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_MODEL": "fake", "NO_COLOR": "1"}


def _subcommands() -> dict[str, object]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)  # type: ignore[arg-type]


def _examples(help_text: str) -> list[str]:
    """The example command lines of a help text, continuation lines joined, comments dropped."""
    block = help_text.split("examples:", 1)[1].replace("\\\n", " ")
    lines = [ln.strip() for ln in block.splitlines() if ln.strip().startswith("assistant ")]
    return [ln.split("  #", 1)[0] for ln in lines]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_shows_examples_that_parse(command: str) -> None:
    text = _subcommands()[command].format_help()  # type: ignore[attr-defined]
    examples = _examples(text)
    assert examples and all(shlex.split(e)[1] == command for e in examples)
    for example in examples:
        cli.build_parser().parse_args(shlex.split(example)[1:])  # SystemExit (status 2) if it does not parse


def test_the_top_level_help_names_every_command_and_an_example() -> None:
    text = cli.build_parser().format_help()
    assert all(c in text for c in COMMANDS) and "examples:" in text


# ---------------------------------------------------------------- serve: the port first


def test_a_port_in_use_is_reported_before_any_banner_or_ingest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status = cli.main(["serve", "--port", str(port), "--index", str(tmp_path / "idx"), "--ingest", str(CORPUS)])
    out, err = capsys.readouterr()
    assert status == 1
    assert f"Port {port} on 127.0.0.1 is in use" in err and "--port" in err
    assert "Parlement Q&A:" not in out and "documents:" not in out
    assert not (tmp_path / "idx").exists()  # nothing was ingested


def test_bind_gives_a_listening_socket_for_a_free_port() -> None:
    from assistant.web.app import bind

    sock = bind("127.0.0.1", 0)
    try:
        with socket.create_connection(sock.getsockname(), timeout=2):
            pass
    finally:
        sock.close()


# ---------------------------------------------------------------- ask --server


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_sample(tmp_path_factory.mktemp("cli") / "idx")


@pytest.fixture(scope="module")
def server(index_dir: Path) -> Iterator[str]:
    with serving(create_app(Settings(client_per_minute=10_000), fake_assistant(index_dir))) as url:
        yield url


def test_ask_server_prints_the_servers_cited_answer(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", FIETS, "--server", server, "--top-k", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[1] Fietssnelwegen - Aanleg en investeringen in 2022 - sv_2023_0302, vraag 1")
    assert "74,6 km" in out
    assert cli.main(["ask", FIETS, "--server", server + "/", "--json", "--from", "2022-01-01"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answers"][0]["source_url"] == f"{server}/doc/sv_2023_0302?part=1#part-1"


def test_ask_server_reports_the_servers_refusal_and_an_unreachable_server(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ask", FIETS, "--server", server, "--from", "gisteren"]) == 1
    assert re.search(r"answered 400: .*datum", capsys.readouterr().err, re.IGNORECASE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert cli.main(["ask", FIETS, "--server", f"http://127.0.0.1:{closed}"]) == 1
    assert "Cannot reach the server" in capsys.readouterr().err
    assert cli.main(["ask", FIETS, "--server", "ftp://example.org"]) == 1
    assert "--server must be the server's address" in capsys.readouterr().err


def test_ask_through_assistant_server_loads_no_model_chroma_or_gradio(server: str) -> None:
    probe = (
        "import sys\nfrom assistant.cli import main\nstatus = main(['ask', sys.argv[1], '--top-k', '1'])\n"
        "heavy = ('torch', 'sentence_transformers', 'onnxruntime', 'chromadb', 'gradio', 'langchain_text_splitters')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules], status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, FIETS],
        env={**ENV, "ASSISTANT_SERVER": server},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "74,6 km" in done.stdout, done.stderr
    assert "LOADED [] 0" in done.stdout


def test_the_local_ask_path_imports_no_gradio(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    made = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", str(CORPUS), "--index", str(folder), "--quiet"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    probe = (
        "import sys\nfrom assistant.cli import main\nstatus = main(['ask', sys.argv[1], '--index', sys.argv[2]])\n"
        "print('LOADED', [m for m in ('gradio', 'fastapi', 'langchain_text_splitters') if m in sys.modules], status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, FIETS, str(folder)], env=ENV, capture_output=True, text=True, timeout=300
    )
    assert "LOADED [] 0" in done.stdout, done.stderr


# ---------------------------------------------------------------- ingest summary


def test_the_ingest_summary_counts_what_the_index_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "idx"
    os.environ["ASSISTANT_MODEL"] = "fake"
    try:
        assert cli.main(["ingest", str(CORPUS), "--index", str(folder), "--quiet"]) == 0
        first = capsys.readouterr().out
        assert cli.main(["ingest", str(CORPUS), "--index", str(folder), "--quiet"]) == 0
        again = capsys.readouterr().out
    finally:
        del os.environ["ASSISTANT_MODEL"]
    index = Index.open(folder)
    docs = list(index.documents())
    chunks = index.parts.count()
    index.close()
    pattern = (
        r"(\d+) documents: (\d+) new, (\d+) changed, (\d+) unchanged; (\d+) chunks, (\d+) document contexts "
        r"and (\d+) sub-questions embedded"
    )
    parts = sum(len(d.parts) for d in docs)
    seen, new, changed, unchanged, embedded, contexts, asked = map(int, re.search(pattern, first).groups())  # type: ignore[union-attr]
    assert (seen, new, changed, unchanged) == (len(docs), len(docs), 0, 0)
    assert (embedded, contexts, asked) == (chunks, len(docs), parts)
    seen, new, changed, unchanged, embedded, contexts, asked = map(int, re.search(pattern, again).groups())  # type: ignore[union-attr]
    assert (seen, new, changed, unchanged, embedded, contexts, asked) == (len(docs), 0, 0, len(docs), 0, 0, 0)


# ---------------------------------------------------------------- questions


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "staff.sqlite3"
    log = StaffLog(path, log_questions=True)
    log.record(FIETS, {"party": "Groen"}, False, ["sv_2023_0302#1"], "chat")
    for _ in range(2):
        log.record("Hoeveel olifanten wonen er in Gent?", {}, True, [], "api")
    log.add_feedback(Feedback("down", FIETS, ("sv_2023_0302#1",), "Verkeerd jaar.", "widget"))
    return path


def test_questions_lists_counts_gaps_and_feedback(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["questions", "--db", str(store)]) == 0
    out = capsys.readouterr().out
    assert "3 question(s) logged, 2 not answered; feedback 0 up, 1 down" in out
    assert re.search(r"Knowledge gaps.*\(1\)\n\s+2 x  Hoeveel olifanten wonen er in Gent\?", out)
    assert "answered  " + FIETS + "  [party=Groen]  -> sv_2023_0302#1" in out
    assert "down  " + FIETS + "  - 'Verkeerd jaar.'" in out
    assert "The question log is off" in out  # this process's settings have it off


def test_questions_exports_one_list_as_csv(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "gaps.csv"
    assert cli.main(["questions", "--db", str(store), "--list", "gaps", "--csv", str(target)]) == 0
    assert "wrote 1 row(s)" in capsys.readouterr().out
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["question"], r["count"]) for r in rows] == [("Hoeveel olifanten wonen er in Gent?", "2")]
    assert cli.main(["questions", "--db", str(store), "--csv", str(target)]) == 1
    assert "--csv writes one list" in capsys.readouterr().err
    assert cli.main(["questions", "--db", str(store), "--since", "morgen"]) == 1
    assert cli.main(["questions", "--db", str(store), "--list", "questions", "--since", "2999-01-01"]) == 0
    assert "Questions asked (newest first) (0)" in capsys.readouterr().out
