"""The index: one folder (documents, keywords, manifest) and a vector store, behind `Index`'s domain interface.

Rooms: `core` (Index), `docs` (documents in SQLite, Manifest), `keywords` (BM25), `store` (what a vector store
holds and does), `vectors` (Chroma: the only module that imports chromadb), `memory` (numpy, for tests).
"""

from assistant.index.core import Index, context_collection
from assistant.index.docs import Manifest
from assistant.index.keywords import KeywordIndex
from assistant.index.store import Entry, VectorStore

__all__ = ["Entry", "Index", "KeywordIndex", "Manifest", "VectorStore", "context_collection"]
