"""Ingest, index and retrieval: idempotency, stale parts, manifest checks, filters, hybrid fusion, LangChain."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from assistant import as_langchain
from assistant.answer import AbstainPolicy
from assistant.application import Assistant
from assistant.chunk import chunk_document, question_text
from assistant.config import Settings
from assistant.errors import ConfigError, IndexMismatchError, IndexMissingError, NothingToIngestError
from assistant.filters import Filters
from assistant.index import Index, KeywordIndex, Manifest
from assistant.index.vectors import where_clause
from assistant.ingest import ingest
from assistant.parse import parse_text
from assistant.retrieve import RetrievalSettings, Retriever
from assistant.text import language
from assistant.types import PartKey
from tests.conftest import CORPUS
from tests.fakes import FakeEmbedder

NO_FILTERS = Filters()
CORPUS_DOCS = len(list(CORPUS.glob("*.txt")))  # the samples in corpus/, one document each


def _ingest(paths: list[Path], index: Path | Index, embedder: object, **kw: object):  # noqa: ANN202
    """Ingest into a folder (Chroma on disk) or into a given Index; returns the report and how often the model
    was loaded."""
    calls = {"n": 0}

    def factory():  # noqa: ANN202
        calls["n"] += 1
        return embedder

    target = index if isinstance(index, Index) else Index.open(index)
    report = ingest(paths, target, factory, model_name=getattr(embedder, "name", "x"), progress=False, **kw)
    return report, calls["n"]


class CountingEmbedder(FakeEmbedder):
    """Counts the passages and queries it embedded."""

    def __init__(self) -> None:
        self.passages = 0
        self.queries = 0

    def embed_passages(self, texts):  # noqa: ANN001, ANN201
        self.passages += len(texts)
        return super().embed_passages(texts)

    def embed_queries(self, texts):  # noqa: ANN001, ANN201
        self.queries += len(texts)
        return super().embed_queries(texts)


@pytest.fixture
def sample_index(tmp_path: Path, fake_embedder: FakeEmbedder) -> Index:
    """The sample corpus in an index whose vectors live in memory (no Chroma)."""
    index = Index.in_memory(tmp_path / "idx")
    _ingest([CORPUS], index, fake_embedder)
    return index


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
    assert index.parts.count() == first.chunks_embedded


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
    assert sorted(index.parts.all_ids()) == ["doc#1", "doc#2"]
    assert index.document("doc").answer_for("1") == "Nieuw een."  # type: ignore[union-attr]


def test_changed_document_embeds_only_the_chunks_whose_text_changed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "doc.txt").write_text("Titel - X\n\n1. Een?\n2. Twee?\n1. Antwoord een.\n2. Antwoord twee.\n", "utf-8")
    emb = CountingEmbedder()
    _ingest([src], tmp_path / "idx", emb)
    before = emb.passages
    (src / "doc.txt").write_text("Titel - X\n\n1. Een?\n2. Twee?\n1. Antwoord een.\n2. Nu anders.\n", "utf-8")
    report, _ = _ingest([src], tmp_path / "idx", emb)
    assert (report.docs_changed, report.chunks_embedded, report.chunks_reused, report.contexts_embedded) == (1, 1, 1, 0)
    assert emb.passages == before + 1
    index = Index.open_existing(tmp_path / "idx")
    for entry, vector in index.parts.entries(["doc#1", "doc#2"]):  # each kept or new vector is its own text's
        assert vector == pytest.approx(FakeEmbedder().embed_passages([entry.text])[0])
    assert index.document("doc").answer_for("2") == "Nu anders."  # type: ignore[union-attr]


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
    assert index.document_count() == 1 and index.contexts.all_ids() == ["sv_2023_0302"]


def test_each_document_gets_one_context_and_an_older_index_gets_them_once(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    first, _ = _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    index = Index.open_existing(tmp_path / "idx")
    assert first.contexts_embedded == CORPUS_DOCS
    assert sorted(index.contexts.all_ids()) == sorted(index.fingerprints())
    index.contexts.delete(index.contexts.all_ids()[:4])  # as if built before document contexts existed
    again, _ = _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    assert (again.chunks_embedded, again.contexts_embedded) == (0, 4)
    assert index.contexts.count() == CORPUS_DOCS
    assert _ingest([CORPUS], tmp_path / "idx", fake_embedder)[0].contexts_embedded == 0


def test_document_context_counts_only_when_every_candidate_has_one(
    sample_index: Index, fake_embedder: FakeEmbedder
) -> None:
    question = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
    with_context = Retriever(sample_index, fake_embedder).rank(question, NO_FILTERS, top_k=5)
    no_weight = RetrievalSettings(context_weight=0.0)
    without = Retriever(sample_index, fake_embedder, no_weight).rank(question, NO_FILTERS, top_k=5)
    assert with_context[0].score > without[0].score  # the document's similarity was added
    sample_index.contexts.delete(sample_index.contexts.all_ids()[:1])
    assert Retriever(sample_index, fake_embedder).rank(question, NO_FILTERS, top_k=5) == without


def test_manifest_mismatch_is_a_clear_error(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    manifest = Manifest.read(tmp_path / "idx")
    assert manifest is not None and (manifest.model, manifest.dim) == ("fake", 64)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        manifest.check("multilingual-e5-small", 384, tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="rebuild"):
        ingest([CORPUS], Index.open(tmp_path / "idx"), FakeEmbedder, model_name="other-model", progress=False)
    with pytest.raises(IndexMismatchError, match="ASSISTANT_ENCODER=fake"):
        manifest.check("fake", 64, tmp_path / "idx", encoder="onnx-int8")
    app = Assistant.open(Settings(), index_dir=tmp_path / "idx", embedder=_Int8Fake())
    with pytest.raises(IndexMismatchError, match="fake encoder, not onnx-int8"):
        app.ask("Hoeveel kilometer fietssnelweg?")


@pytest.mark.parametrize(
    ("built", "searched", "shares"),
    [("torch", "onnx", True), ("onnx", "torch", True), ("torch", "onnx-int8", False), ("onnx-int8", "onnx", False)],
)
def test_torch_and_onnx_fp32_share_an_index_int8_does_not(
    tmp_path: Path, built: str, searched: str, shares: bool
) -> None:
    manifest = Manifest("multilingual-e5-small", 384, encoder=built)
    if shares:
        manifest.check("multilingual-e5-small", 384, tmp_path, encoder=searched)
    else:
        with pytest.raises(IndexMismatchError, match=f"ASSISTANT_ENCODER={built}"):
            manifest.check("multilingual-e5-small", 384, tmp_path, encoder=searched)


class _Int8Fake(FakeEmbedder):
    encoder = "onnx-int8"


def test_ingest_of_nothing_says_so_and_leaves_no_index(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "kapot.txt").write_bytes(b"\x00\xff" * 50)
    for paths in ([tmp_path / "typo"], [tmp_path / "bad"]):
        with pytest.raises(NothingToIngestError, match="No document could be read") as caught:
            _ingest(paths, tmp_path / "idx", fake_embedder)
        assert caught.value.report.failures
        assert Manifest.read(tmp_path / "idx") is None
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        Assistant.open(Settings(), index_dir=tmp_path / "idx", embedder=fake_embedder)


def test_generation_moves_with_each_changing_ingest(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    _ingest([CORPUS / "sv_2023_0302.txt"], tmp_path / "idx", fake_embedder)
    app = Assistant.open(Settings(), index_dir=tmp_path / "idx", embedder=fake_embedder)
    assert app.document("sv_2024_0213") is None and not app.refresh()
    _ingest([CORPUS], tmp_path / "idx", fake_embedder)  # another process, as it were
    assert app.document("sv_2024_0213") is None  # still the generation it read
    assert app.refresh() and app.document("sv_2024_0213") is not None
    _ingest([CORPUS], tmp_path / "idx", fake_embedder)  # nothing changed: same generation
    assert not app.refresh()


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        Index.open_existing(tmp_path / "nothing")


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"colour": "red"}, "unknown filter"),
        ({"date_from": "gisteren"}, "ISO date"),
        ({"date_from": "2023-02-30"}, "ISO date"),
        ({"date_from": "2024-01-01", "date_to": "2023-01-01"}, "later than"),
    ],
)
def test_bad_filters(filters: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Filters.parse(filters)


def test_filters_are_validated_once_into_a_value() -> None:
    f = Filters.parse({"party": "Groen", "minister": "", "date_to": "2023-12-31"})
    assert f == Filters(party=("Groen",), date_to="2023-12-31")
    assert f.as_dict() == {"party": "Groen", "date_to": "2023-12-31"}
    assert Filters.parse(f) is f and not Filters.parse({}) and bool(f)
    assert hash(f) == hash(Filters(party=("Groen",), date_to="2023-12-31"))  # usable as a cache key
    two = Filters.parse({"party": ["Groen", " Groen", "N-VA"]})  # a name resolved to several known values
    assert two.party == ("Groen", "N-VA") and Filters.parse(two.as_dict()) == two


def test_where_clause_uses_numeric_dates() -> None:
    where = where_clause(Filters.parse({"party": "Groen", "date_from": "2023-01-01", "date_to": "2023-12-31"}))
    assert where == {"$and": [{"party": "Groen"}, {"date": {"$gte": 20230101}}, {"date": {"$lte": 20231231}}]}
    assert where_clause(Filters.parse({"party": ["Groen", "N-VA"]})) == {"party": {"$in": ["Groen", "N-VA"]}}


def test_part_keys_are_values() -> None:
    key = PartKey.parse("sv_2024_0213#3e~1")
    assert key == PartKey("sv_2024_0213", "3e") and str(key) == "sv_2024_0213#3e"
    assert key.doc_id == "sv_2024_0213" and key.label == "3e"


@pytest.mark.parametrize(("mode", "fusion"), [("hybrid", "scores"), ("hybrid", "rrf"), ("dense", ""), ("bm25", "")])
def test_retrieval_finds_the_part(sample_index: Index, fake_embedder: FakeEmbedder, mode: str, fusion: str) -> None:
    settings = RetrievalSettings(mode=mode, fusion=fusion or "scores")  # type: ignore[arg-type]
    r = Retriever(sample_index, fake_embedder, settings)
    hits = r.search("Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?", top_k=5).hits
    assert (hits[0].citation.doc_id, hits[0].citation.part) == ("sv_2023_0302", "1")
    assert "74,6 km" in hits[0].answer


@pytest.mark.parametrize("fusion", ["scores", "rrf"])
def test_parts_found_by_keywords_alone_carry_their_similarity(
    sample_index: Index, fake_embedder: FakeEmbedder, fusion: str
) -> None:
    settings = RetrievalSettings(fusion=fusion, dense_candidates=1)  # type: ignore[arg-type]
    r = Retriever(sample_index, fake_embedder, settings)
    hits = r.search("Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?", top_k=5).hits
    assert len(hits) > 1 and all(h.similarity is not None for h in hits)
    vector = fake_embedder.embed_queries(["Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"])[0]
    stored = r.index.parts.vectors([f"{hits[-1].citation.doc_id}#{hits[-1].citation.part}"])
    assert hits[-1].similarity == pytest.approx(float(next(iter(stored.values())) @ vector), abs=1e-5)


def test_unknown_fusion_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown fusion 'max'"):
        RetrievalSettings(fusion="max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown retrieval mode 'sparse'"):
        RetrievalSettings(mode="sparse")  # type: ignore[arg-type]


def test_referral_ranks_below_a_real_answer_to_the_same_question(tmp_path: Path) -> None:
    question = "Titel - Boetes\n\n1. Hoeveel verkeersboetes betaalden diplomaten in 2016?\n"
    referral = "1. Of diplomaten hun boetes betalen, behoort tot de bevoegdheid van de minister van Justitie."
    (tmp_path / "a.txt").write_text(question + referral)
    (tmp_path / "b.txt").write_text(question + "1. Er werden 230 van de 306 uitgeschreven boetes betaald.")
    index = Index.in_memory(tmp_path / "idx")
    _ingest([tmp_path / "a.txt", tmp_path / "b.txt"], index, FakeEmbedder())
    ask = "Betalen diplomaten hun boetes?"
    plain = Retriever(index, FakeEmbedder(), RetrievalSettings(referral_penalty=0.0)).search(ask).hits
    assert [h.citation.doc_id for h in plain] == ["a", "b"]  # without the penalty the referral's words win
    # (the fake embedder's similarities spread far wider than e5's, hence a larger penalty than the default)
    penalised = Retriever(index, FakeEmbedder(), RetrievalSettings(referral_penalty=0.3)).search(ask).hits
    assert [h.citation.doc_id for h in penalised] == ["b", "a"]


def test_older_keyword_index_is_rebuilt_on_ingest(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    version = tmp_path / "idx" / "bm25" / "version.txt"
    version.unlink()
    assert not Index.open_existing(tmp_path / "idx").keywords_current()
    report, _ = _ingest([CORPUS], tmp_path / "idx", fake_embedder)
    assert report.chunks_embedded == 0 and Index.open_existing(tmp_path / "idx").keywords_current()


@pytest.mark.parametrize("store", ["memory", "chroma"])
def test_filters_restrict_both_sides(tmp_path: Path, fake_embedder: FakeEmbedder, store: str) -> None:
    index = Index.in_memory(tmp_path / "idx") if store == "memory" else Index.open(tmp_path / "idx")
    _ingest([CORPUS], index, fake_embedder)
    r = Retriever(index, fake_embedder)
    question = "Hoeveel kilometer fietssnelweg werd aangelegd?"
    cases: list[dict[str, Any]] = [
        {"party": "N-VA"},
        {"party": ["Groen", "Vooruit"]},  # a loose name resolved to two known values: either passes
        {"date_from": "2024-01-01"},
        {"doc_id": "sv_2022_0915"},
    ]
    for filters in cases:
        for mode in ("dense", "bm25"):  # each side on its own, then fused
            side = Retriever(index, fake_embedder, RetrievalSettings(mode=mode))  # type: ignore[arg-type]
            assert all(_passes(r, h.citation.doc_id, filters) for h in side.search(question, filters, 10).hits)
        hits = r.search(question, filters, top_k=10).hits
        assert hits
        parties = filters.get("party")
        if isinstance(parties, list):
            assert {r.snapshot.docs[h.citation.doc_id].party for h in hits} == set(parties)
        for h in hits:
            doc = r.snapshot.docs[h.citation.doc_id]
            assert doc.party in ([parties] if isinstance(parties, str) else parties) if parties else True
            assert (doc.date or "") >= "2024-01-01" if "date_from" in filters else True
            assert h.citation.doc_id == "sv_2022_0915" if "doc_id" in filters else True


def _passes(r: Retriever, doc_id: str, filters: dict[str, Any]) -> bool:
    return Filters.parse(filters).matches(r.snapshot.docs[doc_id])


def test_reference_is_followed_and_said(sample_index: Index, fake_embedder: FakeEmbedder) -> None:
    r = Retriever(sample_index, fake_embedder)
    hits = r.search("onderwijs cyberveiligheid basisonderwijs opengesteld", {"doc_id": "sv_2023_1019"}, top_k=5).hits
    four = next(h for h in hits if h.citation.part == "4")
    assert four.citation.via_ref == "3" and "1,8 miljoen euro" in four.answer


def test_langchain_retriever(sample_index: Index, fake_embedder: FakeEmbedder) -> None:
    from langchain_core.documents import Document as LCDocument
    from langchain_core.retrievers import BaseRetriever

    lc = as_langchain(Assistant(Settings(), sample_index, fake_embedder), top_k=3)
    assert isinstance(lc, BaseRetriever)
    docs = lc.invoke("Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?")
    assert all(isinstance(d, LCDocument) for d in docs) and len(docs) == 3
    assert docs[0].metadata["doc_id"] == "sv_2023_0302" and docs[0].metadata["part"] == "1"
    assert docs[0].metadata["citation"].startswith("Fietssnelwegen")


def test_unknown_words_split_compounds_into_known_words() -> None:
    kw = KeywordIndex.build(
        [PartKey("a", "1"), PartKey("b", "1")],
        ["Alle tanks en pompen in België werden gecontroleerd op temperatuur.", "Een correctie voor de leraren."],
    )
    question = "Hebben alle tankpompen een temperatuurcorrectie na de fipronilcrisis in België?"
    assert kw.unknown_words(question) == ["fipronilcrisis"]
    assert kw.unknown_words("Een correctie van de crisis voor de leraren?") == ["crisis"]
    assert kw.unknown_words("") == []


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Where can victims get help?", "en"),  # no English function word of the old word list: it was read as Dutch
        ("How many interns did the Flemish government support in 2023?", "en"),
        ("What about Antwerp?", "en"),
        ("Waar kunnen slachtoffers hulp krijgen?", "nl"),
        ("Hoeveel stagiairs begeleidde de dienst Diversiteitsbeleid in 2023?", "nl"),
        ("Hoeveel geld trok de regering uit voor het instrumentenfonds voor fanfares?", "nl"),
        ("Is het budget verhoogd in 2023?", "nl"),  # "is", "in" are English words too
        ("Wie is bevoegd?", "nl"),
        ("En in Gent?", "nl"),  # too short to tell: the corpus's language
        ("2017?", "nl"),
        ("Quel est le budget de la police fédérale?", "fr"),
        ("Wie viel kostet das?", "de"),
    ],
)
def test_question_language(question: str, lang: str) -> None:
    assert language(question) == lang


def test_question_language_sets_the_keyword_weight(tmp_path: Path) -> None:
    """Only questions in the corpus's language get the keyword side: an English one is ranked by similarity alone."""
    (tmp_path / "a.txt").write_text(
        "Titel - Slachtoffers\n\n1. Waar kunnen slachtoffers hulp krijgen?\n1. Bij de dienst."
    )
    index = Index.in_memory(tmp_path / "idx")
    _ingest([tmp_path / "a.txt"], index, FakeEmbedder())
    settings = RetrievalSettings(keyword_weight=1.0, keyword_weight_en=0.0, context_weight=0.0, doc_weight=0.0)
    retriever = Retriever(index, FakeEmbedder(), settings)
    english = retriever.search("Where can victims get help, slachtoffers?")
    assert english.evidence.language == "en" and english.evidence.english
    assert english.hits[0].score == pytest.approx(english.hits[0].similarity)
    dutch = retriever.search("Waar kunnen slachtoffers hulp krijgen?")
    assert dutch.evidence.language == "nl"
    assert dutch.hits[0].score == pytest.approx(dutch.hits[0].similarity + 1.0)  # the best keyword score, relative


