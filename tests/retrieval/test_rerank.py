"""The learned reranker: its features, the shipped weights, and a clear error for bad weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.errors import ConfigError
from extractor.schema import Span
from retrieval.base import Hit
from retrieval.rerank import FEATURES, LinearReranker, features, get_reranker


def _hit(pid: str, text: str, *, score: float = 0.5, bm25: int | None = 1, dense: int | None = 1) -> Hit:
    return Hit(passage_id=pid, doc_id=pid.split(":")[0], page=1, span=Span(start=0, end=len(text)), text=text, score=score,
               bm25_rank=bm25, dense_rank=dense, bm25_score=5.0 if bm25 else None, dense_score=0.6 if dense else None)


QUERY = "Silver dressings reduce surgical site infection by 45%"
COVERING = _hit("a:0", "Surgical site infection fell by 45% with silver dressings in the trial.")
OFF_TOPIC = _hit("b:0", "Patients preferred the new mattress; comfort scores rose.")


def test_rerank_features_measure_query_coverage_and_numbers() -> None:
    rows = features(QUERY, [COVERING, OFF_TOPIC])
    assert rows.shape == (2, len(FEATURES))
    col = {name: i for i, name in enumerate(FEATURES)}
    assert rows[0, col["coverage"]] > 0.8 and rows[1, col["coverage"]] == 0.0
    assert rows[0, col["numbers"]] == 1.0 and rows[1, col["numbers"]] == 0.0
    assert rows[0, col["both"]] == 1.0


def test_rerank_shipped_weights_prefer_the_passage_that_covers_the_query() -> None:
    reranker = get_reranker()
    # same retrieval evidence for both: only the content features can tell them apart
    ranked = reranker.rerank(QUERY, [OFF_TOPIC, COVERING])
    assert [h.passage_id for h in ranked] == ["a:0", "b:0"]
    assert all(0.0 <= h.score <= 1.0 for h in ranked)
    assert reranker.rerank(QUERY, []) == []


def test_rerank_weights_for_other_features_are_refused() -> None:
    with pytest.raises(ConfigError, match="features"):
        LinearReranker({"features": ["fused"], "mean": [0], "scale": [1], "coef": [1], "intercept": 0})


def test_rerank_unreadable_weights_are_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "rerank.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read the reranker weights") as e:
        get_reranker(str(bad))
    assert "train_rerank" in e.value.hint


def test_rerank_shipped_weights_say_what_they_were_trained_on() -> None:
    weights = json.loads((Path(__file__).resolve().parents[2] / "retrieval" / "heads" / "rerank.v1.json").read_text())
    assert weights["features"] == list(FEATURES) and "SciFact" in weights["trained_on"]
