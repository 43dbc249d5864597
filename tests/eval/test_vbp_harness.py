"""The harness scores a known tiny gold set to known numbers, end to end through `vbp eval vbp`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import runner
from eval.datasets.vbp import score

DOC = """# Arlo catheter: tender response

## Clinical outcomes

Arlo reduced phlebitis from 8% to 3% [1].
Arlo is the best catheter available.
Patients have used catheters for decades.

## References

1. Data on file. Audit of Arlo, 2024.
2. Data on file. Survey, 2024.
"""


@pytest.fixture()
def tiny_gold(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "arlo.md").write_text(DOC)
    gold = {
        "doc_id": "arlo",
        "path": "docs/arlo.md",
        "kind": "supplier_submission",
        "claims": [
            {"quote": "Arlo reduced phlebitis from 8% to 3% [1].", "page": 1, "category": "safety", "direction": "decrease",
             "outcome": "phlebitis", "intervention": "Arlo", "comparator": "",
             "quantities": [{"kind": "percent", "value": 8, "unit": "%"}, {"kind": "percent", "value": 3, "unit": "%"}]},
            {"quote": "Arlo is the best catheter available.", "page": 1, "category": "outcome", "direction": "increase",
             "outcome": "", "intervention": "Arlo", "comparator": "", "quantities": []},
            {"quote": "Arlo needs no flushing.", "page": 1, "category": "resource_use", "direction": "decrease",
             "outcome": "flushing", "intervention": "Arlo", "comparator": "", "quantities": []},
        ],
    }
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(gold) + "\n")
    return path


def test_vbp_harness_scores_hand_made_predictions_exactly() -> None:
    gold = [{"doc_id": "d", "claims": [
        {"quote": "A fell from 8% to 3%.", "category": "safety", "direction": "decrease", "outcome": "A",
         "quantities": [{"value": 8, "unit": "%"}, {"value": 3, "unit": "%"}]},
        {"quote": "B is best.", "category": "outcome", "direction": "increase", "quantities": []},
    ]}]
    pred = {"d": [
        {"quote": "a FELL from 8% to 3%.", "category": "safety", "direction": "increase", "outcome": "A",
         "quantities": [{"value": 8.02, "unit": "%"}, {"value": 3, "unit": ""}]},
        {"quote": "Something else entirely.", "category": "cost", "direction": "unspecified", "quantities": []},
    ]}
    result = score(gold, pred)
    assert (result["claim_precision"], result["claim_recall"], result["claim_f1"]) == (0.5, 0.5, 0.5)
    assert result["category_accuracy"] == 1.0 and result["direction_accuracy"] == 0.0
    assert result["strict_f1"] == 0.0
    # 8.02 is within 0.5% of 8; the 3 with no unit does not match "%": 1 of 2 predicted, 1 of 2 gold
    assert (result["quantity_precision"], result["quantity_recall"]) == (0.5, 0.5)
    assert result["outcome_token_f1"] == 1.0
    assert result["category_confusion"] == {"safety": {"safety": 1}}  # matched pairs only, gold row then predicted


def test_vbp_harness_prints_the_category_confusion() -> None:
    table = runner.format_table({"dataset": "vbp", "split": "gold", "examples": 1, "seconds": 0.1,
                                 "category_confusion": {"outcome": {"outcome": 3, "safety": 1}, "safety": {"safety": 2}}})
    assert "rows gold, columns predicted" in table
    assert any(line.split()[:3] == ["outcome", "3", "1"] for line in table.splitlines())


def test_vbp_harness_cv_needs_a_fold_count_the_file_can_take(tiny_gold: Path) -> None:
    from extractor.errors import ConfigError

    with pytest.raises(ConfigError, match="--cv 3 needs between 2 and 1 folds"):
        runner.run("vbp", tiny_gold, cv=3)


@pytest.mark.slow
def test_vbp_harness_cross_validates_the_category_head_by_document(tmp_path: Path) -> None:
    from tests.conftest import CORPUS

    gold = [json.loads(line) for line in (CORPUS / "labels" / "gold.jsonl").read_text().splitlines()[:4]]
    for g in gold:  # four documents of the label gold, their paths made absolute
        g["path"] = str(CORPUS / "labels" / g["path"])
    path = tmp_path / "four.jsonl"
    path.write_text("".join(json.dumps(g) + "\n" for g in gold))
    result = runner.run("vbp", path, cv=2)
    assert result["cv_folds"] == 2 and result["examples"] == 4
    assert 0.5 < result["category_accuracy"] <= 1.0 and sum(sum(r.values()) for r in result["category_confusion"].values()) > 50


@pytest.mark.slow
def test_vbp_harness_end_to_end_on_tiny_gold(tiny_gold: Path, tmp_path: Path) -> None:
    result = runner.run("vbp", tiny_gold)
    assert result["examples"] == 1 and result["gold_claims"] == 3
    # the extractor finds the first two claims and nothing else; the third quote is not in the document
    assert result["predicted_claims"] == 2
    assert result["claim_precision"] == 1.0
    assert result["claim_recall"] == round(2 / 3, 4)
    assert result["claim_f1"] == 0.8
    assert result["quantity_f1"] == 1.0
    for key in ("claim_f1", "strict_f1", "category_accuracy", "direction_accuracy", "quantity_f1", "git_commit", "extractors", "seconds"):
        assert key in result
    runner.write_json(result, tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text())["dataset"] == "vbp"


@pytest.mark.slow
def test_vbp_harness_on_the_bundled_corpus() -> None:
    from tests.conftest import CORPUS

    result = runner.run("vbp", CORPUS / "gold.jsonl")
    assert result["examples"] == len([line for line in (CORPUS / "gold.jsonl").read_text().splitlines() if line.strip()])
    assert 0.0 <= result["claim_f1"] <= 1.0 and result["gold_claims"] == sum(
        len(json.loads(line)["claims"]) for line in (CORPUS / "gold.jsonl").read_text().splitlines() if line.strip())