def test_unknown_but_common_words_do_not_refuse_on_a_tiny_corpus(tmp_path: Path) -> None:
    """A small corpus lacks everyday words by chance ('geld', 'minister'); only a word rare in Dutch generally (an
    invented one) says that the corpus lacks the subject."""
    (tmp_path / "f.txt").write_text(
        "Titel - Instrumentenfonds\n\n1. Hoeveel trok de Vlaamse Regering uit voor het instrumentenfonds voor fanfares?"
        "\n1. De Vlaamse Regering trok 750.000 euro uit voor het instrumentenfonds."
    )
    index = Index.in_memory(tmp_path / "idx")
    _ingest([tmp_path / "f.txt"], index, FakeEmbedder())
    app = Assistant.open(Settings(index_dir=tmp_path / "idx"), index=index, embedder=FakeEmbedder())
    only_words = AbstainPolicy(dutch=-1.0, english=-1.0, unknown_words=2.0)  # refuses on a rare unknown word alone
    common = "Hoeveel geld trok de minister uit voor het instrumentenfonds voor fanfares?"
    answer = app.ask(common, policy=only_words)
    assert set(answer.evidence.unknown_words) == {"geld", "minister"}  # the corpus lacks them ...
    assert not answer.abstained and answer.hits[0].citation.doc_id == "f"  # ... and still answers
    invented = app.ask("Hoeveel geld trok de regering uit voor het blorfenkwastfonds?", policy=only_words)
    assert invented.abstained and "'blorfenkwastfonds'" in invented.message and "'geld'" not in invented.message


