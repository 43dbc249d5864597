"""SciFact adapter: the ranking metrics, and retrieval over a tiny corpus in the dataset's layout (real index)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.datasets import scifact
from extractor.errors import ConfigError

ABSTRACTS = {
    11: ("Silver dressings and wound infection", ["Silver foam dressings reduced surgical site infection after caesarean section.",
                                                 "Infection occurred in 6% versus 11% of women."]),
    12: ("Statins in older adults", ["Statin therapy lowered LDL cholesterol in adults over 75 years."]),
    13: ("Compression stockings", ["Graduated compression stockings did not prevent deep vein thrombosis after stroke."]),
    14: ("Remote asthma monitoring", ["Web-based asthma self-management improved symptom control in a pilot trial."]),
}
CLAIMS = [
    {"id": 1, "claim": "Silver dressings lower surgical site infection after caesarean section.",
     "evidence": {"11": [{"sentences": [0], "label": "SUPPORT"}]}, "cited_doc_ids": [11]},
    {"id": 2, "claim": "Compression stockings prevent deep vein thrombosis after stroke.",
     "evidence": {"13": [{"sentences": [0], "label": "CONTRADICT"}]}, "cited_doc_ids": [13]},
    {"id": 3, "claim": "Vitamin C cures the common cold.", "evidence": {}, "cited_doc_ids": [12]},
]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps({"doc_id": k, "title": t, "abstract": a}) + "\n"
                                                   for k, (t, a) in ABSTRACTS.items()))
    (tmp_path / "claims_dev.jsonl").write_text("".join(json.dumps(c) + "\n" for c in CLAIMS))
    return tmp_path


@pytest.mark.parametrize(
    ("ranked", "relevant", "k", "ndcg", "recall"),
    [
        (["a", "b"], {"a"}, 10, 1.0, 1.0),
        (["b", "a"], {"a"}, 10, 1 / math.log2(3), 1.0),
        (["b", "c"], {"a"}, 10, 0.0, 0.0),
        (["a", "x", "b"], {"a", "b"}, 2, 1 / (1 + 1 / math.log2(3)), 0.5),
    ],
)
def test_scifact_metrics(ranked, relevant, k, ndcg, recall) -> None:
    assert scifact.ndcg_at(ranked, relevant, k) == pytest.approx(ndcg)
    assert scifact.recall_at(ranked, relevant, k) == pytest.approx(recall)


def test_scifact_split_and_missing_files(folder: Path, tmp_path_factory) -> None:
    assert scifact.default_split(folder) == "dev"
    with pytest.raises(ConfigError, match="no claims_test.jsonl"):
        scifact.load_claims(folder, "test")
    with pytest.raises(ConfigError, match="no claims_"):
        scifact.default_split(tmp_path_factory.mktemp("empty"))


@pytest.mark.slow
def test_scifact_retrieval_on_a_tiny_corpus(folder: Path, tmp_path: Path) -> None:
    result = scifact.run(folder, "dev", label=False, index_dir=tmp_path / "index")
    assert result["claims_with_evidence"] == 2 and result["corpus_size"] == 4 and result["examples"] == 3
    assert result["ndcg_at_10"] == pytest.approx(1.0) and result["recall_at_100"] == pytest.approx(1.0)
    assert result["passages_per_second"] > 0 and 0 < result["query_ms_p50"] <= result["query_ms_p95"]
    again = scifact.run(folder, "dev", label=False, index_dir=tmp_path / "index")
    assert again["index_reused"] == str(tmp_path / "index") and again["ndcg_at_10"] == result["ndcg_at_10"]


@pytest.mark.slow
def test_scifact_bench_search_reports_speed(folder: Path) -> None:
    from eval.bench import bench_search

    report = bench_search(folder, queries=3)
    assert report["passages"] == 4 and report["queries"] == 3
    assert report["passages_per_second"] > 0 and report["query_ms_p95"] >= report["query_ms_p50"] > 0
