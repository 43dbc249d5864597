"""langchain adapters only: a retriever over HybridSearcher and the Chroma collection as a langchain VectorStore.

langchain types never leave this module: the rest of vbp-evidence works with ``Hit`` and ``Passage``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from retrieval.base import Embedder, Hit, SearchFilters

if TYPE_CHECKING:
    from retrieval.index import ChromaPassageIndex
    from retrieval.search import HybridSearcher

__all__ = ["EmbedderEmbeddings", "HybridRetriever", "as_vectorstore", "hit_to_document"]


def hit_to_document(hit: Hit) -> Document:
    """A langchain Document: the passage text, and the hit's fields (span flattened to start/end) as metadata."""
    meta = hit.model_dump(exclude={"text", "span"})
    meta["start"], meta["end"] = hit.span.start, hit.span.end
    return Document(page_content=hit.text, metadata=meta, id=hit.passage_id)


class HybridRetriever(BaseRetriever):
    """A langchain retriever over :class:`retrieval.search.HybridSearcher` (BM25 + dense, fused).

    Errors of the searcher (``InvalidQueryError``, ``UnknownDocumentError``, ``IndexCorruptError``) pass through.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any = Field(description="The HybridSearcher to query.")
    k: int | None = Field(default=None, description="Passages per query; None: the searcher's top_k.")
    filters: SearchFilters | None = Field(default=None, description="Filters applied to every query.")

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [hit_to_document(h) for h in self.searcher.search(query, self.k, filters=self.filters)]


class EmbedderEmbeddings(Embeddings):
    """A vbp :class:`~retrieval.base.Embedder` seen as langchain ``Embeddings``."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages."""
        return self.embedder.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (the model is symmetric: same as a passage)."""
        return self.embedder.embed([text])[0].tolist()


def as_vectorstore(index: ChromaPassageIndex | HybridSearcher):
    """The index's Chroma collection as a ``langchain_chroma.Chroma`` vector store, embedding with our embedder.

    Similarity search through it is dense only; use :class:`HybridRetriever` for the fused search. Writes through
    it bypass the BM25 index and the database, so use it for reading.
    """
    from langchain_chroma import Chroma

    dense = getattr(index, "dense", index)
    return Chroma(client=dense._client, collection_name=dense.collection_name, embedding_function=EmbedderEmbeddings(dense.embedder),
                  create_collection_if_not_exists=False)
