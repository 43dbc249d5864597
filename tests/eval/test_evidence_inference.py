"""The Evidence Inference adapter end to end: a hand-written miniature in the real layout, and the real folder."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from eval.datasets import evidence_inference

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

ARTICLES = {
    "1001": (
        "TITLE: \nTinzaparin versus unfractionated heparin for pulmonary embolism\n\n"
        "ABSTRACT.BACKGROUND:\nLow-molecular-weight heparins are given for venous thromboembolism.\n"
        "ABSTRACT.RESULTS:\nRecurrent venous thromboembolism occurred significantly less often with tinzaparin than with "
        "unfractionated heparin (2% vs 7%, p = 0.01). Major bleeding did not differ between the groups (1.5% vs 2.5%, p = 0.40).\n"
        "BODY.METHODS:\nPatients were randomised by a central computer. Heparin doses were adjusted to the APTT.\n"
    ),
    "1002": (
        "TITLE: \nExercise training after myocardial infarction\n\n"
        "ABSTRACT.METHODS:\nWe randomised 120 patients to exercise training or usual care for 12 weeks.\n"
        "ABSTRACT.RESULTS:\nPeak VO2 was significantly higher in the exercise group than in the usual care group (p < 0.001).\n"
        "BODY.DISCUSSION:\nTraining is safe in this population.\n"
    ),
    "1003": (
        "TITLE: \nWound infiltration with bupivacaine after hernia repair\n\n"
        "ABSTRACT.RESULTS:\nPain at rest did not differ between the bupivacaine and saline groups at 6 hours (p = 0.52). "
        "Pain on coughing did not differ between the groups at 12 hours (p = 0.61). "
        "Pain on walking was similar in both groups at 24 hours (p = 0.74). "
        "Pain scores at discharge showed no significant difference (p = 0.33). "
        "Pain at one week did not differ between bupivacaine and saline (p = 0.45). "
        "Rescue analgesia for pain was similar in both groups (p = 0.58).\n"
        "BODY.RESULTS:\nNeither arm differed at any time point.\n"
    ),
    "1004": "TITLE: \nAn article of the train split\n\nABSTRACT.RESULTS:\nMortality was lower with drug A (p = 0.01).\n",
}

# (prompt id, pmcid, outcome, intervention, comparator)
PROMPTS = [
    ("1", "1001", "Recurrent venous thromboembolism", "tinzaparin", "unfractionated heparin"),
    ("2", "1001", "Major bleeding", "tinzaparin", "unfractionated heparin"),
    ("3", "1002", "Peak VO2", "exercise training", "usual care"),
    ("4", "1003", "Pain", "bupivacaine infiltration", "saline infiltration"),
    ("5", "1001", "Total mortality", "tinzaparin", "unfractionated heparin"),  # no annotation: dropped
    ("6", "1004", "Mortality", "drug A", "placebo"),  # train split: not read
]

# (user, prompt id, pmcid, valid label, valid reasoning, label, evidence sentence)
ANNOTATIONS = [
    (0, "1", "1001", True, True, "significantly decreased", "Recurrent venous thromboembolism occurred significantly less often"),
    (1, "1", "1001", True, True, "significantly decreased", "Recurrent venous thromboembolism occurred significantly less often"),
    (2, "1", "1001", False, True, "significantly increased", "Patients were randomised by a central computer."),  # invalid label
    (0, "2", "1001", True, True, "no significant difference", "Major bleeding did not differ between the groups"),
    (0, "3", "PMC1002", True, True, "significantly increase", "Peak VO2 was significantly higher"),  # "increase", "PMC" id
    (1, "3", "1002", True, False, "significantly increased", "Training is safe in this population."),  # reasoning invalid: no span
    (0, "4", "1003", True, True, "no significant difference", "Neither arm differed at any time point."),
    (0, "6", "1004", True, True, "significantly decreased", "Mortality was lower with drug A (p = 0.01)."),
]


def _sentence_span(text: str, start_of: str) -> tuple[int, int]:
    start = text.index(start_of)
    end = text.find(". ", start)
    end = text.index("\n", start) if end == -1 or end > text.index("\n", start) else end + 1
    return start, end


@pytest.fixture()
def mini_dataset(tmp_path: Path) -> Path:
    """A four-article Evidence Inference folder in the real layout (prompts.csv, annotations.csv, txt/, splits/)."""
    (tmp_path / "txt").mkdir()
    (tmp_path / "splits").mkdir()
    for pmcid, text in ARTICLES.items():
        (tmp_path / "txt" / f"PMC{pmcid}.txt").write_text(text, encoding="utf-8")
    (tmp_path / "splits" / "validation.txt").write_text("1001\n1002\n1003\n")
    (tmp_path / "splits" / "train.txt").write_text("1004\n")
    with (tmp_path / "prompts.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["PromptID", "PMCID", "Outcome", "Intervention", "Comparator"])
        w.writerows(PROMPTS)
    with (tmp_path / "annotations.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["UserID", "PromptID", "PMCID", "Valid Label", "Valid Reasoning", "Label", "Annotations", "Label Code",
                    "In Abstract", "Evidence Start", "Evidence End"])
        for user, pid, pmcid, valid_label, valid_reasoning, label, start_of in ANNOTATIONS:
            text = ARTICLES[pmcid.removeprefix("PMC")]
            a, b = _sentence_span(text, start_of)
            w.writerow([user, pid, pmcid, valid_label, valid_reasoning, label, text[a:b], 0, "UNK", a, b])
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("split", ["validation"])
def test_evidence_inference_mini_dataset_exact_scores(mini_dataset: Path, split: str) -> None:
    assert evidence_inference.default_split(mini_dataset) == split
    result = evidence_inference.run(mini_dataset, split)
    assert result["examples"] == 4
    assert result["articles"] == 3
    # Prompt 4's gold sentence names neither the outcome nor an arm, and six pain results outrank it: a miss at 1 and 5.
    assert result["evidence_hit_at_1"] == 0.75
    assert result["evidence_hit_at_5"] == 0.75
    assert result["direction_macro_f1_oracle"] == 1.0
    assert result["direction_macro_f1"] == 1.0
    assert result["gold_labels"] == {"decrease": 1, "no_difference": 2, "increase": 1}
    assert result["dropped"] == {"annotations_invalid_label": 1, "annotations_invalid_reasoning": 1, "no_annotation": 1}
    assert [e["hit_at_1"] for e in result["examples_shown"]] == [True, True, True, False]


@pytest.mark.slow
@pytest.mark.parametrize("limit", [5])
def test_evidence_inference_real_folder_keys_and_ranges(limit: int) -> None:
    data = SHARED_DATA / "evidence_inference"
    if not (data / "prompts.csv").is_file():
        pytest.skip(f"Evidence Inference data not found at {data} (clone the repo with ../shared beside it)")
    split = evidence_inference.default_split(data)
    result = evidence_inference.run(data, split, limit=limit)
    assert result["examples"] == limit
    for key in ("evidence_hit_at_1", "evidence_hit_at_5", "direction_macro_f1", "direction_macro_f1_oracle"):
        assert 0.0 <= result[key] <= 1.0, key
    assert result["evidence_hit_at_1"] <= result["evidence_hit_at_5"]
    assert set(result["per_label"]) == {"increase", "decrease", "no_difference"}
    assert result["dropped"]
    assert len(result["examples_shown"]) == limit
