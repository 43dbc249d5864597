"""Direction of effect of finding sentences: increase, decrease, no difference, negation and arm flips."""

from __future__ import annotations

import numpy as np
import pytest

from extractor.direction import (
    LABELS,
    N_BUCKETS,
    WEIGHTS_PATH,
    classify_direction,
    direction_cues,
    direction_probabilities,
    hash_features,
)
from extractor.errors import ConfigError
from extractor.schema import Direction

INC, DEC, ND = Direction.increase, Direction.decrease, Direction.no_difference

CASES = [
    # increase
    ("increase", "Pain relief was significantly greater with ibuprofen than with placebo (p < 0.001).",
     "ibuprofen", "placebo", "pain relief", INC),
    ("increase", "Patients receiving exercise training achieved a significantly higher peak VO2 than controls (p = 0.01).",
     "exercise training", "usual care", "peak VO2", INC),
    ("increase", "Supplementation significantly increased serum ferritin compared with placebo (P < 0.05).",
     "iron supplementation", "placebo", "serum ferritin", INC),
    # decrease
    ("decrease", "Tinzaparin significantly reduced the rate of recurrent venous thromboembolism compared with unfractionated heparin (P = 0.01).",
     "tinzaparin", "unfractionated heparin", "recurrent venous thromboembolism", DEC),
    ("decrease", "Length of stay was significantly shorter in the enhanced recovery group (4.2 vs 6.1 days, p < 0.001).",
     "enhanced recovery", "standard care", "length of stay", DEC),
    ("decrease", "Major bleeding occurred in 2.1% of apixaban patients versus 3.1% of warfarin patients (p < 0.001).",
     "apixaban", "warfarin", "major bleeding", DEC),
    # no difference
    ("no_difference", "There was no significant difference in mortality between the two groups (12% vs 14%, p = 0.45).",
     "early surgery", "delayed surgery", "mortality", ND),
    ("no_difference", "Quality of life scores did not differ between the groups at 12 months.",
     "telehealth", "usual care", "quality of life", ND),
    ("no_difference", "Rates of wound infection were similar in both arms (OR 0.95, 95% CI 0.70 to 1.30).",
     "antibiotic-coated sutures", "plain sutures", "wound infection", ND),
    # negation
    ("negation", "The reduction in pain with acupuncture was not statistically significant (p = 0.21).",
     "acupuncture", "sham acupuncture", "pain", ND),
    ("negation", "Metformin failed to reduce body weight compared with placebo.",
     "metformin", "placebo", "body weight", ND),
    ("negation", "Valsartan did not significantly lower systolic blood pressure relative to amlodipine (p = 0.38).",
     "valsartan", "amlodipine", "systolic blood pressure", ND),
    # arm flips: the sentence is about the comparator, or names it first
    ("arm flip", "Pain scores were significantly higher in the placebo group than in the ketamine group (p < 0.01).",
     "ketamine", "placebo", "pain scores", DEC),
    ("arm flip", "Readmissions were significantly lower in the control group than in the telemonitoring group (p = 0.02).",
     "telemonitoring", "usual care", "readmissions", INC),
    ("arm flip", "The usual care group had significantly fewer falls than the exercise group (p = 0.03).",
     "exercise programme", "usual care", "falls", INC),
    ("arm flip", "Compared with placebo, ketamine significantly lowered pain scores (p < 0.01).",
     "ketamine", "placebo", "pain scores", DEC),
]


@pytest.mark.parametrize(("kind", "evidence", "intervention", "comparator", "outcome", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_direction_classify_label(kind: str, evidence: str, intervention: str, comparator: str, outcome: str, expected: Direction) -> None:
    label, probability = classify_direction(evidence, intervention=intervention, comparator=comparator, outcome=outcome)
    assert label is expected, f"{kind}: {evidence!r} read as {label.value} ({probability:.2f})"
    assert 1 / 3 < probability <= 1.0


@pytest.mark.parametrize(("evidence", "intervention", "comparator", "outcome"), [
    ("Pain scores were significantly higher in the placebo group than in the ketamine group (p < 0.01).", "ketamine", "placebo", "pain scores"),
    ("Mortality was significantly lower with apixaban than with warfarin (p = 0.01).", "apixaban", "warfarin", "mortality"),
])
def test_direction_swapping_arms_flips_the_label(evidence: str, intervention: str, comparator: str, outcome: str) -> None:
    forward, _ = classify_direction(evidence, intervention=intervention, comparator=comparator, outcome=outcome)
    backward, _ = classify_direction(evidence, intervention=comparator, comparator=intervention, outcome=outcome)
    assert {forward, backward} == {INC, DEC}


@pytest.mark.parametrize(("evidence", "expected"), [
    ("Mortality did not differ between groups (p = 0.62).", ND),
    ("There were no significant differences in length of stay.", ND),
    ("Length of stay was significantly reduced (p < 0.001).", DEC),
    ("HbA1c increased significantly in the intervention group (p = 0.003).", INC),
    ("Total mortality\n98/2006 (4.9%)\n132/2027 (6.5%)\n0.76 (0.59-0.98)\n0.03\n", DEC),
    ("Major haemorrhage\n33/2212 (1.5%)\n57/2235 (2.5%)\n0.63 (0.37-1.05)\n0.08\n", ND),
])
def test_direction_rules_verdict(evidence: str, expected: Direction) -> None:
    assert direction_cues(evidence).rule is expected


@pytest.mark.parametrize(("evidence", "significant", "not_significant", "ci"), [
    ("lower in group A (p = 0.03)", True, False, ""),
    ("similar (P=0.47)", False, True, ""),
    ("reduced (P < .001)", True, False, ""),
    ("a higher risk (OR 2.3, 95% CI 1.3–3.4)", False, False, "above"),
    ("a lower risk (HR 0.85, 95% CI 0.65-1.12)", False, False, "null"),
    ("a difference of −2.7 (95% CI −5.9 to −0.6)", False, False, "negative"),
])
def test_direction_cues_p_values_and_intervals(evidence: str, significant: bool, not_significant: bool, ci: str) -> None:
    cues = direction_cues(evidence)
    assert (cues.p_significant, cues.p_not_significant, cues.ci) == (significant, not_significant, ci)


@pytest.mark.parametrize("evidence", ["", "Results are shown in Table 2."])
def test_direction_probabilities_sum_to_one(evidence: str) -> None:
    probs = direction_probabilities(evidence)
    assert probs.shape == (len(LABELS),)
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("size", [10, 768])
def test_direction_embedding_of_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(ConfigError, match="dimensions"):
        classify_direction("Mortality was lower (p = 0.01).", embedding=np.zeros(size, dtype=np.float32))


@pytest.mark.parametrize("features", [["bias", "w1:lower", "w1:lower", "r:rule=decrease"]])
def test_direction_hash_features_are_stable_and_unique(features: list[str]) -> None:
    ids, vals = hash_features(features)
    assert list(ids) == sorted(set(ids.tolist()))
    assert len(ids) == 3 and (ids < N_BUCKETS).all() and (vals > 0).all()
    assert np.array_equal(hash_features(features)[0], ids)


@pytest.mark.parametrize("limit_mb", [5])
def test_direction_weights_are_small(limit_mb: int) -> None:
    assert WEIGHTS_PATH.is_file(), "train the head: python -m eval.training.train_direction --data ../shared/data/evidence_inference"
    assert WEIGHTS_PATH.stat().st_size < limit_mb * 1024 * 1024
