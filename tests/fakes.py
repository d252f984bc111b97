"""Test doubles for the pipeline's I/O seams: the package's deterministic `Embedder` that needs no model."""

from __future__ import annotations

from assistant.hashing_embedder import HashingEmbedder as FakeEmbedder

__all__ = ["FakeEmbedder"]
