"""SciFact adapter: claim → abstracts (retrieval over the whole corpus), and claim + cited abstracts → label.

Retrieval indexes every abstract of ``corpus.jsonl`` (title and sentences, one passage each) in the product's
own hybrid index — a real persistent Chroma collection plus BM25, in a temporary folder unless ``index_dir``
is given — and searches it with each claim that has evidence, as the BEIR SciFact benchmark does: the
relevant abstracts are those holding evidence for the claim. Reported: ``ndcg_at_10``, ``recall_at_10``,
``recall_at_100`` (binary relevance), the BM25-alone, dense-alone and fused-without-reranking nDCG@10 for
comparison, the indexing
speed (``passages_per_second``) and the search latency (``query_ms_p50`` / ``query_ms_p95``, one query at a
time, fused top 10).

The label task is scored by :mod:`eval.datasets.scifact_label` and merged in.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path

from extractor.errors import ConfigError

_RERANKER_NOTE = ("the reranker was trained on SciFact claims_train (claims with id % 5 != 0): on that split its gain is partly "
                  "in-sample; retrieval/heads/rerank.v1.json records the held-out and 5-fold cross-validated figures")


def default_split(data: Path) -> str:
    """``dev`` when present, else the one ``claims_<split>.jsonl`` split present (sorted first)."""
    splits = sorted(p.stem.removeprefix("claims_") for p in Path(data).glob("claims_*.jsonl"))
    if not splits:
        raise ConfigError(f"no claims_<split>.jsonl in {data}.", hint="Point --data at the scifact folder (corpus.jsonl, claims_*.jsonl).")
    return "dev" if "dev" in splits else splits[0]


def load_corpus(data: Path) -> dict[str, str]:
    """doc id (as a string) → "title. sentence sentence …" for every abstract of ``corpus.jsonl``."""
    path = Path(data) / "corpus.jsonl"
    if not path.is_file():
        raise ConfigError(f"no corpus.jsonl in {data}.", hint="Point --data at the scifact folder.")
    out = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                out[str(d["doc_id"])] = (d.get("title", "").strip() + ". " + " ".join(s.strip() for s in d["abstract"])).strip()
    return out


def load_claims(data: Path, split: str) -> list[dict]:
    path = Path(data) / f"claims_{split}.jsonl"
    if not path.is_file():
        present = ", ".join(sorted(p.stem.removeprefix("claims_") for p in Path(data).glob("claims_*.jsonl"))) or "none"
        raise ConfigError(f"no claims_{split}.jsonl in {data}.", hint=f"Splits present: {present}.")
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def ndcg_at(ranked: list[str], relevant: set[str], k: int) -> float:
    """Binary-relevance nDCG@k."""
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: list[str], relevant: set[str], k: int) -> float:
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def corpus_passages(corpus: dict[str, str]):
    from extractor.schema import Passage, Span

    return [Passage(id=f"{doc_id}:0", doc_id=doc_id, index=0, page=1, span=Span(start=0, end=len(text)), text=text)
            for doc_id, text in corpus.items()]


def open_index(folder: Path):
    from retrieval.search import open_searcher
    from retrieval.settings import RetrievalSettings

    return open_searcher(RetrievalSettings(index_dir=folder, collection="scifact"), data_dir=folder)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else 0.0


def run(data: Path, split: str, *, limit: int | None = None, index_dir: str | Path | None = None, label: bool = True,
        **options: object) -> dict[str, object]:
    """Score retrieval (and, with ``label``, the label task) on ``claims_<split>.jsonl``.

    Args:
        data: The scifact folder.
        split: The claims split.
        limit: Score only the first N claims (the whole corpus is still indexed).
        index_dir: Keep the index here and reuse it on the next run (rebuilt when it does not hold the corpus);
            default: a temporary folder, removed afterwards.
        label: Also score the label task given the cited abstracts.
    """
    if options:
        raise ConfigError(f"unknown option(s) for scifact: {', '.join(sorted(options))}.", hint="Use --limit.")
    corpus = load_corpus(data)
    claims = load_claims(data, split)[: limit if limit is not None else None]
    queries = [(c["claim"], {str(d) for d in c.get("evidence", {})}) for c in claims if c.get("evidence")]
    tmp = None
    if index_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="vbp-scifact-")
        folder = Path(tmp.name)
    else:
        folder = Path(index_dir)
    try:
        result = _retrieval(folder, corpus, queries)
    finally:
        if tmp is not None:
            tmp.cleanup()
    result.update(examples=len(claims), claims_with_evidence=len(queries), corpus_size=len(corpus))
    if label:
        from eval.datasets.scifact_label import label_scores

        result.update(label_scores(Path(data), split, limit=limit))
    return result


def _retrieval(folder: Path, corpus: dict[str, str], queries: list[tuple[str, set[str]]]) -> dict[str, object]:
    from retrieval.search import HybridSearcher

    searcher = open_index(folder)
    indexed_seconds = None
    if searcher.count() != len(corpus) or searcher.bm25.count() != len(corpus):
        passages = corpus_passages(corpus)
        searcher.clear()
        t0 = time.perf_counter()
        searcher.add(passages)
        indexed_seconds = time.perf_counter() - t0
    try:
        fused, latencies = [], []
        for text, _ in queries:
            t0 = time.perf_counter()
            hits = searcher.search(text, 100)
            latencies.append((time.perf_counter() - t0) * 1000)
            fused.append([h.doc_id for h in hits])
        alone = {}
        for name in ("bm25", "dense"):
            index = searcher.components[name]
            alone[name] = [[h.doc_id for h in index.search(text, 10)] for text, _ in queries]
        reranker, searcher.reranker = searcher.reranker, None
        alone["fused"] = [[h.doc_id for h in searcher.search(text, 10)] for text, _ in queries]
        searcher.reranker = reranker
    finally:
        searcher.close()
    relevant = [rel for _, rel in queries]

    def mean(xs: list[float]) -> float:
        return round(sum(xs) / len(xs), 4) if xs else 0.0

    result: dict[str, object] = {
        "ndcg_at_10": mean([ndcg_at(r, rel, 10) for r, rel in zip(fused, relevant)]),
        "recall_at_10": mean([recall_at(r, rel, 10) for r, rel in zip(fused, relevant)]),
        "recall_at_100": mean([recall_at(r, rel, 100) for r, rel in zip(fused, relevant)]),
        "ndcg_at_10_bm25": mean([ndcg_at(r, rel, 10) for r, rel in zip(alone["bm25"], relevant)]),
        "ndcg_at_10_dense": mean([ndcg_at(r, rel, 10) for r, rel in zip(alone["dense"], relevant)]),
        "ndcg_at_10_fused_no_rerank": mean([ndcg_at(r, rel, 10) for r, rel in zip(alone["fused"], relevant)]),
        "reranker": reranker.name if reranker is not None else "none",
        **({"reranker_note": _RERANKER_NOTE} if reranker is not None else {}),
        "query_ms_p50": round(_percentile(latencies, 0.5), 2),
        "query_ms_p95": round(_percentile(latencies, 0.95), 2),
        "searcher": HybridSearcher.name,
    }
    if indexed_seconds is not None:
        result["index_seconds"] = round(indexed_seconds, 1)
        result["passages_per_second"] = round(len(corpus) / indexed_seconds, 1) if indexed_seconds else 0.0
    else:
        result["index_reused"] = str(folder)
    return result
