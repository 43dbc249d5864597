"""The NLI4CT, HealthVer and SciFact-label adapters on tiny folders in the real layouts, and (slow) on the real data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from eval.datasets import healthver, nli4ct, scifact_label
from extractor.errors import ConfigError
from extractor.schema import Stance
from eval.datasets import stance_data
from retrieval.support import StancePrediction

TRIAL_A = {
    "Clinical Trial ID": "NCT00000001",
    "Intervention": ["INTERVENTION 1: ", "  Arm A", "  Oral capecitabine twice daily on days 1-14."],
    "Eligibility": ["Inclusion Criteria:", "  Women aged 18 years or older", "Exclusion Criteria:", "  Pregnancy"],
    "Results": ["Outcome Measurement: ", "  Progression-free survival", "  Results 1: ", "  Arm A: 7.1 months"],
    "Adverse Events": ["Adverse Events 1:", "  Total: 4/19 (21.05%)", "  Neutropenia 3/19 (15.79%)"],
}
TRIAL_B = {**TRIAL_A, "Clinical Trial ID": "NCT00000002", "Intervention": ["INTERVENTION 1: ", "  Placebo tablets daily."]}
NLI4CT_SPLIT = {
    "s1": {"Type": "Single", "Section_id": "Adverse Events", "Primary_id": "NCT00000001",
           "Statement": "Neutropenia occurred in the primary trial.", "Label": "Entailment", "Primary_evidence_index": [2]},
    "s2": {"Type": "Single", "Section_id": "Eligibility", "Primary_id": "NCT00000001",
           "Statement": "Men of any age can join the primary trial.", "Label": "Contradiction", "Primary_evidence_index": [1]},
    "s3": {"Type": "Comparison", "Section_id": "Intervention", "Primary_id": "NCT00000001", "Secondary_id": "NCT00000002",
           "Statement": "Both trials give oral capecitabine.", "Label": "Contradiction", "Primary_evidence_index": [2],
           "Secondary_evidence_index": [1]},
}
HEALTHVER_ROWS = [
    {"id": "1", "evidence": "Vitamin D supplementation reduced the risk of acute respiratory infection.",
     "claim": "Vitamin D lowers infection risk", "label": "Supports", "topic_ip": "1", "question": "q"},
    {"id": "2", "evidence": "Hydroxychloroquine did not reduce mortality in hospitalised patients.",
     "claim": "Hydroxychloroquine cures COVID-19", "label": "Refutes", "topic_ip": "2", "question": "q"},
    {"id": "3", "evidence": "The first cases were reported in December 2019.", "claim": "Masks prevent transmission",
     "label": "Neutral", "topic_ip": "3", "question": "q"},
]
CORPUS = [
    {"doc_id": 11, "title": "Statins and LDL", "abstract": ["Statins lowered LDL cholesterol by 40%.", "Adverse events were rare."]},
    {"doc_id": 12, "title": "Exercise", "abstract": ["Exercise had no effect on sleep quality."]},
]
CLAIMS = [
    {"id": 0, "claim": "Statins lower LDL cholesterol.", "evidence": {"11": [{"sentences": [0], "label": "SUPPORT"}]},
     "cited_doc_ids": [11]},
    {"id": 5, "claim": "Exercise improves sleep quality.", "evidence": {"12": [{"sentences": [0], "label": "CONTRADICT"}]},
     "cited_doc_ids": [12, 11]},
    {"id": 3, "claim": "Statins raise LDL cholesterol.", "evidence": {"11": [{"sentences": [0], "label": "CONTRADICT"}]},
     "cited_doc_ids": [11]},
]


@pytest.fixture()
def nli4ct_dir(tmp_path: Path) -> Path:
    (tmp_path / "trials").mkdir()
    for trial in (TRIAL_A, TRIAL_B):
        (tmp_path / "trials" / f"{trial['Clinical Trial ID']}.json").write_text(json.dumps(trial))
    (tmp_path / "dev.json").write_text(json.dumps(NLI4CT_SPLIT))
    return tmp_path


@pytest.fixture()
def healthver_dir(tmp_path: Path) -> Path:
    with (tmp_path / "dev.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(HEALTHVER_ROWS[0]))
        writer.writeheader()
        writer.writerows(HEALTHVER_ROWS)
    return tmp_path


@pytest.fixture()
def scifact_dir(tmp_path: Path) -> Path:
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in CORPUS))
    (tmp_path / "claims_train.jsonl").write_text("".join(json.dumps(c) + "\n" for c in CLAIMS))
    (tmp_path / "claims_dev.jsonl").write_text("".join(json.dumps(c) + "\n" for c in CLAIMS))
    return tmp_path


class _FakeClassifier:
    """Says supports when the passage shares a word of five letters or more with the claim, else not_enough_info."""

    name = "fake.stance.v1"
    labels = (Stance.supports, Stance.contradicts, Stance.not_enough_info)

    def probabilities(self, pairs, *, batch_size: int = 16, windows: bool = True, sentences: bool = True) -> np.ndarray:
        self.windows, self.sentences = windows, sentences
        out = []
        for claim, passage in pairs:
            shared = {w for w in claim.lower().split() if len(w) >= 5} & set(passage.lower().split())
            out.append([0.6, 0.1, 0.3] if shared else [0.2, 0.3, 0.5])
        return np.array(out, dtype=np.float32)

    def predict_pairs(self, pairs, *, batch_size: int = 16) -> list[StancePrediction]:
        out = []
        for p in self.probabilities(pairs):
            k = int(np.argmax(p))
            out.append(StancePrediction(self.labels[k], float(p[k]), {s.value: float(v) for s, v in zip(self.labels, p)}))
        return out


@pytest.fixture()
def fake_classifier(monkeypatch: pytest.MonkeyPatch) -> _FakeClassifier:
    fake = _FakeClassifier()
    monkeypatch.setattr("retrieval.support.get_stance_classifier", lambda: fake)
    return fake


def _check_scores(result: dict, labels: tuple[str, ...], key: str = "macro_f1", per: str = "per_label") -> None:
    assert 0.0 <= result[key] <= 1.0
    assert set(result[per]) == set(labels)
    for m in result[per].values():
        assert {"precision", "recall", "f1"} <= set(m) and all(0.0 <= m[k] <= 1.0 for k in ("precision", "recall", "f1"))


# ----------------------------------------------------------------------------------------------- readers and splits


def test_stance_adapters_nli4ct_premise_names_each_trial(nli4ct_dir: Path) -> None:
    examples = {e.id: e for e in stance_data.load_nli4ct(nli4ct_dir, "dev")}
    assert examples["s1"].label == "supports" and examples["s2"].label == "contradicts"
    assert examples["s1"].premise.startswith("Primary trial: Adverse Events 1:") and "Neutropenia" in examples["s1"].premise
    assert "Secondary trial:" in examples["s3"].premise and "Placebo" in examples["s3"].premise


@pytest.mark.parametrize("budget", [6, 16, 40])
def test_stance_adapters_select_lines_keeps_order_and_budget(budget: int) -> None:
    lines = [f"line {i} about {'neutropenia' if i == 7 else 'other things'}" for i in range(20)]
    kept = stance_data.select_lines(lines, "Was there neutropenia?", budget)
    assert sum(len(x.split()) for x in kept) <= budget
    assert kept == sorted(kept, key=lambda x: int(x.split()[1]))
    if budget >= 15:  # room for the two heading lines and the matching one
        assert any("neutropenia" in x for x in kept)


def test_stance_adapters_default_splits(nli4ct_dir: Path, healthver_dir: Path, tmp_path: Path) -> None:
    assert nli4ct.default_split(nli4ct_dir) == "dev"
    assert healthver.default_split(healthver_dir) == "dev"
    empty = tmp_path / "empty"
    empty.mkdir()
    for adapter in (nli4ct, healthver):
        with pytest.raises(ConfigError):
            adapter.default_split(empty)


def test_stance_adapters_missing_split_lists_present(nli4ct_dir: Path) -> None:
    with pytest.raises(ConfigError, match="dev"):
        stance_data.load_nli4ct(nli4ct_dir, "test")


def test_stance_adapters_scifact_holdout_rule() -> None:
    assert [stance_data.is_scifact_holdout(i) for i in (0, 5, 3, "10", 11)] == [True, True, False, True, False]


# ----------------------------------------------------------------------------------------------- adapters, fake classifier


def test_stance_adapters_nli4ct_run_maps_nei_to_two_labels(nli4ct_dir: Path, fake_classifier: _FakeClassifier) -> None:
    result = nli4ct.run(nli4ct_dir, "dev")
    assert result["examples"] == 3 and result["classifier"] == "fake.stance.v1"
    assert set(result["predicted"]) <= {"supports", "contradicts"}
    assert result["not_enough_info_mapped"] >= 0
    _check_scores(result, ("supports", "contradicts"))
    assert set(result["by_type"]) == {"Single", "Comparison"}
    assert fake_classifier.windows is False and fake_classifier.sentences is False  # a premise is read as one passage


def test_stance_adapters_healthver_run(healthver_dir: Path, fake_classifier: _FakeClassifier) -> None:
    result = healthver.run(healthver_dir, "dev", limit=3)
    assert result["examples"] == 3 and result["gold"] == {"supports": 1, "contradicts": 1, "not_enough_info": 1}
    _check_scores(result, ("supports", "contradicts", "not_enough_info"))


def test_stance_adapters_healthver_unknown_label(healthver_dir: Path) -> None:
    text = (healthver_dir / "dev.csv").read_text().replace("Neutral", "Maybe")
    (healthver_dir / "dev.csv").write_text(text)
    with pytest.raises(ConfigError, match="Maybe"):
        stance_data.load_healthver(healthver_dir, "dev")


@pytest.mark.parametrize(("split", "claims", "pairs"), [("train", 2, 3), ("dev", 3, 4)])
def test_stance_adapters_scifact_label_scores_the_holdout_of_train(scifact_dir: Path, fake_classifier: _FakeClassifier,
                                                                    split: str, claims: int, pairs: int) -> None:
    result = scifact_label.label_scores(scifact_dir, split)
    assert result["label_claims"] == claims and result["label_examples"] == pairs
    assert ("held-out fold" in result["label_scored_on"]) == (split == "train")
    _check_scores(result, ("supports", "contradicts", "not_enough_info"), "label_macro_f1", "label_per_label")


# ----------------------------------------------------------------------------------------------- slow: the real model


@pytest.mark.slow
def test_stance_adapters_real_model_on_tiny_folders(nli4ct_dir: Path, healthver_dir: Path, scifact_dir: Path) -> None:
    for result in (nli4ct.run(nli4ct_dir, "dev"), healthver.run(healthver_dir, "dev")):
        assert result["classifier"] == "stance.minilm-lora.v1" and 0.0 <= result["macro_f1"] <= 1.0
    assert scifact_label.label_scores(scifact_dir, "train")["label_examples"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["nli4ct", "healthver", "scifact"])
def test_stance_adapters_real_data(shared_data: Path, dataset: str) -> None:
    folder = shared_data / dataset
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    if dataset == "scifact":
        result = scifact_label.label_scores(folder, "train", limit=20)
        assert result["label_claims"] == 20 and result["label_examples"] >= 20
        assert "held-out fold" in result["label_scored_on"]
        _check_scores(result, ("supports", "contradicts", "not_enough_info"), "label_macro_f1", "label_per_label")
        # better than always answering the majority label
        majority = max(result["label_gold"].values()) / result["label_examples"]
        assert result["label_accuracy"] > majority - 0.15
        return
    adapter = nli4ct if dataset == "nli4ct" else healthver
    result = adapter.run(folder, adapter.default_split(folder), limit=40)
    assert result["examples"] == 40 and result["pairs_per_second"] > 0
    labels = ("supports", "contradicts") if dataset == "nli4ct" else ("supports", "contradicts", "not_enough_info")
    _check_scores(result, labels)
    assert len(result["predicted"]) >= 2, "the classifier answers one label for everything"
