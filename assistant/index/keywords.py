"""The keyword side of the index: BM25 (bm25s) over each part's search text, with Dutch stemming and folded
accents (assistant.text), and the words the corpus never uses, compounds split into known words.

Row i of the BM25 matrix is part `keys[i]`. Saved atomically (a new folder renamed into place), so a reader never
sees a half-written keyword index. Ranking with these scores is retrieve.py's job.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from assistant import text
from assistant.errors import IndexMissingError
from assistant.types import PartKey

KEYWORDS_VERSION = "2"
"""Changes when chunk.part_search_text does, so that ingest rebuilds an older keyword index."""


class KeywordIndex:
    """BM25 over texts; row i is `keys[i]`."""

    def __init__(self, keys: list[PartKey], model: Any) -> None:
        self.keys = keys
        self._model = model
        self._split_cache: dict[str, tuple[str, ...]] = {}

    @classmethod
    def build(cls, keys: list[PartKey], texts: list[str]) -> KeywordIndex:
        import bm25s

        model = bm25s.BM25()
        if texts:
            model.index(text.tokenize(texts), show_progress=False)
        return cls(keys, model)

    # -- storage

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        if self.keys:
            self._model.save(str(tmp))
        (tmp / "keys.json").write_text(json.dumps([str(k) for k in self.keys]), encoding="utf-8")
        (tmp / "version.txt").write_text(KEYWORDS_VERSION, encoding="utf-8")
        old = folder.with_name(folder.name + ".old")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        if old.exists():
            shutil.rmtree(old)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        path = folder / "keys.json"
        if not path.exists():
            raise IndexMissingError(f"The keyword index in {folder} is missing - run `assistant ingest` again.")
        keys = [PartKey.parse(k) for k in json.loads(path.read_text(encoding="utf-8"))]
        model = bm25s.BM25.load(str(folder)) if keys else bm25s.BM25()
        return cls(keys, model)

    @staticmethod
    def current(folder: Path) -> bool:
        """Whether the keyword index in `folder` exists and was built from today's search texts."""
        version = folder / "version.txt"
        return (folder / "keys.json").exists() and version.exists() and version.read_text().strip() == KEYWORDS_VERSION

    # -- reading

    def _vocab(self) -> dict[str, int]:
        return getattr(self._model, "vocab_dict", None) or {}

    def unknown_words(self, question: str) -> list[str]:
        """The words of `question` the corpus never uses, not even as parts of a compound ("fipronilcrisis" when no
        document mentions fipronil; "tankpompen" is known through "tank" and "pomp")."""
        out: list[str] = []
        for word in text.words(question):
            stems = text.terms(word)
            if stems and not all(self.split(t) for t in stems):
                out.append(word)
        return out

    def split(self, term: str) -> tuple[str, ...]:
        """A stemmed term as the indexed terms it is made of (see text.split_compound); cached."""
        if term not in self._split_cache:
            self._split_cache[term] = text.split_compound(term, self._form)
        return self._split_cache[term]

    def _form(self, word: str) -> str | None:
        """The indexed form of a word: as it is, or its stem."""
        vocab = self._vocab()
        if word in vocab:
            return word
        stem = text.stemmer().stemWord(word)
        return stem if stem in vocab else None

    def idf(self, term: str) -> float:
        """Inverse document frequency over the indexed parts; a term the index never saw gets the highest."""
        if not self.keys:
            return 0.0
        n = int(self._model.scores["num_docs"])
        col = self._vocab().get(term)
        df = 0
        if col is not None:
            indptr = self._model.scores["indptr"]
            df = int(indptr[col + 1] - indptr[col])
        return float(np.log(1 + n / (1 + df)))

    def scores(self, terms: list[str]) -> np.ndarray:
        """A BM25 score for every row, for the question's terms (zeros when none is known)."""
        if not self.keys:
            return np.zeros(0, dtype=np.float32)
        vocab = self._vocab()
        known = [t for t in terms if t in vocab]
        if not known:
            return np.zeros(len(self.keys), dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)
