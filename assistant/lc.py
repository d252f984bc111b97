"""LangChain adapter: the part retriever as a `BaseRetriever`, so it drops into any LangChain chain.

Kept apart so that LangChain types never leak into the rest of the package.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class PartRetriever(BaseRetriever):
    """Returns one LangChain Document per cited part: the answer text, with the citation in its metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    filters: dict[str, Any] = {}
    top_k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun | None = None
    ) -> list[LCDocument]:
        out = []
        for hit in self.retriever.search(query, self.filters, self.top_k):
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
            out.append(
                LCDocument(
                    page_content=hit.answer,
                    metadata={k: v for k, v in metadata.items() if v is not None},
                    id=f"{c.doc_id}#{c.part}",
                )
            )
        return out
