"""A deterministic embedder that needs no model: lower-cased words hashed into 64 buckets, so texts that share
words come out similar. The second implementation of `embed.Embedder`, for tests and for load tests of the
server's own overhead (`eval/load.py --embedder fake`); its similarities mean nothing about meaning.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Hashes lowercased words into a bag of 64 buckets (blake2b, stable across processes)."""

    name = "fake"
    dim = 64
    encoder = "fake"
    """Recorded in the manifest like a real embedder's; an index it built is opened by it again."""

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                # blake2b, not hash(): Python salts str hashes per process.
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                vectors[row, bucket % self.dim] += 1.0
            if not vectors[row].any():
                vectors[row, 0] = 1.0  # a text without words still gets a unit vector
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors
