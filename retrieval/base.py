"""The retrieval stages as protocols (Embedder, PassageIndex), the Hit record and search filters."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from extractor.schema import Passage, Span
from retrieval.errors import InvalidQueryError, UnknownDocumentError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


class QueryTruncatedWarning(UserWarning):
    """A query longer than ``max_query_chars`` was cut; the search ran on the first part."""


class Hit(BaseModel):
    """One passage found by a search, with where it lies and how each retriever ranked it."""

    model_config = ConfigDict(extra="forbid")

    passage_id: str = Field(description="Id of the passage: '<doc_id>:<index>'.")
    doc_id: str = Field(description="Id of the document holding the passage.")
    page: int = Field(ge=1, description="Page the passage lies on.")
    span: Span = Field(description="Where the passage lies in Document.text (half-open).")
    section: str | None = Field(default=None, description="Label of the section holding the passage.")
    kind: str | None = Field(default=None, description="Kind of the document: supplier_submission, clinical_paper or other.")
    text: str = Field(description="Text of the passage.")
    score: float = Field(description="Final score; higher is better. Comparable only within one result list.")
    bm25_rank: int | None = Field(default=None, ge=1, description="1-based rank in the BM25 results; None when BM25 missed it.")
    dense_rank: int | None = Field(default=None, ge=1, description="1-based rank in the dense results; None when dense search missed it.")
    bm25_score: float | None = Field(default=None, description="BM25 score, when BM25 found it.")
    dense_score: float | None = Field(default=None, description="Cosine similarity of query and passage, when dense search found it.")


class SearchFilters(BaseModel):
    """Restrict a search; every field left empty matches everything, and fields combine with AND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_ids: tuple[str, ...] | None = Field(default=None, description="Only passages of these documents (full ids).")
    kinds: tuple[str, ...] | None = Field(default=None, description="Only passages of documents of these kinds.")
    sections: tuple[str, ...] | None = Field(default=None, description="Only passages in sections with these labels.")
    pages: tuple[int, ...] | None = Field(default=None, description="Only passages on these pages.")

    @field_validator("doc_ids", "kinds", "sections", "pages", mode="before")
    @classmethod
    def _as_tuple(cls, v):
        if v is None:
            return None
        if isinstance(v, (str, int)):
            v = [v]
        v = tuple(dict.fromkeys(v))  # keep order, drop repeats
        if not v:
            raise ValueError("an empty list matches nothing: leave the filter out instead")
        return v

    @field_validator("pages")
    @classmethod
    def _pages(cls, v: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if v is not None and any(p < 1 for p in v):
            raise ValueError(f"pages are numbered from 1, got {list(v)}")
        return v

    def is_empty(self) -> bool:
        """True when the filters match every passage."""
        return all(getattr(self, f) is None for f in type(self).model_fields)

    def matches(self, meta: Mapping[str, object]) -> bool:
        """Whether a passage's metadata (doc_id, kind, section, page) passes the filters."""
        return (
            (self.doc_ids is None or meta.get("doc_id") in self.doc_ids)
            and (self.kinds is None or meta.get("kind") in self.kinds)
            and (self.sections is None or meta.get("section") in self.sections)
            and (self.pages is None or meta.get("page") in self.pages)
        )


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors; the same model embeds passages and queries."""

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Return a ``(len(texts), dimensions)`` float32 array of L2-normalised vectors."""
        ...


@runtime_checkable
class PassageIndex(Protocol):
    """A searchable set of passages, kept in step with the database by the caller."""

    name: str

    def add(self, passages: Sequence[Passage], *, kinds: Mapping[str, str] | None = None) -> int:
        """Add (or replace, by passage id) passages; ``kinds`` maps doc id to document kind. Returns how many."""
        ...

    def delete_document(self, doc_id: str) -> int:
        """Remove every passage of a document; returns how many were removed (0 when none)."""
        ...

    def search(self, query: str, k: int = 10, *, filters: SearchFilters | None = None) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first."""
        ...

    def count(self) -> int:
        """Number of passages held."""
        ...

    def doc_ids(self) -> set[str]:
        """Ids of the documents with at least one passage."""
        ...

    def has_document(self, doc_id: str) -> bool:
        """Whether the document has passages here (cheap: no scan of the whole index)."""
        ...

    def doc_counts(self) -> dict[str, int]:
        """Passages held per document id."""
        ...

    def clear(self) -> None:
        """Remove every passage."""
        ...


def prepare_query(query: str, *, max_chars: int) -> str:
    """Check a query and cut it to ``max_chars`` characters (at a word boundary when one is near).

    Raises:
        InvalidQueryError: the query is not a string or holds no word characters.

    Warns:
        QueryTruncatedWarning: the query was longer than ``max_chars``.
    """
    if not isinstance(query, str):
        raise InvalidQueryError(f"a query must be text, got {type(query).__name__}.", hint="Pass the query as a string.")
    text = " ".join(query.split())
    if not any(ch.isalnum() for ch in text):
        raise InvalidQueryError(f"the query {query[:40]!r} is empty.",
                                hint="Give some words to search for, e.g. `vbp search \"surgical site infection\"`.")
    if len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars + 1)
        cut = cut if cut > max_chars * 0.8 else max_chars
        note = f"the query has {len(text)} characters; searched on the first {cut} (max_query_chars = {max_chars})."
        log.info(note)
        warnings.warn(QueryTruncatedWarning(note), stacklevel=3)
        text = text[:cut]
    return text


def check_k(k: int) -> int:
    """Check the number of results asked for.

    Raises:
        InvalidQueryError: ``k`` is not a whole number from 1 to 10,000.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 10_000:
        raise InvalidQueryError(f"k must be a whole number from 1 to 10000, got {k!r}.", hint="Ask for fewer results, e.g. k=10.")
    return k


def passage_metadata(passage: Passage, kind: str | None) -> dict[str, object]:
    """The flat metadata every index stores with a passage (no None values: Chroma refuses them)."""
    return {
        "doc_id": passage.doc_id,
        "index": passage.index,
        "page": passage.page,
        "start": passage.span.start,
        "end": passage.span.end,
        "section": passage.section or "",
        "kind": kind or "",
    }


def hit_from(passage_id: str, text: str, meta: Mapping[str, object], *, score: float, **ranks: object) -> Hit:
    """Build a Hit from stored metadata (the inverse of :func:`passage_metadata`).

    The metadata was written from validated passages, so the hit is built without validating it again (a search
    builds a hundred of them); the values are still coerced to their types here.
    """
    return Hit.model_construct(
        passage_id=passage_id,
        doc_id=str(meta["doc_id"]),
        page=int(meta["page"]),  # type: ignore[arg-type]
        span=Span.model_construct(start=int(meta["start"]), end=int(meta["end"])),  # type: ignore[arg-type]
        section=str(meta.get("section") or "") or None,
        kind=str(meta.get("kind") or "") or None,
        text=text,
        score=float(score),
        **ranks,  # type: ignore[arg-type]
    )


def check_known_documents(filters: SearchFilters | None, known: set[str]) -> None:
    """Refuse a filter that names documents the index does not hold.

    Raises:
        UnknownDocumentError: some ids in ``filters.doc_ids`` are not in ``known``.
    """
    if filters is None or filters.doc_ids is None:
        return
    unknown = [d for d in filters.doc_ids if d not in known]
    if unknown:
        raise UnknownDocumentError(unknown, known=len(known))
