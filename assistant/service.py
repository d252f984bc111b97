"""Wiring: settings in, a ready Retriever out (index opened, model loaded once). Shared by CLI, web and eval."""

from __future__ import annotations

from pathlib import Path

from assistant.config import Settings
from assistant.embed import Embedder, open_embedder
from assistant.errors import IndexMissingError
from assistant.index import Index, Manifest
from assistant.retrieve import RetrievalSettings, Retriever


def make_embedder(settings: Settings, threads: int | None = None) -> Embedder:
    return open_embedder(
        settings.model, settings.cache_dir, settings.encoder, batch_size=settings.batch_size, threads=threads
    )


def open_retriever(
    settings: Settings, index_dir: Path | None = None, retrieval: RetrievalSettings | None = None
) -> Retriever:
    """Open the index and load the model it was built with; clear errors when either is missing."""
    folder = index_dir or settings.index_dir
    manifest = Manifest.read(folder)
    if manifest is None:
        raise IndexMissingError(f"No index in {folder}/ - run `assistant ingest corpus/ --index {folder}` first.")
    index = Index(folder, manifest.collection, settings.chroma_url)
    embedder = None
    if retrieval is None or retrieval.mode != "bm25":
        embedder = make_embedder(settings)
        manifest.check(settings.model, embedder.dim, folder)
    return Retriever(index, embedder, retrieval)
