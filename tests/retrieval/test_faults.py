"""Bad input and faults: empty and huge queries, unknown or deleted documents, an index out of step, damaged folders."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from extractor.errors import ConfigError, NotFoundError
from retrieval.base import QueryTruncatedWarning, SearchFilters
from retrieval.bm25 import BM25Index
from retrieval.errors import (
    IndexCorruptError,
    IndexOutOfStepError,
    IndexUnavailableError,
    InvalidQueryError,
    RetrievalError,
    UnknownDocumentError,
)
from retrieval.index import MemoryPassageIndex
from retrieval.search import HybridSearcher, check_consistency, ensure_consistent, open_searcher, rebuild
from retrieval.settings import RetrievalSettings
from tests.retrieval import FakeEmbedder, corpus_passages, make_passages


def _memory(tmp_path: Path):
    return MemoryPassageIndex(FakeEmbedder())


def _bm25(tmp_path: Path):
    return BM25Index(tmp_path / "bm25")


def _hybrid(tmp_path: Path):
    return HybridSearcher(dense=MemoryPassageIndex(FakeEmbedder()), bm25=BM25Index(None))


def _chroma(tmp_path: Path):
    from retrieval.index import ChromaPassageIndex

    return ChromaPassageIndex(tmp_path / "chroma", embedder=FakeEmbedder())


KINDS = [_memory, _bm25, _hybrid, pytest.param(_chroma, marks=pytest.mark.slow)]


@pytest.fixture(params=KINDS, ids=lambda f: getattr(f, "__name__", "chroma").strip("_"))
def index(request, tmp_path: Path):
    made = request.param(tmp_path)
    passages, kinds = corpus_passages()
    made.add(passages, kinds=kinds)
    yield made
    if hasattr(made, "close"):
        made.close()


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "?!…", None, 42])
def test_faults_empty_query_is_a_clear_error(index, query) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        index.search(query, 3)
    assert isinstance(caught.value, ConfigError)  # the API maps it to 422
    assert "query" in str(caught.value)


@pytest.mark.parametrize("k", [0, -1, "3", 10_001, True])
def test_faults_bad_k_is_a_clear_error(index, k) -> None:
    with pytest.raises(InvalidQueryError, match="k must be a whole number"):
        index.search("infection", k)


@pytest.mark.parametrize("length", [10_000])
def test_faults_long_query_is_truncated_with_a_warning(index, length: int) -> None:
    query = ("surgical site infection " * (length // 24 + 1))[:length]
    with pytest.warns(QueryTruncatedWarning, match=f"has {length} characters; searched on the first"):
        hits = index.search(query, 3)
    assert hits and hits[0].doc_id in {"trial", "bid"}


@pytest.mark.parametrize("doc_ids", [["nope"], ["trial", "nope", "gone"]])
def test_faults_unknown_document_in_filter(index, doc_ids: list[str]) -> None:
    with pytest.raises(UnknownDocumentError) as caught:
        index.search("infection", 3, filters=SearchFilters(doc_ids=doc_ids))
    err = caught.value
    assert isinstance(err, NotFoundError)  # the API maps it to 404
    assert "'nope'" in err.message and "'trial'" not in err.message
    assert "vbp show --list" in err.hint


@pytest.mark.parametrize("doc_id", ["bid"])
def test_faults_deleted_document(index, doc_id: str) -> None:
    index.delete_document(doc_id)
    assert all(h.doc_id != doc_id for h in index.search("silver dressing infection nurses", 10))
    with pytest.raises(UnknownDocumentError, match=repr(doc_id)):
        index.search("infection", 3, filters=SearchFilters(doc_ids=[doc_id]))


@pytest.mark.parametrize("bad", [{"pages": [0]}, {"doc_ids": []}, {"kinds": ["a"], "colour": "red"}])
def test_faults_bad_filters_are_refused(bad: dict) -> None:
    with pytest.raises(pydantic.ValidationError):
        SearchFilters(**bad)


@pytest.mark.parametrize("expected", [{"trial": 3, "bid": 2, "guide": 1, "new": 2}])
def test_faults_index_out_of_step_is_detected(index, expected: dict[str, int]) -> None:
    assert not check_consistency(index, expected).ok
    with pytest.raises(IndexOutOfStepError, match="1 documents not indexed") as caught:
        ensure_consistent(index, expected)
    assert "vbp reindex" in caught.value.hint
    rebuild(index, corpus_passages()[0] + make_passages("new", ["one", "two"]), kinds=corpus_passages()[1])
    assert ensure_consistent(index, expected).ok


def test_faults_hybrid_halves_out_of_step() -> None:
    dense, bm25 = MemoryPassageIndex(FakeEmbedder()), BM25Index(None)
    passages, kinds = corpus_passages()
    dense.add(passages, kinds=kinds)  # e.g. a crash between the two writes
    report = check_consistency(HybridSearcher(dense=dense, bm25=bm25), {"trial": 3, "bid": 2, "guide": 1})
    assert report.components["dense"].ok and not report.components["bm25"].ok
    assert report.summary() == "bm25: 3 documents not indexed"


def test_faults_damaged_bm25_store_names_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "bm25"
    BM25Index(folder).add(make_passages("d", ["some text"]))
    for f in folder.glob("passages.sqlite3*"):
        f.write_bytes(b"garbage" * 1000)
    with pytest.raises(IndexCorruptError) as caught:
        BM25Index(folder).search("text", 1)
    assert str(folder) in caught.value.message and "vbp reindex" in caught.value.hint


# --- slow: a real Chroma folder damaged on disk, an unreachable server -------------------------------------


def _corrupt_chroma(folder: Path) -> None:
    (folder / "chroma.sqlite3").write_bytes(b"this is not a database " * 4096)
    for extra in folder.glob("chroma.sqlite3-*"):  # WAL and shared-memory files
        extra.unlink()


@pytest.mark.slow
def test_faults_corrupted_chroma_folder_is_a_clear_error_then_reindex_recovers(tmp_path: Path) -> None:
    from retrieval.index import ChromaPassageIndex

    folder = tmp_path / "chroma"
    passages, kinds = corpus_passages()
    live = ChromaPassageIndex(folder, embedder=FakeEmbedder())
    live.add(passages, kinds=kinds)
    _corrupt_chroma(folder)
    # An index opened before the damage: an error, never silently empty results.
    with pytest.raises(IndexCorruptError) as during:
        live.search("infection", 3)
    assert str(folder) in during.value.message and "vbp reindex" in during.value.hint
    live.close()
    # Opening it again fails at open time.
    with pytest.raises(IndexCorruptError, match=str(folder)):
        ChromaPassageIndex(folder, embedder=FakeEmbedder())
    # `vbp reindex` opens with reset=True and rebuilds.
    fresh = ChromaPassageIndex(folder, embedder=FakeEmbedder(), reset=True)
    assert fresh.count() == 0
    rebuild(fresh, passages, kinds=kinds)
    assert fresh.search("length of hospital stay", 1)[0].passage_id == "trial:1"
    fresh.close()


@pytest.mark.slow
def test_faults_open_searcher_reset_recovers_a_corrupted_index(tmp_path: Path, monkeypatch) -> None:
    import retrieval.embedder as embedder_mod

    monkeypatch.setitem(embedder_mod._FACTORIES, "minilm.torch.v1", lambda **_: FakeEmbedder())
    embedder_mod.make_embedder.cache_clear()
    settings = RetrievalSettings(embedder="minilm.torch.v1")
    passages, kinds = corpus_passages()
    searcher = open_searcher(settings, data_dir=tmp_path)
    searcher.add(passages, kinds=kinds)
    searcher.close()
    _corrupt_chroma(tmp_path / "index" / "chroma")
    with pytest.raises(IndexCorruptError, match="vbp reindex"):
        open_searcher(settings, data_dir=tmp_path)
    searcher = open_searcher(settings, data_dir=tmp_path, reset=True)
    rebuild(searcher, passages, kinds=kinds)
    assert ensure_consistent(searcher, {"trial": 3, "bid": 2, "guide": 1}).ok
    searcher.close()
    embedder_mod.make_embedder.cache_clear()


@pytest.mark.slow
@pytest.mark.parametrize("url", ["http://127.0.0.1:9"])
def test_faults_unreachable_chroma_server(url: str) -> None:
    from retrieval.index import ChromaPassageIndex

    with pytest.raises(IndexUnavailableError, match="cannot be reached") as caught:
        ChromaPassageIndex(None, embedder=FakeEmbedder(), url=url)
    assert isinstance(caught.value, RetrievalError) and "VBP_RETRIEVAL__CHROMA_URL" in caught.value.hint
