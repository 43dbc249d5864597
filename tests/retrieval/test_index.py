"""Passage indexes: in memory, BM25 (SQLite + bm25s) and Chroma in a temp dir; embedders; settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.base import Embedder, PassageIndex, SearchFilters
from retrieval.bm25 import BM25Index, tokenise
from retrieval.errors import IndexMismatchError, RetrievalConfigError
from retrieval.index import MemoryPassageIndex
from retrieval.search import HybridSearcher
from retrieval.settings import RetrievalSettings
from tests.retrieval import FakeEmbedder, corpus_passages, make_passages

INFECTION = "surgical site infection silver dressing"


@pytest.fixture()
def fake() -> FakeEmbedder:
    return FakeEmbedder()


def _memory(tmp_path: Path, fake: FakeEmbedder) -> PassageIndex:
    return MemoryPassageIndex(fake)


def _bm25_memory(tmp_path: Path, fake: FakeEmbedder) -> PassageIndex:
    return BM25Index(None)


def _bm25_disk(tmp_path: Path, fake: FakeEmbedder) -> PassageIndex:
    return BM25Index(tmp_path / "bm25")


def _hybrid(tmp_path: Path, fake: FakeEmbedder) -> PassageIndex:
    return HybridSearcher(dense=MemoryPassageIndex(fake), bm25=BM25Index(None))


def _chroma(tmp_path: Path, fake: FakeEmbedder) -> PassageIndex:
    from retrieval.index import ChromaPassageIndex

    return ChromaPassageIndex(tmp_path / "chroma", embedder=fake)


FAST = [_memory, _bm25_memory, _bm25_disk, _hybrid]
ALL = FAST + [pytest.param(_chroma, marks=pytest.mark.slow)]


@pytest.fixture(params=ALL, ids=lambda f: getattr(f, "__name__", "chroma").strip("_"))
def index(request, tmp_path: Path, fake: FakeEmbedder):
    made = request.param(tmp_path, fake)
    passages, kinds = corpus_passages()
    made.add(passages, kinds=kinds)
    yield made
    close = getattr(made, "close", None)
    if close:
        close()


@pytest.mark.parametrize("make", ALL, ids=lambda f: getattr(f, "__name__", "chroma").strip("_"))
def test_index_implements_the_protocol(make, tmp_path: Path, fake: FakeEmbedder) -> None:
    assert isinstance(make(tmp_path, fake), PassageIndex)


@pytest.mark.parametrize("embedder", [FakeEmbedder()])
def test_index_fake_embedder_is_an_embedder(embedder) -> None:
    assert isinstance(embedder, Embedder)


def test_index_counts_and_documents(index) -> None:
    assert index.count() == 6
    assert index.doc_ids() == {"trial", "bid", "guide"}
    assert index.doc_counts() == {"trial": 3, "bid": 2, "guide": 1}
    assert index.has_document("bid") and not index.has_document("nope")


def test_index_search_finds_the_matching_passage(index) -> None:
    hits = index.search(INFECTION, 3)
    assert hits and {h.passage_id for h in hits[:2]} == {"trial:0", "bid:0"}
    top = next(h for h in hits if h.passage_id == "trial:0")
    assert (top.doc_id, top.page, top.section, top.kind) == ("trial", 1, "results", "clinical_paper")
    assert top.text.startswith("Surgical site infection") and top.span.end - top.span.start == len(top.text)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_index_add_replaces_by_passage_id(index) -> None:
    changed = make_passages("guide", ["Alcohol rub is as good as soap for hand hygiene."])
    index.add(changed, kinds={"guide": "other"})
    assert index.count() == 6
    assert index.search("alcohol rub soap", 1)[0].passage_id == "guide:0"


def test_index_delete_document(index) -> None:
    assert index.delete_document("bid") == 2
    assert index.delete_document("bid") == 0  # deleting twice is harmless
    assert index.count() == 4 and "bid" not in index.doc_ids() and not index.has_document("bid")
    assert all(h.doc_id != "bid" for h in index.search(INFECTION, 10))


def test_index_clear(index) -> None:
    index.clear()
    assert index.count() == 0 and index.doc_ids() == set()
    assert index.search(INFECTION, 5) == []


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (SearchFilters(doc_ids=["bid"]), lambda h: h.doc_id == "bid"),
        (SearchFilters(doc_ids=["bid", "guide"]), lambda h: h.doc_id in {"bid", "guide"}),
        (SearchFilters(kinds=["clinical_paper"]), lambda h: h.kind == "clinical_paper"),
        (SearchFilters(sections=["benefits"]), lambda h: h.section == "benefits"),
        (SearchFilters(pages=[2]), lambda h: h.page == 2),
        (SearchFilters(kinds=["supplier_submission"], pages=[1]), lambda h: h.passage_id == "bid:0"),
    ],
)
def test_index_filters(index, filters: SearchFilters, allowed) -> None:
    hits = index.search("infection dressing procedure hospital stay patients", 10, filters=filters)
    assert hits, "the filtered search should still find something"
    assert all(allowed(h) for h in hits)


@pytest.mark.parametrize("query", ["Length of hospital stay"])
def test_bm25_persists_and_reopens(tmp_path: Path, query: str) -> None:
    passages, kinds = corpus_passages()
    first = BM25Index(tmp_path / "bm25")
    first.add(passages, kinds=kinds)
    assert first.search(query, 1)[0].passage_id == "trial:1"
    first.close()
    assert (tmp_path / "bm25" / "model" / "stamp.json").is_file()
    again = BM25Index(tmp_path / "bm25")
    assert again.count() == 6
    hit = again.search(query, 1)[0]
    assert (hit.passage_id, hit.kind, hit.bm25_rank) == ("trial:1", "clinical_paper", 1)


@pytest.mark.parametrize("query", ["alcohol rub"])
def test_bm25_sees_writes_of_another_instance(tmp_path: Path, query: str) -> None:
    reader, writer = BM25Index(tmp_path / "bm25"), BM25Index(tmp_path / "bm25")
    writer.add(make_passages("new", ["Alcohol rub kills most bacteria."]))
    assert reader.search(query, 1)[0].doc_id == "new"  # the write counter moved: the model is rebuilt
    writer.delete_document("new")
    assert reader.search(query, 1) == []


@pytest.mark.parametrize("damage", [b"not json", None])
def test_bm25_rebuilds_a_damaged_or_missing_model(tmp_path: Path, damage: bytes | None) -> None:
    passages, kinds = corpus_passages()
    BM25Index(tmp_path / "bm25").add(passages, kinds=kinds)
    BM25Index(tmp_path / "bm25").search("infection", 1)  # builds and saves the model
    model = tmp_path / "bm25" / "model"
    for f in model.iterdir():
        if damage is None:
            f.unlink()
        else:
            f.write_bytes(damage)
    assert BM25Index(tmp_path / "bm25").search("hospital stay", 1)[0].passage_id == "trial:1"


@pytest.mark.parametrize(("text", "tokens"), [("Infections were reduced, 45% (p<0.01)", ["infect", "were", "reduc", "45", "p", "0", "01"])])
def test_bm25_tokenise(text: str, tokens: list[str]) -> None:
    assert tokenise(text) == tokens


def test_index_settings_defaults_round_trip_and_are_described() -> None:
    s = RetrievalSettings()
    assert RetrievalSettings.model_validate_json(s.model_dump_json()) == s
    assert all(f.description for f in RetrievalSettings.model_fields.values())
    assert s.index_path(Path("/data")) == Path("/data/index")


@pytest.mark.parametrize(
    "bad",
    [{"collection": "a"}, {"collection": "bad name"}, {"chroma_url": "localhost:8000"}, {"bm25_weight": 0, "dense_weight": 0},
     {"embedder": "minilm.tf.v9"}, {"top_k": 0}],
)
def test_index_settings_reject_bad_values(bad: dict) -> None:
    with pytest.raises(ValueError):
        RetrievalSettings(**bad)


@pytest.mark.parametrize("name", ["minilm.tf.v9"])
def test_index_unknown_embedder_lists_the_valid_names(name: str) -> None:
    from retrieval.embedder import make_embedder

    with pytest.raises(RetrievalConfigError, match="minilm.onnx-int8.v1, minilm.torch.v1"):
        make_embedder(name)


@pytest.mark.parametrize("modules", [("retrieval", "retrieval.base", "retrieval.search", "retrieval.index", "retrieval.bm25",
                                      "retrieval.embedder", "retrieval.settings", "retrieval.errors")])
def test_index_heavy_libraries_load_only_when_used(modules: tuple[str, ...]) -> None:
    code = (f"import sys\nfor m in {list(modules)!r}: __import__(m)\n"
            "print([m for m in ('chromadb', 'torch', 'transformers', 'langchain_core', 'onnxruntime') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


# --- slow: the real Chroma and the real embedders --------------------------------------------------------


@pytest.mark.slow
def test_chroma_index_persists_across_reopen(tmp_path: Path, fake: FakeEmbedder) -> None:
    from retrieval.index import ChromaPassageIndex

    passages, kinds = corpus_passages()
    first = ChromaPassageIndex(tmp_path / "chroma", embedder=fake, collection="evidence")
    first.add(passages, kinds=kinds)
    first.close()
    again = ChromaPassageIndex(tmp_path / "chroma", embedder=fake, collection="evidence")
    assert again.count() == 6 and again.doc_counts() == {"trial": 3, "bid": 2, "guide": 1}
    hit = again.search("length of hospital stay", 1)[0]
    assert (hit.passage_id, hit.page, hit.section, hit.kind, hit.dense_rank) == ("trial:1", 2, "results", "clinical_paper", 1)
    assert again.delete_document("trial") == 3
    again.close()
    assert ChromaPassageIndex(tmp_path / "chroma", embedder=fake, collection="evidence").count() == 3


@pytest.mark.slow
def test_chroma_index_refuses_another_embedder(tmp_path: Path, fake: FakeEmbedder) -> None:
    from retrieval.index import ChromaPassageIndex

    ChromaPassageIndex(tmp_path / "chroma", embedder=fake).close()

    class Other(FakeEmbedder):
        name = "fake.other.v1"

    with pytest.raises(IndexMismatchError, match="vbp reindex"):
        ChromaPassageIndex(tmp_path / "chroma", embedder=Other())


@pytest.fixture(scope="module")
def real_embedders(tmp_path_factory):
    """The ONNX int8 embedder (exported into a temp index folder) and the torch one."""
    from retrieval.embedder import make_embedder

    folder = tmp_path_factory.mktemp("index")
    return make_embedder("minilm.onnx-int8.v1", cache_dir=folder), make_embedder("minilm.torch.v1"), folder


@pytest.mark.slow
def test_embedders_are_embedders_and_agree(real_embedders) -> None:
    onnx, torch_, folder = real_embedders
    assert isinstance(onnx, Embedder) and isinstance(torch_, Embedder)
    assert json.loads((folder / "models" / "minilm-onnx-int8-v1" / "export.json").read_text())["sha256"]
    texts = ["Surgical site infection fell by 45%.", "The dressing costs 12 pounds. " * 40, "x"]
    a, b = onnx.embed(texts), torch_.embed(texts)
    assert a.shape == b.shape == (3, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(1).min() > 0.95  # int8 keeps the direction of the torch vectors


@pytest.mark.slow
def test_chroma_with_the_real_embedder_and_langchain(tmp_path: Path, real_embedders) -> None:
    import chromadb
    from chromadb.config import Settings

    from retrieval.index import ChromaPassageIndex
    from retrieval.langchain import as_vectorstore

    onnx, _, folder = real_embedders
    passages, kinds = corpus_passages()
    index = ChromaPassageIndex(tmp_path / "chroma", embedder=onnx, cache_dir=folder)
    index.add(passages, kinds=kinds)
    assert index.search("Do wounds get infected less often?", 1)[0].passage_id in {"trial:0", "bid:0"}
    store = as_vectorstore(index)
    docs = store.similarity_search("minutes saved by nurses", k=1)
    assert docs[0].id == "bid:1" and docs[0].metadata["doc_id"] == "bid"
    # A plain Chroma client opening the collection gets our embedding function back from its config, offline.
    col = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=Settings(anonymized_telemetry=False, allow_reset=False)
                                    ).get_collection("passages")
    assert col.query(query_texts=["hospital length of stay"], n_results=1)["ids"][0] == ["trial:1"]
    index.close()


@pytest.mark.slow
def test_chroma_exact_search_for_a_few_documents_agrees_with_chroma_and_follows_writes(tmp_path: Path, fake: FakeEmbedder) -> None:
    """A search restricted to documents is answered from their vectors in memory: the same passages and scores as
    Chroma's own filtered search, and never a stale copy after this index rewrites or deletes a document."""
    from retrieval.index import ChromaPassageIndex

    passages, kinds = corpus_passages()
    index = ChromaPassageIndex(tmp_path / "chroma", embedder=fake)
    index.add(passages, kinds=kinds)
    query = "infection dressing procedure hospital stay patients"
    for filters in (SearchFilters(doc_ids=["trial", "bid"]), SearchFilters(doc_ids=["trial", "guide"], pages=[2]),
                    SearchFilters(doc_ids=["bid"], sections=["benefits"])):
        exact = index.search(query, 10, filters=filters)
        index._exact = False
        approximate = index.search(query, 10, filters=filters)
        index._exact = True
        assert exact and [h.passage_id for h in exact] == [h.passage_id for h in approximate]
        assert np.allclose([h.score for h in exact], [h.score for h in approximate], atol=1e-5)
    assert index._vectors, "the documents' vectors are held in memory after a filtered search"

    index.add(make_passages("bid", ["Alcohol rub is as good as soap for hand hygiene."]), kinds={"bid": "supplier_submission"})
    assert index.search("alcohol rub soap", 1, filters=SearchFilters(doc_ids=["bid"]))[0].text.startswith("Alcohol rub")
    index.delete_document("trial")
    assert "trial" not in index._vectors
    vector = fake.embed([query])[0]  # as the hybrid searcher asks, once it has checked the documents itself
    assert [h.doc_id for h in index.search_vector(vector, 10, filters=SearchFilters(doc_ids=["trial", "bid"]))] == ["bid"] * 2
    index.close()
