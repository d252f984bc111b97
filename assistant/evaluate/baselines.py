"""The reference systems run beside ours in the same process on the same documents: `naive-rag` (1000-character
chunks with 200 overlap over whole documents, dense search with the same model and prefixes) and `bm25` (whole
documents, Dutch stemming). Their vectors are built once and kept beside the index under `baselines/`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from assistant import text
from assistant.evaluate.gold import Case
from assistant.evaluate.metrics import Outcome
from assistant.filters import Filters
from assistant.index import KeywordIndex
from assistant.types import Document, PartKey

NAIVE_CHUNK, NAIVE_OVERLAP = 1000, 200


class Bm25Docs:
    """Baseline: BM25 over whole documents with Dutch stemming."""

    def __init__(self, docs: Mapping[str, Document]) -> None:
        self.docs = docs
        keys = list(docs)
        self.keys = keys
        texts = [f"{docs[k].title}\n{docs[k].question_text}\n{docs[k].answer_text}" for k in keys]
        self.index = KeywordIndex.build([PartKey(k, "") for k in keys], texts)

    def run(self, cases: Sequence[Case]) -> list[Outcome]:
        out = []
        for case in cases:
            t = time.perf_counter()
            scores = self.index.scores(text.terms(case.question))
            f = Filters.parse(case.filters)
            order = [i for i in np.argsort(-scores)[:200] if scores[i] > 0]
            ranked = [self.keys[i] for i in order if not f or f.matches(self.docs[self.keys[i]])][:10]
            seconds = time.perf_counter() - t
            first = self.docs[ranked[0]].answer_text if ranked else ""
            out.append(Outcome(case, [], ranked, first, False, seconds))
        return out


def _text_key(model: str, text: str) -> str:
    return hashlib.sha1(f"{model}\n{text}".encode()).hexdigest()


class NaiveRag:
    """Baseline: fixed-size character chunks over whole documents, dense search only."""

    def __init__(self, docs: Mapping[str, Document], embedder: Any, folder: Path, progress: bool = True) -> None:
        self.docs = docs
        self.embedder = embedder
        chunks: list[tuple[str, str]] = []
        for doc_id in sorted(docs):
            d = docs[doc_id]
            text = f"{d.title}\n{d.question_text}\n{d.answer_text}"
            step = NAIVE_CHUNK - NAIVE_OVERLAP
            for start in range(0, max(1, len(text) - NAIVE_OVERLAP), step):
                chunks.append((doc_id, text[start : start + NAIVE_CHUNK]))
        self.chunks = chunks
        self.vectors = self._load_or_build(folder, progress)

    def _load_or_build(self, folder: Path, progress: bool) -> np.ndarray:
        """Vectors per chunk text, cached by the text's hash: only chunks not seen before are embedded."""
        hashes = [_text_key(self.embedder.name, text) for _, text in self.chunks]
        vec_path, meta_path = folder / "vectors.npy", folder / "meta.json"
        cached: dict[str, np.ndarray] = {}
        if meta_path.exists() and vec_path.exists():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            old = np.load(vec_path)
            if len(meta.get("hashes", [])) == len(old):
                cached = dict(zip(meta["hashes"], old, strict=True))
        missing = sorted({h: i for i, h in enumerate(hashes) if h not in cached}.values())
        batch = 64
        for start in tqdm(range(0, len(missing), batch), desc="naive-rag vectors", unit="batch", disable=not progress):
            rows = missing[start : start + batch]
            vectors = self.embedder.embed_passages([self.chunks[i][1] for i in rows])
            cached.update((hashes[i], v) for i, v in zip(rows, vectors, strict=True))
        out = np.vstack([cached[h] for h in hashes]) if hashes else np.zeros((0, self.embedder.dim), np.float32)
        if missing or not meta_path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / "vectors.tmp.npy", out)
            (folder / "vectors.tmp.npy").replace(vec_path)
            meta_path.write_text(json.dumps({"hashes": hashes}), encoding="utf-8")
        return out

    def run(self, cases: Sequence[Case]) -> list[Outcome]:
        out = []
        for case in cases:
            t = time.perf_counter()
            q = self.embedder.embed_queries([case.question])[0]
            sims = self.vectors @ q
            f = Filters.parse(case.filters)
            ranked_chunks = []
            for i in np.argsort(-sims)[:400]:
                doc_id = self.chunks[i][0]
                if not f or f.matches(self.docs[doc_id]):
                    ranked_chunks.append(i)
                if len(ranked_chunks) >= 50:
                    break
            docs: list[str] = []
            for i in ranked_chunks:
                if self.chunks[i][0] not in docs:
                    docs.append(self.chunks[i][0])
            seconds = time.perf_counter() - t
            first = self.chunks[ranked_chunks[0]][1] if ranked_chunks else ""
            out.append(Outcome(case, [], docs[:10], first, False, seconds))
        return out
