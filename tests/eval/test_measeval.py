"""The MeasEval adapter on a tiny hand-made folder in the real layout, and on the real data."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.datasets import measeval

TEXT = "Mean age was 54.8 years and 31% were women. The dose was 5 mg."
TSV = (
    "docId\tannotSet\tannotType\tstartOffset\tendOffset\tannotId\ttext\tother\n"
    'd1\t1\tQuantity\t13\t23\tT1\t54.8 years\t{"unit": "years"}\n'
    'd1\t2\tQuantity\t28\t31\tT2\t31%\t{"unit": "%"}\n'
    'd1\t3\tQuantity\t57\t61\tT3\t5 mg\t{"unit": "mg"}\n'
    'd1\t3\tMeasuredEntity\t44\t52\tT4\tThe dose\t{"HasQuantity": "T3"}\n'
)


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "dev" / "text").mkdir(parents=True)
    (tmp_path / "dev" / "tsv").mkdir(parents=True)
    (tmp_path / "dev" / "text" / "d1.txt").write_text(TEXT)
    (tmp_path / "dev" / "tsv" / "d1.tsv").write_text(TSV)
    return tmp_path


def test_measeval_loads_only_quantities(tiny: Path) -> None:
    [(doc_id, text, gold)] = measeval.load(tiny, "dev")
    assert doc_id == "d1" and [g["text"] for g in gold] == ["54.8 years", "31%", "5 mg"]
    for g in gold:
        assert text[g["start"] : g["end"]] == g["text"]


@pytest.mark.parametrize(("text", "unit"), [("54.8 years", "years"), ("31%", "%"), ("(5 mg)", "mg"), ("1.2 × 10^5 cells", "cells")])
def test_measeval_written_unit(text: str, unit: str) -> None:
    assert measeval.written_unit(text) == unit


def test_measeval_scores_tiny_set(tiny: Path) -> None:
    result = measeval.run(tiny, measeval.default_split(tiny))
    assert result["examples"] == 1 and result["gold_quantities"] == 3
    # the age and the percentage are found with exact spans and units; a dose in mg is outside
    # the clinical-evidence quantity kinds the extractor covers, so it is missed
    assert (result["quantity_precision"], result["quantity_recall"]) == (1.0, round(2 / 3, 4))
    assert result["quantity_exact_f1"] == result["quantity_f1"] == 0.8
    assert result["unit_accuracy"] == 1.0 and result["units_scored"] == 2


@pytest.mark.slow
def test_measeval_real_folder_keys(shared_data) -> None:
    folder = shared_data / "measeval"
    result = measeval.run(folder, measeval.default_split(folder), limit=10)
    assert result["examples"] == 10
    for key in ("quantity_f1", "unit_accuracy"):
        assert 0.0 <= result[key] <= 1.0
