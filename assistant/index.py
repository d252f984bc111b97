"""The index on disk: Chroma for part vectors, SQLite for the parsed documents, bm25s for keywords, a manifest.

The only module that imports chromadb; Chunk <-> metadata conversion happens here and nowhere else. Chroma runs
in-process on `index_dir/chroma` by default, or on a `chroma run` server when a URL is configured. The other
parts always live in `index_dir`. Deciding what to embed is chunk.py's job, ranking is retrieve.py's.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.chunk import CHUNKER_VERSION, KEYWORDS_VERSION, Chunk, part_id, part_search_text
from assistant.errors import ConfigError, IndexMismatchError, IndexMissingError, StoreUnavailableError
from assistant.types import Document

MANIFEST = "manifest.json"
FILTER_KEYS = ("minister", "department", "party", "asker", "date_from", "date_to", "doc_id")


@dataclass(frozen=True)
class Manifest:
    """What the index was built with; a different model or dimension cannot share it."""

    model: str
    dim: int
    chunker_version: str = CHUNKER_VERSION
    collection: str = "parts"
    created: str = ""

    @classmethod
    def read(cls, index_dir: Path) -> Manifest | None:
        path = index_dir / MANIFEST
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def write(self, index_dir: Path) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        tmp = index_dir / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        tmp.replace(index_dir / MANIFEST)

    def check(self, model: str, dim: int, index_dir: Path) -> None:
        if (self.model, self.dim) != (model, dim):
            raise IndexMismatchError(
                f"The index in {index_dir} was built with {self.model} (dimension {self.dim}), not {model} "
                f"(dimension {dim}). Rebuild it: `assistant ingest PATH... --index {index_dir} --rebuild`."
            )


def date_number(iso: str | None) -> int | None:
    """ "2017-03-15" -> 20170315, the form Chroma's range filters need."""
    if not iso:
        return None
    digits = iso[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else None


def validate_filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    """Known filter keys with non-empty string values; ConfigError for anything else."""
    out: dict[str, str] = {}
    for key, value in (filters or {}).items():
        if key not in FILTER_KEYS:
            raise ConfigError(f"unknown filter {key!r}; use one of {', '.join(FILTER_KEYS)}")
        if value is None or value == "":
            continue
        if key in ("date_from", "date_to") and date_number(str(value)) is None:
            raise ConfigError(f"filter {key} needs an ISO date like 2017-03-15, got {value!r}")
        out[key] = str(value)
    return out


def where_clause(filters: Mapping[str, str]) -> dict[str, Any] | None:
    """A Chroma `where` for validated filters."""
    clauses: list[dict[str, Any]] = []
    for key in ("minister", "department", "party", "asker", "doc_id"):
        if key in filters:
            clauses.append({key: filters[key]})
    if "date_from" in filters:
        clauses.append({"date": {"$gte": date_number(filters["date_from"])}})
    if "date_to" in filters:
        clauses.append({"date": {"$lte": date_number(filters["date_to"])}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matches(doc: Document, filters: Mapping[str, str]) -> bool:
    """The same filters applied to a Document in memory (for the keyword side)."""
    for key in ("minister", "department", "party", "asker", "doc_id"):
        if key in filters and getattr(doc, key) != filters[key]:
            return False
    number = date_number(doc.date)
    if "date_from" in filters and (number is None or number < (date_number(filters["date_from"]) or 0)):
        return False
    return not ("date_to" in filters and (number is None or number > (date_number(filters["date_to"]) or 0)))


def chunk_metadata(doc: Document, chunk: Chunk) -> dict[str, str | int]:
    meta: dict[str, str | int] = {"doc_id": doc.doc_id, "part": chunk.part, "piece": chunk.piece}
    for key in ("minister", "department", "party", "asker"):
        value = getattr(doc, key)
        if value:
            meta[key] = value
    number = date_number(doc.date)
    if number is not None:
        meta["date"] = number
    if chunk.via_ref:
        meta["via_ref"] = chunk.via_ref
    return meta


# ---------------------------------------------------------------- documents (SQLite)


class DocStore:
    """Parsed documents with their fingerprint and chunk ids; the record of what the index holds."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS docs (doc_id TEXT PRIMARY KEY, fingerprint TEXT, chunk_ids TEXT, body TEXT)"
        )
        self._db.commit()

    def fingerprints(self) -> dict[str, tuple[str, list[str]]]:
        rows = self._db.execute("SELECT doc_id, fingerprint, chunk_ids FROM docs")
        return {d: (f, json.loads(c)) for d, f, c in rows}

    def put(self, doc: Document, fp: str, chunk_ids: Sequence[str]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?)",
            (doc.doc_id, fp, json.dumps(list(chunk_ids)), json.dumps(doc.to_dict(), ensure_ascii=False)),
        )

    def commit(self) -> None:
        self._db.commit()

    def get(self, doc_id: str) -> Document | None:
        row = self._db.execute("SELECT body FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document.from_dict(json.loads(row[0])) if row else None

    def all(self) -> Iterator[Document]:
        for (body,) in self._db.execute("SELECT body FROM docs ORDER BY doc_id"):
            yield Document.from_dict(json.loads(body))

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def close(self) -> None:
        self._db.close()


# ---------------------------------------------------------------- vectors (Chroma)


class VectorStore:
    """A Chroma collection of chunk vectors, local or on a server.

    A server that goes away costs the requests made meanwhile a StoreUnavailableError, within CONNECT_TIMEOUT_S /
    READ_TIMEOUT_S, and nothing more: the same object works again once the server is back, and a collection that was
    re-created there (another id, same name) is found again by name.
    """

    def __init__(self, index_dir: Path, collection: str, chroma_url: str | None = None, client: Any = None) -> None:
        """`client`: one from `chroma_client` to share between collections; made here when not given."""
        self.where = chroma_url or str(index_dir / "chroma")
        self.name = collection
        self._client: Any = client if client is not None else chroma_client(index_dir, chroma_url)
        try:
            self._col: Any = self._client.get_or_create_collection(
                collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        except Exception as exc:  # chromadb raises plain Exceptions for a server that is down
            raise StoreUnavailableError(_down_message(self.where, exc)) from exc

    def upsert(self, ids: list[str], vectors: np.ndarray, texts: list[str], metas: list[dict[str, Any]]) -> None:
        self._on_collection("upsert", ids=ids, embeddings=vectors, documents=texts, metadatas=metas)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self._on_collection("delete", ids=ids)

    def delete_doc(self, doc_id: str, keep: Iterable[str] = ()) -> None:
        """Remove every chunk of `doc_id` except those in `keep` (stale ones from an older version)."""
        found = self._on_collection("get", where={"doc_id": doc_id}, include=[])
        stale = set(found["ids"]) - set(keep)
        self.delete(stale)

    def count(self) -> int:
        return int(self._on_collection("count"))

    def all_ids(self) -> list[str]:
        ids: list[str] = []
        total, step = self.count(), 5000
        for offset in range(0, total, step):
            ids += self._on_collection("get", include=[], limit=step, offset=offset)["ids"]
        return ids

    @staticmethod
    def drop(index_dir: Path, chroma_url: str | None, *collections: str) -> None:
        """Delete the collections (for --rebuild), locally or on the server, through one client."""
        if not chroma_url and not (index_dir / "chroma").exists():
            return
        client = chroma_client(index_dir, chroma_url)
        for name in collections:
            store = VectorStore(index_dir, name, chroma_url, client)
            store._call(client.delete_collection, name=name)

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None) -> list[tuple[str, float, dict]]:
        """Nearest chunks as (chunk_id, cosine similarity, metadata)."""
        n = min(k, max(1, self.count()))
        res = self._on_collection(
            "query",
            query_embeddings=vector.reshape(1, -1),
            n_results=n,
            where=where,
            include=["distances", "metadatas"],
        )
        ids, dists, metas = res["ids"][0], res["distances"][0], res["metadatas"][0]
        return [(i, 1.0 - float(d), dict(m or {})) for i, d, m in zip(ids, dists, metas, strict=True)]

    def get_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        res = self._on_collection("get", ids=ids, include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(res["ids"], res["embeddings"], strict=True)}

    def _on_collection(self, method: str, **kwargs: Any) -> Any:
        """Call a method of the collection; when the store no longer knows it by its id, look it up by name once."""
        try:
            return self._call(getattr(self._col, method), **kwargs)
        except Exception as exc:
            if not _collection_gone(exc):
                raise
        try:
            self._col = self._call(self._client.get_collection, name=self.name)
        except Exception as exc:
            if _collection_gone(exc):
                raise IndexMissingError(
                    f"The Chroma store at {self.where} has no collection {self.name!r} any more - run "
                    "`assistant ingest PATH... --rebuild` to fill it again."
                ) from exc
            raise
        return self._call(getattr(self._col, method), **kwargs)

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except Exception as exc:
            if _unavailable(exc):
                raise StoreUnavailableError(_down_message(self.where, exc)) from exc
            raise


def chroma_client(index_dir: Path, chroma_url: str | None = None) -> Any:
    """A Chroma client: on the server at `chroma_url`, or the local store in `index_dir/chroma`. One serves every
    collection of an index."""
    import chromadb

    settings = chromadb.Settings(anonymized_telemetry=False)
    where = chroma_url or str(index_dir / "chroma")
    try:
        if not chroma_url:
            return chromadb.PersistentClient(path=where, settings=settings)
        url = urlparse(chroma_url)
        if not url.hostname:
            raise ConfigError(f"Chroma URL {chroma_url!r} has no host; use e.g. http://127.0.0.1:8000")
        # chromadb's own first request has no timeout: a server that accepts but never answers would hang the
        # caller, so ask the heartbeat first, with ours.
        _heartbeat(chroma_url)
        client = chromadb.HttpClient(
            host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https", settings=settings
        )
        _set_timeouts(client)
        return client
    except ConfigError:
        raise
    except Exception as exc:  # chromadb raises plain Exceptions for a server that is down
        raise StoreUnavailableError(_down_message(where, exc)) from exc


def _down_message(where: str, exc: BaseException) -> str:
    reason = str(exc) or type(exc).__name__
    if where.startswith(("http://", "https://")):
        return (
            f"The Chroma server at {where} is not answering ({reason}). Check that `chroma run` is running there, "
            "then ask again."
        )
    return f"The Chroma store in {where} cannot be opened ({reason})."


CONNECT_TIMEOUT_S = 3.0
"""How long to wait for a Chroma server to accept a connection (on loopback a dead one refuses at once)."""
READ_TIMEOUT_S = 10.0
"""How long one request to a Chroma server may take; a query answers in milliseconds, an upsert batch in a second."""


def _timeout() -> Any:
    import httpx

    return httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)


def _heartbeat(chroma_url: str) -> None:
    """Raise (httpx.TransportError, HTTPStatusError) unless the server answers its heartbeat within the timeouts."""
    import httpx

    httpx.get(chroma_url.rstrip("/") + "/api/v2/heartbeat", timeout=_timeout()).raise_for_status()


def _set_timeouts(client: Any) -> None:
    """Give chromadb's HTTP session our timeouts: it makes it with none, so a stalled server would hang a request."""
    import httpx

    # chromadb has no setting for this; its HTTP client keeps an httpx.Client in `_server._session`.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = _timeout()


def _unavailable(exc: BaseException) -> bool:
    """Whether an exception from chromadb means the store cannot be reached (rather than a bad request)."""
    import httpx

    if isinstance(exc, ConnectionError | OSError | TimeoutError | httpx.TransportError):
        return True  # refused, reset, timed out, or the server hung up mid-answer
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    name = type(exc).__name__
    return "Connect" in name or "Timeout" in name or "Unavailable" in name


def _collection_gone(exc: BaseException) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError) or (isinstance(exc, ValueError) and "does not exist" in str(exc))


# ---------------------------------------------------------------- keywords (bm25s)


COMPOUND_PART_MIN = 3
"""The shortest word a compound is split into when looking for words the corpus never uses."""


def fold_accents(text: str) -> str:
    """ "België" -> "Belgie": exports often lose diacritics ("categorieen"), so both sides drop them."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("dutch")


def _stopwords() -> list[str]:
    from bm25s.stopwords import STOPWORDS_DUTCH

    return list(STOPWORDS_DUTCH)


class KeywordIndex:
    """BM25 over texts with Dutch stemming; row i of the index is key i."""

    def __init__(self, keys: list[str], model: Any) -> None:
        self.keys = keys
        self._model = model
        self._stem = _stemmer()
        self._stop = set(_stopwords())
        self._split_cache: dict[str, tuple[str, ...]] = {}

    @classmethod
    def build(cls, keys: list[str], texts: list[str]) -> KeywordIndex:
        import bm25s

        model = bm25s.BM25()
        if texts:
            folded = [fold_accents(t) for t in texts]
            tokens = bm25s.tokenize(folded, stopwords=_stopwords(), stemmer=_stemmer(), show_progress=False)
            model.index(tokens, show_progress=False)
        return cls(keys, model)

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        self._model.save(str(tmp))
        (tmp / "keys.json").write_text(json.dumps(self.keys), encoding="utf-8")
        (tmp / "version.txt").write_text(KEYWORDS_VERSION, encoding="utf-8")
        if folder.exists():
            import shutil

            shutil.rmtree(folder)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        keys = json.loads((folder / "keys.json").read_text(encoding="utf-8"))
        return cls(keys, bm25s.BM25.load(str(folder)))

    def terms(self, text: str) -> list[str]:
        """The stemmed, accent-folded content words of a text, as the index sees them."""
        import bm25s

        return list(
            bm25s.tokenize(
                fold_accents(text),
                stopwords=list(self._stop),
                stemmer=self._stem,
                return_ids=False,
                show_progress=False,
            )[0]
        )

    def unknown_words(self, text: str) -> list[str]:
        """The words of `text` the corpus never uses, not even as parts of a compound ("fipronilcrisis" when no
        document mentions fipronil; "tankpompen" is known through "tank" and "pomp")."""
        out: list[str] = []
        for word in dict.fromkeys(re.findall(r"\w\w+", text)):
            stems = self.terms(word)
            if stems and not all(self.split(t) for t in stems):
                out.append(word)
        return out

    def split(self, term: str) -> tuple[str, ...]:
        """A stemmed term as the indexed terms it is made of: itself when indexed, else the parts of the compound
        (longest known head first, with a linking -s-, -e-, -en-: "brandstofstal" -> brandstof, stal); () when
        it does not split into known words."""
        if term not in self._split_cache:
            found: tuple[str, ...] = (term,) if term in self._model.vocab_dict else ()
            for i in range(len(term) - COMPOUND_PART_MIN, COMPOUND_PART_MIN - 1, -1):
                if found:
                    break
                head = self._head_form(term[:i])
                if head:
                    tail = self._form(term[i:])
                    rest = (tail,) if tail else self.split(term[i:])
                    found = (head, *rest) if rest else ()
            self._split_cache[term] = found
        return self._split_cache[term]

    def _form(self, word: str) -> str | None:
        """The indexed form of a word: as it is, or its stem."""
        vocab = self._model.vocab_dict
        if word in vocab:
            return word
        stem = self._stem.stemWord(word)
        return stem if stem in vocab else None

    def _head_form(self, head: str) -> str | None:
        for h in [head] + [head[: -len(link)] for link in ("s", "e", "en") if head.endswith(link)]:
            form = self._form(h) if len(h) >= COMPOUND_PART_MIN else None
            if form:
                return form
        return None

    def idf(self, term: str) -> float:
        """Inverse document frequency over the indexed parts; a term the index never saw gets the highest."""
        n = int(self._model.scores["num_docs"]) if self.keys else 0
        col = self._model.vocab_dict.get(term)
        df = 0
        if col is not None:
            indptr = self._model.scores["indptr"]
            df = int(indptr[col + 1] - indptr[col])
        return float(np.log(1 + n / (1 + df)))

    def scores(self, query: str) -> np.ndarray:
        """A BM25 score for every row (zeros when no query word is known)."""
        if not self.keys:
            return np.zeros(0, dtype=np.float32)
        vocab = self._model.vocab_dict
        known = [t for t in self.terms(query) if t in vocab]
        if not known:
            return np.zeros(len(self.keys), dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)


# ---------------------------------------------------------------- the whole index


def context_collection(collection: str) -> str:
    return f"{collection}-context"


class Index:
    """Everything in one index folder, opened for reading and writing."""

    def __init__(self, index_dir: Path, collection: str = "parts", chroma_url: str | None = None) -> None:
        self.dir = index_dir
        self.collection = collection
        self.chroma_url = chroma_url
        self.docs = DocStore(index_dir / "docs.sqlite")
        try:
            client = chroma_client(index_dir, chroma_url)
            self.vectors = VectorStore(index_dir, collection, chroma_url, client)
            self.contexts = VectorStore(index_dir, context_collection(collection), chroma_url, client)
            """One vector per document (chunk.context_text), keyed by doc_id."""
        except Exception:
            self.docs.close()  # the web layer retries while the store is down: leak no connection per try
            raise

    @classmethod
    def open_existing(cls, index_dir: Path, chroma_url: str | None = None) -> Index:
        manifest = Manifest.read(index_dir)
        if manifest is None:
            raise IndexMissingError(
                f"No index in {index_dir}/ - run `assistant ingest corpus/ --index {index_dir}` first."
            )
        return cls(index_dir, manifest.collection, chroma_url)

    @property
    def manifest(self) -> Manifest | None:
        return Manifest.read(self.dir)

    def write_keywords(self, docs: Iterable[Document]) -> KeywordIndex:
        keys, texts = [], []
        for doc in docs:
            for part in doc.parts:
                keys.append(part_id(doc.doc_id, part.label))
                texts.append(part_search_text(doc, part))
        kw = KeywordIndex.build(keys, texts)
        kw.save(self.dir / "bm25")
        return kw

    def keywords_current(self) -> bool:
        """Whether the keyword index exists and was built from today's part_search_text."""
        folder = self.dir / "bm25"
        version = folder / "version.txt"
        return (folder / "keys.json").exists() and version.exists() and version.read_text().strip() == KEYWORDS_VERSION

    def read_keywords(self) -> KeywordIndex:
        folder = self.dir / "bm25"
        if not (folder / "keys.json").exists():
            raise IndexMissingError(f"The keyword index in {folder} is missing - run `assistant ingest` again.")
        return KeywordIndex.load(folder)

    def close(self) -> None:
        self.docs.close()


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")