# ---------------------------------------------------------------- real model, real Chroma server


@pytest.fixture(scope="module")
def e5_index(tmp_path_factory: pytest.TempPathFactory, e5_embedder: object) -> Path:
    folder = tmp_path_factory.mktemp("e5idx")
    ingest([CORPUS], Index.open(folder), lambda: e5_embedder, model_name="multilingual-e5-small", progress=False)  # type: ignore[arg-type,return-value]
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
    hits = r.search(question, top_k=5).hits
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
        Index.open(tmp_path / "idx", chroma_server),
        lambda: e5_embedder,
        model_name="multilingual-e5-small",  # type: ignore[arg-type,return-value]
        progress=False,
    )
    assert not (tmp_path / "idx" / "chroma").exists()
    settings = Settings(index_dir=tmp_path / "idx", cache_dir=e5_cache, chroma_url=chroma_server)
    app = Assistant.open(settings)
    for question, doc_id, fact in REAL_CASES:
        hits = app.search(question, top_k=5).hits
        assert hits[0].citation.doc_id == doc_id and fact in hits[0].answer


def test_an_index_on_a_chroma_server_opens_one_client(
    tmp_path: Path, chroma_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    calls: list[str] = []
    real = httpx.get
    monkeypatch.setattr(httpx, "get", lambda url, **kw: (calls.append(url), real(url, **kw))[1])
    idx = Index.open(tmp_path / "idx", chroma_server, "shared-client")
    try:
        assert idx.parts._client is idx.contexts._client  # type: ignore[attr-defined]
        assert calls == [chroma_server + "/api/v2/heartbeat"]  # one heartbeat: one client for both collections
        assert {idx.parts.name, idx.contexts.name} == {"shared-client", "shared-client-context"}  # type: ignore[attr-defined]
    finally:
        idx.close()


# ---------------------------------------------------------------- the part within a document


def test_every_part_gets_one_sub_question_vector_kept_while_its_text_stays(tmp_path: Path) -> None:
    emb = CountingEmbedder()
    first, _ = _ingest([CORPUS], tmp_path / "idx", emb)
    index = Index.open_existing(tmp_path / "idx")
    parts = {PartKey(d.doc_id, p.label): d for d in index.documents() for p in d.parts}
    stored = index.read_questions()
    assert set(stored.keys) == set(parts) and first.questions_embedded == len(parts) == emb.queries
    for key, vector in list(stored.by_key().items())[:5]:
        assert vector == pytest.approx(FakeEmbedder().embed_queries([question_text(parts[key], key.label)])[0])
    generation = index.manifest.generation  # type: ignore[union-attr]
    again, _ = _ingest([CORPUS], tmp_path / "idx", emb)
    assert again.questions_embedded == 0 and emb.queries == len(parts)
    assert index.manifest.generation == generation  # type: ignore[union-attr]  # nothing changed: same generation


def test_a_changed_question_is_embedded_again_and_a_removed_document_leaves(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("Titel - X\n\n1. Een?\n2. Twee?\n1. Antwoord een.\n2. Antwoord twee.\n", "utf-8")
    (src / "b.txt").write_text("Titel - Y\n\n1. Drie?\n1. Antwoord drie.\n", "utf-8")
    emb = CountingEmbedder()
    _ingest([src], tmp_path / "idx", emb)
    (src / "a.txt").write_text("Titel - X\n\n1. Een?\n2. Anders?\n1. Antwoord een.\n2. Antwoord twee.\n", "utf-8")
    before = emb.queries
    report, _ = _ingest([src / "a.txt"], tmp_path / "idx", emb)
    assert report.questions_embedded == 1 and emb.queries == before + 1
    index = Index.open_existing(tmp_path / "idx")
    vector = index.read_questions().by_key()[PartKey("a", "2")]
    assert vector == pytest.approx(FakeEmbedder().embed_queries(["Titel - X. Anders?"])[0])
    index.clear()
    assert not (tmp_path / "idx" / "questions.npz").exists()


def test_an_index_without_sub_question_vectors_gets_them_at_its_next_ingest_and_meanwhile_embeds_them(
    tmp_path: Path,
) -> None:
    emb = CountingEmbedder()
    _ingest([CORPUS], tmp_path / "idx", emb)
    with_file = Retriever(Index.open_existing(tmp_path / "idx"), emb)
    expected = [r.key for r in with_file.rank("Hoeveel stagiairs van buitenlandse herkomst?", Filters())]
    (tmp_path / "idx" / "questions.npz").unlink()  # as if ingested before they existed
    before = emb.queries
    without = Retriever(Index.open_existing(tmp_path / "idx"), emb)
    assert [r.key for r in without.rank("Hoeveel stagiairs van buitenlandse herkomst?", Filters())] == expected
    assert emb.queries > before + 1  # the question, and the sub-questions of the leading documents
    report, _ = _ingest([CORPUS], tmp_path / "idx", emb)
    assert report.questions_embedded == sum(len(d.parts) for d in Index.open_existing(tmp_path / "idx").documents())


def test_parts_are_reordered_within_their_document_and_documents_keep_their_places(
    sample_index: Index, fake_embedder: FakeEmbedder
) -> None:
    question = "Hoeveel stagiairs van buitenlandse herkomst had de Vlaamse overheid in 2022?"
    plain = Retriever(sample_index, fake_embedder, RetrievalSettings(question_weight=0.0)).rank(question, Filters(), 30)
    strong = RetrievalSettings(question_weight=1000.0, question_docs=2)
    ordered = Retriever(sample_index, fake_embedder, strong).rank(question, Filters(), 30)
    assert [r.key.doc_id for r in ordered] == [r.key.doc_id for r in plain]  # every place keeps its document
    assert [r.score for r in ordered] == [r.score for r in plain]  # and its score: the list stays in order
    docs = {d.doc_id: d for d in sample_index.documents()}
    vector = fake_embedder.embed_queries([question])[0]
    leading = list(dict.fromkeys(r.key.doc_id for r in plain))[:3]

    def asked(key: PartKey) -> float:
        return float(fake_embedder.embed_queries([question_text(docs[key.doc_id], key.label)])[0] @ vector)

    for doc_id in leading[:2]:  # with a weight this strong, the sub-question decides within each leading document
        mine = [r.key for r in ordered if r.key.doc_id == doc_id]
        assert [asked(k) for k in mine] == sorted((asked(k) for k in mine), reverse=True)
    third = leading[2]
    assert [r.key for r in ordered if r.key.doc_id == third] == [r.key for r in plain if r.key.doc_id == third]
