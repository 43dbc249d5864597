"""Hybrid search (BM25 + dense, fused), the rerank extension point, consistency checks and rebuilds."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from extractor.schema import Passage
from retrieval.base import Hit, PassageIndex, SearchFilters, check_k, check_known_documents, prepare_query
from retrieval.errors import REINDEX_HINT, IndexOutOfStepError, RetrievalError
from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)

__all__ = [
    "ConsistencyReport",
    "Hit",
    "HybridSearcher",
    "Reranker",
    "SearchFilters",
    "blend_fuse",
    "check_consistency",
    "ensure_consistent",
    "open_searcher",
    "rebuild",
    "rrf_fuse",
    "snippet",
]


@runtime_checkable
class Reranker(Protocol):
    """Re-orders the fused candidates of a search (the extension point for a trained reranker).

    ``rerank`` receives the fused candidates, best first (at most ``HybridSearcher.rerank_depth`` of them), and
    returns the hits it keeps, best first, with ``score`` set to its own score. It must not invent passages.
    """

    name: str

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """Return ``hits`` re-ordered (and possibly cut), best first."""
        ...


def rrf_fuse(rankings: Sequence[tuple[str, float, list[Hit]]], *, k: int = 60) -> list[Hit]:
    """Weighted reciprocal rank fusion: score = sum over rankings of ``weight / (k + rank)``.

    Args:
        rankings: ``(retriever name, weight, hits best first)``; the name is ``"bm25"`` or ``"dense"``.
        k: The RRF constant; larger values flatten the weight of the top ranks.

    Returns:
        One hit per passage, best first (ties broken by passage id), carrying both retrievers' ranks and scores.
    """
    fused = _Fused()
    for name, weight, hits in rankings:
        for rank, hit in enumerate(hits, start=1):
            fused.add(name, hit, weight / (k + rank))
    return fused.ordered()


def blend_fuse(rankings: Sequence[tuple[str, float, list[Hit]]]) -> list[Hit]:
    """Weighted sum of min-max normalised scores (a passage a retriever missed counts 0 there), divided by the weights.

    Returns:
        One hit per passage, best first (ties broken by passage id).
    """
    fused = _Fused()
    total = sum(w for _, w, _ in rankings) or 1.0
    for name, weight, hits in rankings:
        if not hits:
            continue
        lo, hi = min(h.score for h in hits), max(h.score for h in hits)
        for hit in hits:
            norm = (hit.score - lo) / (hi - lo) if hi > lo else 1.0
            fused.add(name, hit, weight * norm / total)
    return fused.ordered()


class _Fused:
    """Scores and per-retriever ranks gathered by passage id; each Hit is copied once, at the end."""

    def __init__(self) -> None:
        self.hits: dict[str, Hit] = {}
        self.scores: dict[str, float] = {}
        self.fields: dict[str, dict[str, object]] = {}

    def add(self, name: str, hit: Hit, score: float) -> None:
        pid = hit.passage_id
        self.hits.setdefault(pid, hit)
        self.scores[pid] = self.scores.get(pid, 0.0) + score
        fields = self.fields.setdefault(pid, {})
        if name == "bm25":
            fields.update(bm25_rank=hit.bm25_rank, bm25_score=hit.bm25_score)
        else:
            fields.update(dense_rank=hit.dense_rank, dense_score=hit.dense_score)

    def ordered(self) -> list[Hit]:
        order = sorted(self.scores, key=lambda pid: (-self.scores[pid], pid))
        return [self.hits[pid].model_copy(update={**self.fields[pid], "score": self.scores[pid]}) for pid in order]


QUERY_CACHE = 2048
"""Query embeddings remembered by a searcher (1.5 kB each)."""


class HybridSearcher:
    """BM25 and dense search over the same passages, fused; itself a PassageIndex that writes to both.

    Args:
        dense: The dense index (Chroma, or the in-memory one in tests).
        bm25: The BM25 index.
        settings: Fusion method, weights, depths and query limits.
        reranker: Optional second stage applied to the fused candidates (see :class:`Reranker`).
        rerank_depth: How many fused candidates the reranker sees.
    """

    name = "search.hybrid.v1"

    def __init__(self, *, dense: PassageIndex, bm25: PassageIndex, settings: RetrievalSettings | None = None,
                 reranker: Reranker | None = None, rerank_depth: int = 50) -> None:
        self.dense = dense
        self.bm25 = bm25
        self.settings = settings or RetrievalSettings()
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self._query_vectors: OrderedDict[str, object] = OrderedDict()
        self._query_lock = threading.Lock()

    @property
    def components(self) -> dict[str, PassageIndex]:
        """The indexes searched, by name; consistency checks look at each."""
        return {"dense": self.dense, "bm25": self.bm25}

    # --- writing: both indexes, dense first (the slow one that can fail on the embedder) ------------

    def add(self, passages: Sequence[Passage], *, kinds: Mapping[str, str] | None = None, vectors=None) -> int:
        """Add or replace passages in both indexes (``vectors``: their embeddings, computed already by the same embedder).

        Raises:
            IndexCorruptError: either index cannot be written (the other may then be ahead: `vbp reindex`).
        """
        passages = list(passages)
        self.dense.add(passages, kinds=kinds, **({"vectors": vectors} if vectors is not None else {}))
        self.bm25.add(passages, kinds=kinds)
        return len(passages)

    def delete_document(self, doc_id: str) -> int:
        """Remove a document's passages from both indexes; returns how many the dense index held."""
        removed = self.dense.delete_document(doc_id)
        self.bm25.delete_document(doc_id)
        return removed

    def clear(self) -> None:
        """Remove every passage from both indexes."""
        self.dense.clear()
        self.bm25.clear()

    def count(self) -> int:
        """Passages in the dense index."""
        return self.dense.count()

    def doc_ids(self) -> set[str]:
        """Documents in the dense index."""
        return self.dense.doc_ids()

    def doc_counts(self) -> dict[str, int]:
        """Passages per document in the dense index."""
        return self.dense.doc_counts()

    def has_document(self, doc_id: str) -> bool:
        """Whether both indexes hold passages of the document (ingest uses this to re-index an unchanged file
        whose indexing failed before)."""
        return self.bm25.has_document(doc_id) and self.dense.has_document(doc_id)

    # --- searching ----------------------------------------------------------------------------------

    def search(self, query: str, k: int | None = None, *, filters: SearchFilters | None = None) -> list[Hit]:
        """The ``k`` best passages for ``query`` (default ``settings.top_k``), fused from BM25 and dense search.

        Each hit carries its BM25 and dense ranks (None where that retriever missed it) and the fused score.

        Raises:
            InvalidQueryError: an empty query or a bad ``k``.
            UnknownDocumentError: the filters name documents that are not indexed.
            IndexCorruptError: an index cannot be read (run `vbp reindex`).

        Warns:
            QueryTruncatedWarning: the query was longer than ``settings.max_query_chars`` and was cut.
        """
        s = self.settings
        k = check_k(s.top_k if k is None else k)
        text = prepare_query(query, max_chars=s.max_query_chars)
        if filters is not None and filters.doc_ids is not None:
            check_known_documents(filters, self.bm25.doc_ids())
        depth = max(s.candidates, k, self.rerank_depth if self.reranker else 0)
        rankings = []
        if s.bm25_weight > 0:
            rankings.append(("bm25", s.bm25_weight, self.bm25.search(text, depth, filters=filters)))
        if s.dense_weight > 0:
            rankings.append(("dense", s.dense_weight, self._dense_search(text, depth, filters)))
        fused = rrf_fuse(rankings, k=s.rrf_k) if s.fusion == "rrf" else blend_fuse(rankings)
        if self.reranker is not None:
            given = fused[: self.rerank_depth]
            head = self.reranker.rerank(text, list(given))
            returned = [h.passage_id for h in head]
            if not set(returned) <= {h.passage_id for h in given} or len(set(returned)) != len(returned):
                raise RetrievalError(f"the reranker {self.reranker.name!r} returned passages it was not given, or one twice.",
                                     hint="This is a bug in the reranker; search without it meanwhile.")
            fused = head + fused[self.rerank_depth :]
        return fused[:k]

    def _dense_search(self, text: str, depth: int, filters: SearchFilters | None) -> list[Hit]:
        # the documents were checked against BM25's above; the Chroma index would check them again, one query per document
        search_vector, embedder = getattr(self.dense, "search_vector", None), getattr(self.dense, "embedder", None)
        if search_vector is None or embedder is None:
            return self.dense.search(text, depth, filters=filters)
        return search_vector(self._query_vector(embedder, text), depth, filters=filters)

    def _query_vector(self, embedder, text: str):
        """The query's embedding; the last ``QUERY_CACHE`` distinct queries are remembered (a user paging through results,
        or changing a filter, asks the same query again; a claim check asks each claim's twice)."""
        with self._query_lock:
            vector = self._query_vectors.get(text)
            if vector is not None:
                self._query_vectors.move_to_end(text)
                return vector
        vector = embedder.embed([text])[0]
        with self._query_lock:
            self._query_vectors[text] = vector
            while len(self._query_vectors) > QUERY_CACHE:
                self._query_vectors.popitem(last=False)
        return vector

    def close(self) -> None:
        """Close both indexes."""
        for index in (self.dense, self.bm25):
            close = getattr(index, "close", None)
            if close is not None:
                close()


