"""Texts -> L2-normalised vectors: the `Embedder` protocol, the model folder it runs, and the torch encoder.

`open_embedder` picks the encoder: torch (sentence-transformers) here, ONNX Runtime in fp32 or int8 in
`onnx_embed.py`; all run the same model folder, which for the default e5 is built by `e5_folder.py`. Storing and
searching the vectors is the index's concern, not this module's; so is the process environment (set by the entry
points, never here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.config import ENCODERS
from assistant.errors import ConfigError
from assistant.model_folder import folder_prompts, model_folder


class Embedder(Protocol):
    """Turns texts into float32 rows of unit length; queries and passages may be embedded differently."""

    name: str
    """The model, as the index manifest records it."""
    dim: int
    encoder: str
    """What runs the model ("torch", "onnx", "onnx-int8"): int8 vectors differ slightly from the others."""

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def encoder_of(embedder: Embedder) -> str:
    """How an embedder runs its model (torch, onnx, onnx-int8, fake); the manifest records it."""
    return str(getattr(embedder, "encoder", "torch"))


def open_embedder(
    model: str | Path | None = None,
    cache_dir: Path | None = None,
    encoder: str = "onnx",
    batch_size: int = 32,
    threads: int | None = None,
) -> Embedder:
    """The embedder for `model` run by `encoder`; `threads` caps its intra-op threads (None: the library's choice)."""
    if encoder == "torch":
        return SentenceTransformerEmbedder(model, cache_dir, batch_size=batch_size, threads=threads)
    if encoder in ("onnx", "onnx-int8"):
        from assistant.onnx_embed import OnnxEmbedder

        return OnnxEmbedder(model, cache_dir, quantized=encoder == "onnx-int8", batch_size=batch_size, threads=threads)
    raise ConfigError(f"Unknown encoder {encoder!r}; use one of {', '.join(ENCODERS)}.")


class SentenceTransformerEmbedder:
    """An `Embedder` backed by a sentence-transformers model folder on disk, run by torch on the CPU in float32."""

    encoder = "torch"

    def __init__(
        self,
        model: str | Path | None = None,
        cache_dir: Path | None = None,
        batch_size: int = 32,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.name, path = model_folder(model, cache_dir)
        prompts = folder_prompts(path)
        self.query_prefix = query_prefix if query_prefix is not None else prompts.get("query", "")
        self.passage_prefix = passage_prefix if passage_prefix is not None else prompts.get("passage", "")
        self.batch_size = batch_size

        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        if threads:
            torch.set_num_threads(threads)  # for the whole process: torch has no per-model setting
        hf_logging.disable_progress_bar()  # "Loading weights" bars on every start; ingest has its own
        self._model = _load_lean(SentenceTransformer, str(path), torch)
        # sentence-transformers 6 renamed the method; 5 has only the old name.
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise ConfigError(f"Embedding model {model!r} does not say its dimension; pick another model.")
        self.dim = int(dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts to be searched."""
        return self._encode([self.passage_prefix + text for text in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries."""
        return self._encode([self.query_prefix + text for text in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _load_lean(loader: Any, path: str, torch: Any) -> Any:
    """Load the model for float32 CPU inference, but keep the word-embedding table as stored.

    The table (250k pieces x 384) is most of the weights. Loaded as float16 it stays memory-mapped from the
    folder; only the rows a batch looks up are cast to float32, so the vectors are the same while the serving
    process holds about half a gigabyte less. Other models are loaded in float32 as they are.
    """
    model = loader(path, device="cpu", local_files_only=True, model_kwargs={"dtype": torch.float16})
    auto = getattr(model[0], "auto_model", None)
    embeddings = getattr(auto, "embeddings", None)
    word = getattr(embeddings, "word_embeddings", None)
    if embeddings is not None and isinstance(word, torch.nn.Embedding) and word.weight.dtype == torch.float16:
        embeddings.word_embeddings = _HalfEmbedding(word.weight.detach(), torch)
    return model.float()


class _HalfEmbedding:
    """An embedding lookup over a float16 table that returns float32 rows (kept out of `.float()`)."""

    def __new__(cls, weight: Any, torch: Any) -> Any:
        class HalfEmbedding(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.table = [weight]  # a list, so Module.float() leaves the table as it is
                self.embedding_dim = int(weight.shape[1])
                self.num_embeddings = int(weight.shape[0])

            def forward(self, ids: Any) -> Any:
                return torch.nn.functional.embedding(ids, self.table[0]).float()

        return HalfEmbedding()
