"""Hybrid search: fusion on hand-made rankings, the searcher over real BM25 and in-memory dense, rerank hook, rebuilds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from extractor.schema import Passage, Span
from retrieval.base import Hit, PassageIndex, SearchFilters
from retrieval.bm25 import BM25Index
from retrieval.errors import RetrievalError
from retrieval.index import MemoryPassageIndex
from retrieval.search import (
    HybridSearcher,
    Reranker,
    blend_fuse,
    check_consistency,
    ensure_consistent,
    rebuild,
    rrf_fuse,
    snippet,
)
from retrieval.settings import RetrievalSettings
from tests.retrieval import FakeEmbedder, corpus_passages


def _hit(pid: str, score: float, *, bm25: int | None = None, dense: int | None = None) -> Hit:
    return Hit(passage_id=pid, doc_id=pid.split(":")[0], page=1, span=Span(start=0, end=1), text=pid, score=score,
               bm25_rank=bm25, bm25_score=score if bm25 else None, dense_rank=dense, dense_score=score if dense else None)


def _ranking(name: str, pids: Sequence[str], scores: Sequence[float]) -> list[Hit]:
    key = "bm25" if name == "bm25" else "dense"
    return [_hit(p, s, **{key: r}) for r, (p, s) in enumerate(zip(pids, scores, strict=True), start=1)]


class ScriptedIndex:
    """A PassageIndex double answering every query with a fixed ranking (filters applied), for fusion tests."""

    def __init__(self, name: str, pids: Sequence[str], scores: Sequence[float]) -> None:
        self.name = name
        self.ranking = _ranking(name, pids, scores)

    def add(self, passages: Sequence[Passage], *, kinds: Mapping[str, str] | None = None) -> int:
        return 0

    def delete_document(self, doc_id: str) -> int:
        return 0

    def search(self, query: str, k: int = 10, *, filters: SearchFilters | None = None) -> list[Hit]:
        return [h for h in self.ranking if filters is None or filters.matches(h.model_dump())][:k]

    def count(self) -> int:
        return len(self.ranking)

    def doc_ids(self) -> set[str]:
        return {h.doc_id for h in self.ranking}

    def doc_counts(self) -> dict[str, int]:
        return {d: sum(h.doc_id == d for h in self.ranking) for d in self.doc_ids()}

    def has_document(self, doc_id: str) -> bool:
        return doc_id in self.doc_ids()

    def clear(self) -> None:
        self.ranking = []


BM25_ORDER = (["a:0", "b:0", "c:0"], [9.0, 5.0, 1.0])
DENSE_ORDER = (["c:0", "a:0", "d:0"], [0.9, 0.8, 0.1])


@pytest.mark.parametrize(
    ("weights", "k", "expected"),
    [
        ((1.0, 1.0), 60, ["a:0", "c:0", "b:0", "d:0"]),  # a: 1/61 + 1/62 beats c: 1/63 + 1/61
        ((0.0, 1.0), 60, ["c:0", "a:0", "d:0", "b:0"]),  # dense alone decides; b only in BM25 gets 0
        ((10.0, 1.0), 1, ["a:0", "b:0", "c:0", "d:0"]),  # heavy BM25 and a small k: BM25's order
    ],
)
def test_search_rrf_fuse_orders_by_weighted_reciprocal_rank(weights, k, expected) -> None:
    fused = rrf_fuse([("bm25", weights[0], _ranking("bm25", *BM25_ORDER)), ("dense", weights[1], _ranking("dense", *DENSE_ORDER))], k=k)
    assert [h.passage_id for h in fused] == expected
    a = fused[[h.passage_id for h in fused].index("a:0")]
    assert (a.bm25_rank, a.dense_rank, a.bm25_score, a.dense_score) == (1, 2, 9.0, 0.8)
    assert next(h for h in fused if h.passage_id == "d:0").bm25_rank is None


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        # normalised: bm25 a=1, b=.5, c=0; dense c=1, a=.875, d=0
        ((1.0, 1.0), ["a:0", "c:0", "b:0", "d:0"]),
        ((1.0, 4.0), ["a:0", "c:0", "b:0", "d:0"]),  # a: (1 + 3.5)/5 = .9 > c: 4/5 = .8
        ((1.0, 9.0), ["c:0", "a:0", "b:0", "d:0"]),  # c: .9 > a: (1 + 7.875)/10
    ],
)
def test_search_blend_fuse_orders_by_normalised_scores(weights, expected) -> None:
    fused = blend_fuse([("bm25", weights[0], _ranking("bm25", *BM25_ORDER)), ("dense", weights[1], _ranking("dense", *DENSE_ORDER))])
    assert [h.passage_id for h in fused] == expected
    assert fused[0].score <= 1.0


@pytest.mark.parametrize("fuse", [rrf_fuse, blend_fuse])
def test_search_fusion_breaks_ties_by_passage_id(fuse) -> None:
    fused = fuse([("bm25", 1.0, _ranking("bm25", ["z:0", "y:0"], [1.0, 1.0])),
                  ("dense", 1.0, _ranking("dense", ["y:0", "z:0"], [1.0, 1.0]))])
    assert [h.passage_id for h in fused] == ["y:0", "z:0"]


@pytest.mark.parametrize("fusion", ["rrf", "blend"])
def test_search_hybrid_fuses_scripted_retrievers(fusion: str) -> None:
    searcher = HybridSearcher(dense=ScriptedIndex("dense", *DENSE_ORDER), bm25=ScriptedIndex("bm25", *BM25_ORDER),
                              settings=RetrievalSettings(fusion=fusion))
    hits = searcher.search("anything", 3)
    assert [h.passage_id for h in hits] == ["a:0", "c:0", "b:0"]
    filtered = searcher.search("anything", 5, filters=SearchFilters(doc_ids=["b", "c"]))
    assert {h.passage_id for h in filtered} == {"b:0", "c:0"}


@pytest.mark.parametrize(("bm25_weight", "dense_weight", "rank_field"), [(1.0, 0.0, "dense_rank"), (0.0, 1.0, "bm25_rank")])
def test_search_zero_weight_skips_a_retriever(bm25_weight: float, dense_weight: float, rank_field: str) -> None:
    settings = RetrievalSettings(bm25_weight=bm25_weight, dense_weight=dense_weight)
    searcher = HybridSearcher(dense=ScriptedIndex("dense", *DENSE_ORDER), bm25=ScriptedIndex("bm25", *BM25_ORDER), settings=settings)
    assert all(getattr(h, rank_field) is None for h in searcher.search("anything", 5))


@pytest.fixture()
def hybrid() -> HybridSearcher:
    searcher = HybridSearcher(dense=MemoryPassageIndex(FakeEmbedder()), bm25=BM25Index(None), settings=RetrievalSettings(top_k=3))
    passages, kinds = corpus_passages()
    searcher.add(passages, kinds=kinds)
    return searcher


@pytest.mark.parametrize(("query", "first"), [("hospital stay length", "trial:1"), ("nurses minutes procedure", "bid:1")])
def test_search_hybrid_on_hand_made_passages(hybrid: HybridSearcher, query: str, first: str) -> None:
    hits = hybrid.search(query)
    assert len(hits) == 3  # settings.top_k
    assert hits[0].passage_id == first
    assert hits[0].bm25_rank == 1 and hits[0].dense_rank == 1


@pytest.mark.parametrize("query", ["surgical site infection"])
def test_search_hybrid_filters_by_kind(hybrid: HybridSearcher, query: str) -> None:
    hits = hybrid.search(query, 5, filters=SearchFilters(kinds=["supplier_submission"]))
    assert hits[0].passage_id == "bid:0" and {h.kind for h in hits} == {"supplier_submission"}


class ReverseReranker:
    """Test reranker: reverses the candidates it is given."""

    name = "test.reverse.v1"

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        return [h.model_copy(update={"score": float(i)}) for i, h in enumerate(reversed(hits))]


class InventingReranker:
    name = "test.inventing.v1"

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        return [_hit("ghost:0", 1.0)]


@pytest.mark.parametrize("reranker", [ReverseReranker()])
def test_search_reranker_reorders_the_head(hybrid: HybridSearcher, reranker: Reranker) -> None:
    assert isinstance(reranker, Reranker)
    plain = hybrid.search("infection", 6)
    hybrid.reranker, hybrid.rerank_depth = reranker, 3
    reranked = hybrid.search("infection", 6)
    assert [h.passage_id for h in reranked[:3]] == [h.passage_id for h in reversed(plain[:3])]
    assert [h.passage_id for h in reranked[3:]] == [h.passage_id for h in plain[3:]]


@pytest.mark.parametrize("reranker", [InventingReranker()])
def test_search_reranker_may_not_invent_passages(hybrid: HybridSearcher, reranker: Reranker) -> None:
    hybrid.reranker = reranker
    with pytest.raises(RetrievalError, match="returned passages it was not given"):
        hybrid.search("infection")


def test_search_consistency_in_step(hybrid: HybridSearcher) -> None:
    report = ensure_consistent(hybrid, {"trial": 3, "bid": 2, "guide": 1})
    assert report.ok and report.summary() == "in step"


@pytest.mark.parametrize(
    ("expected", "summary"),
    [
        ({"trial": 3, "bid": 2, "guide": 1, "new": 4}, "1 documents not indexed"),
        ({"trial": 3, "bid": 2}, "1 documents indexed but not in the database"),
        ({"trial": 4, "bid": 2, "guide": 1}, "1 documents with a different passage count"),
    ],
)
def test_search_consistency_finds_differences(hybrid: HybridSearcher, expected: dict[str, int], summary: str) -> None:
    report = check_consistency(hybrid, expected)
    assert not report.ok
    assert report.summary() == f"dense: {summary}; bm25: {summary}"


@pytest.mark.parametrize("chunk", [1, 4, 256])
def test_search_rebuild_replaces_everything_and_reports_progress(hybrid: HybridSearcher, chunk: int) -> None:
    passages, kinds = corpus_passages()
    kept = [p for p in passages if p.doc_id != "guide"]
    seen: list[tuple[int, int | None]] = []
    n = rebuild(hybrid, iter(kept), kinds=kinds, total=len(kept), chunk=chunk, progress=lambda done, total: seen.append((done, total)))
    assert n == 5 and seen[-1] == (5, 5)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert check_consistency(hybrid, {"trial": 3, "bid": 2}).ok


@pytest.mark.parametrize("k", [2])
def test_search_langchain_retriever_returns_documents(hybrid: HybridSearcher, k: int) -> None:
    from langchain_core.documents import Document

    from retrieval.langchain import HybridRetriever

    docs = HybridRetriever(searcher=hybrid, k=k).invoke("hospital stay")
    assert len(docs) == k and all(isinstance(d, Document) for d in docs)
    assert docs[0].id == "trial:1"
    assert docs[0].page_content.startswith("Length of hospital stay")
    assert {"doc_id", "page", "start", "end", "section", "kind", "score", "bm25_rank", "dense_rank"} <= set(docs[0].metadata)


def test_search_hybrid_is_a_passage_index(hybrid: HybridSearcher) -> None:
    assert isinstance(hybrid, PassageIndex)


@pytest.mark.parametrize(
    ("text", "query", "width", "marked"),
    [
        ("Short: infections fell.", "infection", 240, ["infections"]),
        ("Filler words here. " * 20 + "Surgical site infection fell with the silver dressing. " + "More filler. " * 20,
         "surgical dressing infection", 100, ["Surgical", "infection", "dressing"]),
    ],
)
def test_search_snippet_centres_on_the_query_terms(text: str, query: str, width: int, marked: list[str]) -> None:
    window, spans = snippet(text, query, width=width)
    assert [window[s:e] for s, e in spans] == marked
    assert len(window) <= width + 22
    assert window.strip("…") in text


def test_hybrid_search_embeds_a_repeated_query_once(monkeypatch) -> None:
    import retrieval.search as search_module

    embedder = FakeEmbedder()
    searcher = HybridSearcher(dense=MemoryPassageIndex(embedder), bm25=BM25Index(None))
    passages, kinds = corpus_passages()
    searcher.add(passages, kinds=kinds)
    before = embedder.calls
    first = searcher.search("surgical site infection", 3)
    assert searcher.search("surgical site infection", 3) == first  # same answer, from the remembered vector
    assert embedder.calls == before + 1
    searcher.search("length of hospital stay", 3)
    assert embedder.calls == before + 2
    monkeypatch.setattr(search_module, "QUERY_CACHE", 1)  # the oldest query is forgotten first
    searcher.search("hand hygiene", 3)
    searcher.search("surgical site infection", 3)
    assert embedder.calls == before + 4 and list(searcher._query_vectors) == ["surgical site infection"]
