"""Ingest, index and retrieval: idempotency, stale parts, manifest checks, filters, hybrid fusion, LangChain."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.chunk import chunk_document
from assistant.errors import ConfigError, IndexMismatchError, IndexMissingError
from assistant.index import Index, KeywordIndex, Manifest, validate_filters, where_clause
from assistant.ingest import ingest
from assistant.parse import parse_text
from assistant.retrieve import RetrievalSettings, Retriever, as_langchain, looks_english
from assistant.service import open_retriever
from tests.conftest import CORPUS
from tests.fakes import FakeEmbedder

CORPUS_DOCS = len(list(CORPUS.glob("*.txt")))  # the samples in corpus/, one document each


def _ingest(paths: list[Path], index_dir: Path, embedder: object, **kw: object):  # noqa: ANN202
    calls = {"n": 0}

    def factory():  # noqa: ANN202
        calls["n"] += 1
        return embedder

    report = ingest(paths, index_dir, factory, model_name=getattr(embedder, "name", "x"), progress=False, **kw)
    return report, calls["n"]


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        self.passages = 0

    def embed_passages(self, texts):  # noqa: ANN001, ANN201
        self.passages += len(texts)
        return super().embed_passages(texts)


@pytest.fixture
def sample_index(tmp_path: Path, fake_embedder: FakeEmbedder) -> Path:
    _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    return tmp_path / "idx"


def test_chunks_have_stable_part_ids() -> None:
    doc = parse_text((CORPUS / "sv_2024_0213.txt").read_text(encoding="utf-8"), "sv_2024_0213")
    ids = [c.chunk_id for c in chunk_document(doc)]
    assert ids == [c.chunk_id for c in chunk_document(doc)]
    assert "sv_2024_0213#3e" in ids and len(set(ids)) == len(ids)
    ref = next(c for c in chunk_document(doc) if c.part == "3b")
    assert ref.via_ref == "1" and "zie vraag 1" in ref.text


def test_long_answer_split_but_cited_to_its_part() -> None:
    long_answer = " ".join(f"Zin {i} over de begroting van 2023 met {i * 7} euro." for i in range(200))
    doc = parse_text(f"Titel - Onderwerp\n\n1. Wat kost het?\n2. Waarom?\n1. {long_answer}\n2. Daarom.", "d")
    chunks = [c for c in chunk_document(doc) if c.part == "1"]
    assert len(chunks) > 3
    assert [c.chunk_id for c in chunks][:2] == ["d#1", "d#1~1"]
    assert all(c.text.startswith("Titel - Onderwerp. Vraag 1: Wat kost het?") for c in chunks)


def test_ingest_is_idempotent(tmp_path: Path) -> None:
    emb = CountingEmbedder()
    first, _ = _ingest([CORPUS], tmp_path / "idx", emb)
    assert first.docs_new == CORPUS_DOCS and first.chunks_embedded > 0 and not first.failures
    before = emb.passages
    second, model_loads = _ingest([CORPUS], tmp_path / "idx", emb)
    assert (second.docs_unchanged, second.chunks_embedded, emb.passages, model_loads) == (CORPUS_DOCS, 0, before, 0)
    index = Index.open_existing(tmp_path / "idx")
    assert index.vectors.count() == first.chunks_embedded


def test_changed_document_replaces_its_parts(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    src = tmp_path / "src"
    src.mkdir()
    text = "Titel - X\n\n1. Een?\n2. Twee?\n3. Drie?\n1. Antwoord een.\n2. Antwoord twee.\n3. Antwoord drie.\n"
    (src / "doc.txt").write_text(text, encoding="utf-8")
    _ingest([src], tmp_path / "idx", fake_embedder)
    (src / "doc.txt").write_text("Titel - X\n\n1. Een?\n2. Twee?\n1. Nieuw een.\n2. Nieuw twee.\n", encoding="utf-8")
    report, _ = _ingest([src], tmp_path / "idx", fake_embedder)
    assert report.docs_changed == 1 and report.stale_removed == 1
    index = Index.open_existing(tmp_path / "idx")
    assert sorted(index.vectors.all_ids()) == ["doc#1", "doc#2"]
    assert index.docs.get("doc").answer_for("1") == "Nieuw een."  # type: ignore[union-attr]


def test_bad_file_reported_rest_ingested(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    src = tmp_path / "src"
    shutil.copytree(CORPUS, src)
    (src / "kapot.txt").write_bytes(b"\x00\xff" * 50)
    report, _ = _ingest([src], tmp_path / "idx", fake_embedder)
    assert report.docs_new == CORPUS_DOCS
    assert [Path(f.path).name for f in report.failures] == ["kapot.txt"]


def test_rebuild_starts_clean(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    one = CORPUS / "sv_2023_0302.txt"
    report, _ = _ingest([one], tmp_path / "idx", fake_embedder, rebuild=True)
    assert report.docs_new == 1
    index = Index.open_existing(tmp_path / "idx")
    assert index.docs.count() == 1 and index.contexts.all_ids() == ["sv_2023_0302"]


def test_each_document_gets_one_context_and_an_older_index_gets_them_once(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    first, _ = _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    index = Index.open_existing(tmp_path / "idx")
    assert first.contexts_embedded == CORPUS_DOCS
    assert sorted(index.contexts.all_ids()) == sorted(index.docs.fingerprints())
    index.contexts.delete(index.contexts.all_ids()[:4])  # as if built before document contexts existed
    again, _ = _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    assert (again.chunks_embedded, again.contexts_embedded) == (0, 4)
    assert index.contexts.count() == CORPUS_DOCS
    assert _ingest([CORPUS], tmp_path / "idx", fake_embedder)[0].contexts_embedded == 0


def test_document_context_counts_only_when_every_candidate_has_one(
    sample_index: Path, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    question = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
    index = Index.open_existing(sample_index)
    with_context = Retriever(index, fake_embedder).rank(question, top_k=5)
    without = Retriever(index, fake_embedder, RetrievalSettings(context_weight=0.0)).rank(question, top_k=5)
    assert with_context[0].score > without[0].score  # the document's similarity was added
    shutil.copytree(sample_index, tmp_path / "copy")
    partial = Index.open_existing(tmp_path / "copy")
    partial.contexts.delete(partial.contexts.all_ids()[:1])
    assert Retriever(partial, fake_embedder).rank(question, top_k=5) == without


def test_manifest_mismatch_is_a_clear_error(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    manifest = Manifest.read(tmp_path / "idx")
    assert manifest is not None and (manifest.model, manifest.dim) == ("fake", 64)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        manifest.check("multilingual-e5-small", 384, tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="rebuild"):
        ingest([CORPUS], tmp_path / "idx", FakeEmbedder, model_name="other-model", progress=False)


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        Index.open_existing(tmp_path / "nothing")


@pytest.mark.parametrize(
    ("filters", "message"),
    [({"colour": "red"}, "unknown filter"), ({"date_from": "gisteren"}, "ISO date")],
)
def test_bad_filters(filters: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_filters(filters)


def test_where_clause_uses_numeric_dates() -> None:
    where = where_clause(validate_filters({"party": "Groen", "date_from": "2023-01-01", "date_to": "2023-12-31"}))
    assert where == {"$and": [{"party": "Groen"}, {"date": {"$gte": 20230101}}, {"date": {"$lte": 20231231}}]}


@pytest.mark.parametrize(("mode", "fusion"), [("hybrid", "scores"), ("hybrid", "rrf"), ("dense", ""), ("bm25", "")])
def test_retrieval_finds_the_part(sample_index: Path, fake_embedder: FakeEmbedder, mode: str, fusion: str) -> None:
    settings = RetrievalSettings(mode=mode, fusion=fusion or "scores")
    r = Retriever(Index.open_existing(sample_index), fake_embedder, settings)
    hits = r.search("Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?", top_k=5)
    assert (hits[0].citation.doc_id, hits[0].citation.part) == ("sv_2023_0302", "1")
    assert "74,6 km" in hits[0].answer


@pytest.mark.parametrize("fusion", ["scores", "rrf"])
def test_parts_found_by_keywords_alone_carry_their_similarity(
    sample_index: Path, fake_embedder: FakeEmbedder, fusion: str
) -> None:
    settings = RetrievalSettings(fusion=fusion, dense_candidates=1)
    r = Retriever(Index.open_existing(sample_index), fake_embedder, settings)
    hits = r.search("Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?", top_k=5)
    assert len(hits) > 1 and all(h.similarity is not None for h in hits)
    vector = fake_embedder.embed_queries(["Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"])[0]
    stored = r.index.vectors.get_vectors([f"{hits[-1].citation.doc_id}#{hits[-1].citation.part}"])
    assert hits[-1].similarity == pytest.approx(float(next(iter(stored.values())) @ vector), abs=1e-5)


def test_unknown_fusion_is_a_clear_error(sample_index: Path, fake_embedder: FakeEmbedder) -> None:
    with pytest.raises(ValueError, match="unknown fusion 'max'"):
        Retriever(Index.open_existing(sample_index), fake_embedder, RetrievalSettings(fusion="max"))


def test_referral_ranks_below_a_real_answer_to_the_same_question(tmp_path: Path) -> None:
    question = "Titel - Boetes\n\n1. Hoeveel verkeersboetes betaalden diplomaten in 2016?\n"
    referral = "1. Of diplomaten hun boetes betalen, behoort tot de bevoegdheid van de minister van Justitie."
    (tmp_path / "a.txt").write_text(question + referral)
    (tmp_path / "b.txt").write_text(question + "1. Er werden 230 van de 306 uitgeschreven boetes betaald.")
    _ingest([tmp_path / "a.txt", tmp_path / "b.txt"], tmp_path / "idx", FakeEmbedder())
    index = Index.open_existing(tmp_path / "idx")
    ask = "Betalen diplomaten hun boetes?"
    plain = Retriever(index, FakeEmbedder(), RetrievalSettings(referral_penalty=0.0)).search(ask)
    assert [h.citation.doc_id for h in plain] == ["a", "b"]  # without the penalty the referral's words win
    # (the fake embedder's similarities spread far wider than e5's, hence a larger penalty than the default)
    penalised = Retriever(index, FakeEmbedder(), RetrievalSettings(referral_penalty=0.3)).search(ask)
    assert [h.citation.doc_id for h in penalised] == ["b", "a"]


def test_older_keyword_index_is_rebuilt_on_ingest(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    version = tmp_path / "idx" / "bm25" / "version.txt"
    version.unlink()
    assert not Index.open_existing(tmp_path / "idx").keywords_current()
    report, _ = _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    assert report.chunks_embedded == 0 and Index.open_existing(tmp_path / "idx").keywords_current()


def test_filters_restrict_both_sides(sample_index: Path, fake_embedder: FakeEmbedder) -> None:
    r = Retriever(Index.open_existing(sample_index), fake_embedder)
    question = "Hoeveel kilometer fietssnelweg werd aangelegd?"
    for filters in ({"party": "N-VA"}, {"date_from": "2024-01-01"}, {"doc_id": "sv_2022_0915"}):
        hits = r.search(question, filters, top_k=10)
        assert hits
        for h in hits:
            doc = r.docs[h.citation.doc_id]
            assert doc.party == "N-VA" if "party" in filters else True
            assert (doc.date or "") >= "2024-01-01" if "date_from" in filters else True
            assert h.citation.doc_id == "sv_2022_0915" if "doc_id" in filters else True


def test_reference_is_followed_and_said(sample_index: Path, fake_embedder: FakeEmbedder) -> None:
    r = Retriever(Index.open_existing(sample_index), fake_embedder)
    hits = r.search("onderwijs cyberveiligheid basisonderwijs opengesteld", {"doc_id": "sv_2023_1019"}, top_k=5)
    four = next(h for h in hits if h.citation.part == "4")
    assert four.citation.via_ref == "3" and "1,8 miljoen euro" in four.answer


def test_langchain_retriever(sample_index: Path, fake_embedder: FakeEmbedder) -> None:
    from langchain_core.documents import Document as LCDocument
    from langchain_core.retrievers import BaseRetriever

    lc = as_langchain(Retriever(Index.open_existing(sample_index), fake_embedder), top_k=3)
    assert isinstance(lc, BaseRetriever)
    docs = lc.invoke("Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?")
    assert all(isinstance(d, LCDocument) for d in docs) and len(docs) == 3
    assert docs[0].metadata["doc_id"] == "sv_2023_0302" and docs[0].metadata["part"] == "1"
    assert docs[0].metadata["citation"].startswith("Fietssnelwegen")


def test_unknown_words_split_compounds_into_known_words() -> None:
    kw = KeywordIndex.build(
        ["a#1", "b#1"],
        ["Alle tanks en pompen in België werden gecontroleerd op temperatuur.", "Een correctie voor de leraren."],
    )
    question = "Hebben alle tankpompen een temperatuurcorrectie na de fipronilcrisis in België?"
    assert kw.unknown_words(question) == ["fipronilcrisis"]
    assert kw.unknown_words("Een correctie van de crisis voor de leraren?") == ["crisis"]
    assert kw.unknown_words("") == []


def test_looks_english() -> None:
    assert looks_english("How many interns did the Flemish government support in 2023?")
    assert not looks_english("Hoeveel stagiairs begeleidde de dienst Diversiteitsbeleid in 2023?")


# ---------------------------------------------------------------- real model, real Chroma server


@pytest.fixture(scope="module")
def e5_index(tmp_path_factory: pytest.TempPathFactory, e5_embedder: object) -> Path:
    folder = tmp_path_factory.mktemp("e5idx")
    ingest([CORPUS], folder, lambda: e5_embedder, model_name="multilingual-e5-small", progress=False)  # type: ignore[arg-type,return-value]
    return folder


REAL_CASES = [
    ("Hoeveel stagiairs van buitenlandse herkomst had de Vlaamse overheid in 2023?", "sv_2024_0213", "34"),
    ("How much was paid out for drought damage to farmers in 2022?", "sv_2023_1109", "9.412.650"),
    ("Hoeveel sociale huurwoningen stonden begin 2024 leeg?", "sv_2024_0307", "6.874"),
]


@pytest.mark.integration
@pytest.mark.parametrize(("question", "doc_id", "fact"), REAL_CASES)
def test_real_model_answers(e5_index: Path, e5_embedder: object, question: str, doc_id: str, fact: str) -> None:
    r = Retriever(Index.open_existing(e5_index), e5_embedder)  # type: ignore[arg-type]
    hits = r.search(question, top_k=5)
    assert hits[0].citation.doc_id == doc_id
    assert fact in hits[0].answer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    chroma = Path(sys.executable).parent / "chroma"
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.integration
def test_same_retrieval_against_a_chroma_server(
    tmp_path: Path, chroma_server: str, e5_embedder: object, e5_cache: Path
) -> None:
    ingest(
        [CORPUS],
        tmp_path / "idx",
        lambda: e5_embedder,
        model_name="multilingual-e5-small",  # type: ignore[arg-type,return-value]
        chroma_url=chroma_server,
        progress=False,
    )
    assert not (tmp_path / "idx" / "chroma").exists()
    from assistant.config import Settings

    settings = Settings(index_dir=tmp_path / "idx", cache_dir=e5_cache, chroma_url=chroma_server)
    r = open_retriever(settings)
    for question, doc_id, fact in REAL_CASES:
        hits = r.search(question, top_k=5)
        assert hits[0].citation.doc_id == doc_id and fact in hits[0].answer


def test_an_index_on_a_chroma_server_opens_one_client(
    tmp_path: Path, chroma_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import index as index_module

    calls: list[str] = []
    real = index_module._heartbeat
    monkeypatch.setattr(index_module, "_heartbeat", lambda url: (calls.append(url), real(url))[1])
    idx = index_module.Index(tmp_path / "idx", "shared-client", chroma_server)
    try:
        assert idx.vectors._client is idx.contexts._client
        assert calls == [chroma_server]  # one heartbeat: one client for parts and document contexts
        assert {idx.vectors.name, idx.contexts.name} == {"shared-client", "shared-client-context"}
    finally:
        idx.close()
