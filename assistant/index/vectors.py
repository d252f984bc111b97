"""Chroma as our vector store: the only module that imports chromadb. Owns the metadata dicts, the `where`
clauses, and one table that maps Chroma's and HTTP's exceptions to ours (in the manner of httpx's
`map_httpcore_exceptions`).

Chroma runs in-process on `index_dir/chroma` by default, or on a `chroma run` server when a URL is configured. A
server that goes away costs the requests made meanwhile a StoreUnavailableError, within CONNECT_TIMEOUT_S /
READ_TIMEOUT_S, and nothing more: the same object works again once the server is back, and a collection that was
re-created there (another id, same name) is found again by name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import numpy as np

from assistant.errors import ConfigError, IndexMissingError, StoreUnavailableError
from assistant.filters import Filters
from assistant.index.store import Entry
from assistant.types import PartKey

CONNECT_TIMEOUT_S = 3.0
"""How long to wait for a Chroma server to accept a connection (on loopback a dead one refuses at once)."""
READ_TIMEOUT_S = 10.0
"""How long one request to a Chroma server may take; a query answers in milliseconds, an upsert batch in a second."""
_FIELDS = ("minister", "department", "party", "asker")


# ---------------------------------------------------------------- exceptions


class _CollectionGone(Exception):
    """The store no longer knows the collection by the id we hold (internal: retried by name)."""


def _exception_map() -> tuple[tuple[type[BaseException], type[Exception] | None], ...]:
    """Chroma/HTTP exception class -> ours, first match wins; None: a >= 500 status decides."""
    from chromadb.errors import InternalError, NotFoundError

    return (
        (NotFoundError, _CollectionGone),
        (httpx.HTTPStatusError, None),
        (httpx.TransportError, StoreUnavailableError),  # refused, reset, timed out, hung up mid-answer
        (ConnectionError, StoreUnavailableError),
        (TimeoutError, StoreUnavailableError),
        (OSError, StoreUnavailableError),
        (InternalError, StoreUnavailableError),
    )


def _mapped_class(exc: BaseException) -> type[Exception] | None:
    for source, ours in _exception_map():
        if isinstance(exc, source):
            if ours is None and isinstance(exc, httpx.HTTPStatusError):
                return StoreUnavailableError if exc.response.status_code >= 500 else None
            return ours
    # chromadb's HTTP client raises a bare Exception for an error answer that is not its own JSON (a proxy's 502)
    return StoreUnavailableError if type(exc) is Exception else None


@contextlib.contextmanager
def _mapped(where: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        ours = _mapped_class(exc)
        if ours is StoreUnavailableError:
            raise StoreUnavailableError(_down_message(where, exc)) from exc
        if ours is _CollectionGone:
            raise _CollectionGone(str(exc)) from exc
        raise


def _down_message(where: str, exc: BaseException) -> str:
    reason = str(exc) or type(exc).__name__
    if where.startswith(("http://", "https://")):
        return (
            f"The Chroma server at {where} is not answering ({reason}). Check that `chroma run` is running there, "
            "then ask again."
        )
    return f"The Chroma store in {where} cannot be opened ({reason})."


# ---------------------------------------------------------------- metadata


def _metadata(entry: Entry) -> dict[str, str | int]:
    meta: dict[str, str | int] = {"doc_id": entry.doc_id}
    if entry.part:
        meta["part"] = entry.part
        meta["piece"] = entry.piece
    for key in _FIELDS:
        value = getattr(entry, key)
        if value:
            meta[key] = value
    if entry.date is not None:
        meta["date"] = entry.date
    if entry.via_ref:
        meta["via_ref"] = entry.via_ref
    return meta


def _entry(entry_id: str, text: str, meta: dict[str, Any]) -> Entry:
    date = meta.get("date")
    return Entry(
        entry_id,
        str(meta.get("doc_id", entry_id)),
        text,
        str(meta.get("part", "")),
        int(meta.get("piece", 0)),
        meta.get("via_ref"),
        minister=meta.get("minister"),
        department=meta.get("department"),
        party=meta.get("party"),
        asker=meta.get("asker"),
        date=int(date) if date is not None else None,
    )


def _key(chunk_id: str, meta: dict[str, Any] | None) -> PartKey:
    if meta and "part" in meta:
        return PartKey(str(meta["doc_id"]), str(meta["part"]))
    return PartKey.parse(chunk_id)


def where_clause(filters: Filters) -> dict[str, Any] | None:
    """A Chroma `where` for the filters."""
    clauses: list[dict[str, Any]] = [
        {k: vs[0]} if len(vs) == 1 else {k: {"$in": list(vs)}} for k, vs in filters.fields_set().items()
    ]
    low, high = filters.date_range
    if low is not None:
        clauses.append({"date": {"$gte": low}})
    if high is not None:
        clauses.append({"date": {"$lte": high}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


# ---------------------------------------------------------------- the store


class ChromaVectors:
    """A Chroma collection of vectors, local or on a server."""

    def __init__(self, client: Any, where: str, name: str) -> None:
        """`client`: one from `chroma_client`, shared by the collections of an index."""
        self.where = where
        self.name = name
        self._client = client
        with _mapped(where):
            self._col: Any = client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )

    def upsert(self, entries: Sequence[Entry], vectors: np.ndarray) -> None:
        if entries:
            self._on_collection(
                "upsert",
                ids=[e.id for e in entries],
                embeddings=np.asarray(vectors, dtype=np.float32),
                documents=[e.text for e in entries],
                metadatas=[_metadata(e) for e in entries],
            )

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self._on_collection("delete", ids=ids)

    def count(self) -> int:
        return int(self._on_collection("count"))

    def all_ids(self) -> list[str]:
        ids: list[str] = []
        total, step = self.count(), 5000
        for offset in range(0, total, step):
            ids += self._on_collection("get", include=[], limit=step, offset=offset)["ids"]
        return ids

    def query(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[PartKey, float]]:
        res = self._on_collection(
            "query",
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=max(1, k),
            where=where_clause(filters),
            include=["distances", "metadatas"],
        )
        ids, dists, metas = res["ids"][0], res["distances"][0], res["metadatas"][0]
        return [(_key(i, m), 1.0 - float(d)) for i, d, m in zip(ids, dists, metas, strict=True)]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        res = self._on_collection("get", ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(res["ids"], res["embeddings"], strict=True)}

    def entries(self, ids: Sequence[str]) -> list[tuple[Entry, np.ndarray]]:
        """The stored entries of those ids that exist, with their vectors (to copy an index)."""
        if not ids:
            return []
        res = self._on_collection("get", ids=list(ids), include=["embeddings", "documents", "metadatas"])
        out = []
        for i, vector, text, meta in zip(
            res["ids"], res["embeddings"], res["documents"], res["metadatas"], strict=True
        ):
            out.append((_entry(i, text or "", dict(meta or {})), np.asarray(vector, dtype=np.float32)))
        return out

    def drop(self) -> None:
        with _mapped(self.where), contextlib.suppress(_CollectionGone):
            self._client.delete_collection(name=self.name)

    def clear(self) -> None:
        """Drop the collection and start an empty one of the same name."""
        self.drop()
        with _mapped(self.where):
            self._col = self._client.get_or_create_collection(
                self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )

    def _on_collection(self, method: str, **kwargs: Any) -> Any:
        """Call a method of the collection; when the store no longer knows it by its id, look it up by name once."""
        try:
            with _mapped(self.where):
                return getattr(self._col, method)(**kwargs)
        except _CollectionGone:
            pass
        try:
            with _mapped(self.where):
                self._col = self._client.get_collection(name=self.name)
        except _CollectionGone as exc:
            raise IndexMissingError(
                f"The Chroma store at {self.where} has no collection {self.name!r} any more - run "
                "`assistant ingest PATH... --rebuild` to fill it again."
            ) from exc
        with _mapped(self.where):
            return getattr(self._col, method)(**kwargs)


def open_collections(index_dir: Path, chroma_url: str | None, *names: str) -> list[ChromaVectors]:
    """The named collections of an index, through one client (one heartbeat, one HTTP session on a server)."""
    client = chroma_client(index_dir, chroma_url)
    where = chroma_url or str(index_dir / "chroma")
    return [ChromaVectors(client, where, name) for name in names]


def chroma_client(index_dir: Path, chroma_url: str | None = None) -> Any:
    """A Chroma client: on the server at `chroma_url`, or the local store in `index_dir/chroma`."""
    import chromadb

    settings = chromadb.Settings(anonymized_telemetry=False)
    where = chroma_url or str(index_dir / "chroma")
    url = urlparse(chroma_url or "")
    if chroma_url and not url.hostname:
        raise ConfigError(f"Chroma URL {chroma_url!r} has no host; use e.g. http://127.0.0.1:8000")
    with _mapped(where):
        try:
            if not chroma_url:
                return chromadb.PersistentClient(path=where, settings=settings)
            # chromadb's own first request has no timeout: a server that accepts but never answers would hang the
            # caller, so ask the heartbeat first, with ours.
            httpx.get(chroma_url.rstrip("/") + "/api/v2/heartbeat", timeout=_timeout()).raise_for_status()
            client = chromadb.HttpClient(
                host=url.hostname or "", port=url.port or 8000, ssl=url.scheme == "https", settings=settings
            )
        except httpx.HTTPStatusError as exc:
            raise StoreUnavailableError(_down_message(where, exc)) from exc
        except ValueError as exc:  # chromadb's client refuses a server it cannot talk to
            raise StoreUnavailableError(_down_message(where, exc)) from exc
    _set_timeouts(client)
    return client


def drop_collections(index_dir: Path, chroma_url: str | None, *names: str) -> None:
    """Delete the collections (for --rebuild), locally or on the server, through one client."""
    if not chroma_url and not (index_dir / "chroma").exists():
        return
    for col in open_collections(index_dir, chroma_url, *names):
        col.drop()


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)


def _set_timeouts(client: Any) -> None:
    """Give chromadb's HTTP session our timeouts: it makes it with none, so a stalled server would hang a request."""
    # chromadb has no setting for this; its HTTP client keeps an httpx.Client in `_server._session`.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = _timeout()