# --- snippets --------------------------------------------------------------------------------------


def snippet(text: str, query: str, *, width: int = 240) -> tuple[str, list[tuple[int, int]]]:
    """A window of ``text`` around the densest run of query terms, and the spans of those terms in the window.

    Terms match as BM25 matches them (lower case, stop words dropped, same stem), so "infections" in the text
    lights up for "infection" in the query.

    Returns:
        ``(window, spans)``: the window (with "…" where text was cut) and half-open ``(start, end)`` offsets of
        the matched words within it, for the caller to highlight.
    """
    import re

    from retrieval.bm25 import tokenise

    wanted = set(tokenise(query))
    words = [(m.start(), m.end()) for m in re.finditer(r"[^\W_]+", text)]
    hits = [(s, e) for s, e in words if (stems := tokenise(text[s:e])) and stems[0] in wanted]
    if len(text) <= width:
        return text, hits
    start = 0
    if hits:  # the window start that covers the most matched words
        best = max(range(len(hits)), key=lambda i: sum(1 for s, e in hits[i:] if e <= hits[i][0] + width))
        start = max(0, min(hits[best][0] - width // 5, len(text) - width))
        while start > 0 and not text[start - 1].isspace():  # do not cut a word in two
            start -= 1
    end = min(len(text), start + width)
    while end < len(text) and not text[end].isspace() and end - start < width + 20:
        end += 1
    prefix = "…" if start > 0 else ""
    window = prefix + text[start:end] + ("…" if end < len(text) else "")
    shift = len(prefix) - start
    return window, [(s + shift, e + shift) for s, e in hits if s >= start and e <= end]


# --- consistency and rebuilds ----------------------------------------------------------------------


@dataclass(slots=True)
class ConsistencyReport:
    """How an index differs from the database (per component for a hybrid index)."""

    missing: dict[str, int] = field(default_factory=dict)  # doc id -> passages expected, not indexed at all
    extra: dict[str, int] = field(default_factory=dict)  # doc id -> passages indexed, not in the database
    mismatched: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc id -> (expected, indexed)
    components: dict[str, ConsistencyReport] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the index holds exactly the expected passages per document."""
        return not (self.missing or self.extra or self.mismatched) and all(c.ok for c in self.components.values())

    def summary(self) -> str:
        """One line saying what is out of step, e.g. 'dense: 2 documents missing; bm25: 1 extra'."""
        if self.components:
            return "; ".join(f"{name}: {c.summary()}" for name, c in self.components.items() if not c.ok) or "in step"
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} documents not indexed")
        if self.extra:
            parts.append(f"{len(self.extra)} documents indexed but not in the database")
        if self.mismatched:
            parts.append(f"{len(self.mismatched)} documents with a different passage count")
        return ", ".join(parts) or "in step"


def check_consistency(index: PassageIndex, expected: Mapping[str, int]) -> ConsistencyReport:
    """Compare the passages an index holds per document with what the database expects.

    Args:
        index: Any PassageIndex; for a HybridSearcher each component is checked.
        expected: doc id -> number of passages in the database.

    Raises:
        IndexCorruptError: the index cannot be read.
    """
    components = getattr(index, "components", None)
    if components:
        report = ConsistencyReport()
        report.components = {name: check_consistency(part, expected) for name, part in components.items()}
        return report
    held = index.doc_counts()
    report = ConsistencyReport()
    for doc_id, n in expected.items():
        have = held.get(doc_id, 0)
        if n and not have:
            report.missing[doc_id] = n
        elif have != n:
            report.mismatched[doc_id] = (n, have)
    for doc_id, have in held.items():
        if doc_id not in expected:
            report.extra[doc_id] = have
    return report


def ensure_consistent(index: PassageIndex, expected: Mapping[str, int]) -> ConsistencyReport:
    """Like :func:`check_consistency`, but raise when the index is out of step.

    Raises:
        IndexOutOfStepError: the index and the database disagree (the message says how).
        IndexCorruptError: the index cannot be read.
    """
    report = check_consistency(index, expected)
    if not report.ok:
        raise IndexOutOfStepError(f"the passage index is out of step with the database ({report.summary()}).", hint=REINDEX_HINT)
    return report


def rebuild(
    index: PassageIndex,
    passages: Iterable[Passage],
    *,
    kinds: Mapping[str, str] | None = None,
    total: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    chunk: int = 256,
) -> int:
    """Empty the index and add every passage again, in chunks.

    Args:
        index: The index to rebuild (a HybridSearcher rebuilds both of its indexes).
        passages: Every passage in the database, in any order (read lazily).
        kinds: doc id -> document kind, stored with each passage for kind filters.
        total: Number of passages, when known, for the progress callback.
        progress: Called after each chunk with (passages done, total).
        chunk: Passages per write.

    Returns:
        The number of passages indexed.

    Raises:
        IndexCorruptError: the index cannot be written (for a corrupted Chroma folder, open the index with
            ``reset=True`` first: :func:`open_searcher` does this).
    """
    index.clear()
    done = 0
    batch: list[Passage] = []
    for passage in passages:
        batch.append(passage)
        if len(batch) >= chunk:
            done += index.add(batch, kinds=kinds)
            batch = []
            if progress:
                progress(done, total)
    if batch:
        done += index.add(batch, kinds=kinds)
    if progress:
        progress(done, total)
    return done


def open_searcher(settings: RetrievalSettings, *, data_dir: Path, reset: bool = False) -> HybridSearcher:
    """Open the configured hybrid index: Chroma (embedded in ``<index folder>/chroma`` or a server) plus BM25.

    Args:
        settings: Retrieval settings.
        data_dir: The data folder; the index folder defaults to ``<data_dir>/index``.
        reset: Start from empty indexes (deleting a corrupted Chroma folder); for `vbp reindex`.

    Raises:
        IndexCorruptError: an index folder cannot be read (and ``reset`` is False).
        IndexMismatchError: the index was built with another embedder.
        IndexUnavailableError: the Chroma server cannot be reached.
        EmbedderError: the embedder cannot be built.
    """
    from retrieval.bm25 import BM25Index
    from retrieval.embedder import make_embedder
    from retrieval.index import ChromaPassageIndex

    folder = settings.index_path(data_dir)
    cache = settings.model_cache_path()
    embedder = make_embedder(settings.embedder, cache_dir=cache, max_length=settings.max_length)
    dense = ChromaPassageIndex(folder / "chroma", embedder=embedder, collection=settings.collection, url=settings.chroma_url,
                               cache_dir=cache, batch_size=settings.batch_size, max_query_chars=settings.max_query_chars, reset=reset)
    bm25_folder = folder / ("bm25" if settings.chroma_url is None else f"bm25-{settings.collection}")
    if reset:
        import shutil

        shutil.rmtree(bm25_folder, ignore_errors=True)
    bm25 = BM25Index(bm25_folder, k1=settings.bm25_k1, b=settings.bm25_b, max_query_chars=settings.max_query_chars)
    reranker = None
    if settings.reranker == "linear.v1":
        from retrieval.rerank import get_reranker

        reranker = get_reranker()
    return HybridSearcher(dense=dense, bm25=bm25, settings=settings, reranker=reranker, rerank_depth=settings.rerank_depth)
