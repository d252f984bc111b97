"""Test doubles for the pipeline's I/O seams: the package's deterministic `Embedder` that needs no model, and the
"Eerder gesteld?" cut-off that goes with it."""

from __future__ import annotations

from assistant.earlier import SimilarPolicy
from assistant.hashing_embedder import HashingEmbedder as FakeEmbedder

FAKE_SIMILAR = SimilarPolicy(cutoff=0.7, strong=0.8)
"""The fake embedder's "Eerder gesteld?" cut-off, measured on the sample corpus: a sub-question the corpus asks
almost word for word scores about 0.85, drafts about things it never mentions (palace doors, the king's dog) at
most 0.65 (their shared function words)."""

__all__ = ["FAKE_SIMILAR", "FakeEmbedder"]
