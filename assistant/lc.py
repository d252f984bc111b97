"""LangChain adapter: the part retriever as a `BaseRetriever`, so it drops into any LangChain chain.

Kept apart so that LangChain types never leak into the rest of the package.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from assistant.application import TOP_K_MAX
from assistant.types import Hit


def _document(hit: Hit) -> LCDocument:
    c = hit.citation
    metadata = {
        "doc_id": c.doc_id,
        "part": c.part,
        "title": c.title,
        "date": c.date,
        "minister": c.minister,
        "department": c.department,
        "via_ref": c.via_ref,
        "citation": c.label(),
        "question": hit.question,
        "score": hit.score,
    }
    return LCDocument(
        page_content=hit.answer,
        metadata={k: v for k, v in metadata.items() if v is not None},
        id=f"{c.doc_id}#{c.part}",
    )


class PartRetriever(BaseRetriever):
    """Returns one LangChain Document per retrieved part: the answer text, with the citation in its metadata.

    `top_k` (and `filters`) set in the constructor are the defaults; `invoke(query, top_k=..., filters=...)`
    overrides them for one call.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any
    """An `assistant.Assistant`."""
    filters: dict[str, Any] = Field(default_factory=dict)
    top_k: int = Field(5, ge=1, le=TOP_K_MAX)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun | None = None,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[LCDocument]:
        k = self.top_k if top_k is None else top_k
        chosen = self.filters if filters is None else filters
        return [_document(hit) for hit in self.assistant.search(query, chosen, k).hits]


def as_langchain(assistant: Any, filters: dict[str, Any] | None = None, top_k: int = 5) -> PartRetriever:
    """The assistant's retrieval as a LangChain `BaseRetriever` returning `Document`s with citation metadata."""
    return PartRetriever(assistant=assistant, filters=dict(filters or {}), top_k=top_k)
