"""When the pair classifier may speak: thresholds chosen for precision on data it never trained on, and applied."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval.training.calibrate_stance import NEVER, calibrate, threshold_for
from extractor.errors import ConfigError
from extractor.schema import Stance
from retrieval.support import CALIBRATION_PATH, StancePrediction, calibrated, read_calibration


def test_threshold_is_where_precision_reaches_the_target() -> None:
    p = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.55, 0.5])
    right = np.array([1, 1, 1, 1, 0, 1, 0, 0], dtype=bool)
    t, fig = threshold_for(p, right, 0.9)
    assert t == 0.8 and fig["said"] == 4 and fig["precision"] == 1.0
    t, fig = threshold_for(p, right, 0.7)  # a lower target lets more through, never fewer
    assert t <= 0.8 and fig["said"] >= 4


def test_a_label_that_never_reaches_its_target_is_never_said() -> None:
    p = np.array([0.9, 0.8, 0.7])
    t, fig = threshold_for(p, np.array([0, 1, 0], dtype=bool), 0.9)
    assert t == NEVER and fig["said"] == 0


def test_calibrate_takes_the_strictest_set_with_enough_say() -> None:
    rng = np.random.default_rng(0)
    labels = ["supports", "contradicts", "not_enough_info"]

    def probs(n: int, k: int, high: float) -> np.ndarray:
        out = np.full((n, 3), 0.05)
        out[:, k] = rng.uniform(high, 0.9, n)
        return out

    # set "easy": contradicts right whatever its probability; set "hard": contradicts never right
    easy, hard = probs(40, 1, 0.5), probs(40, 1, 0.5)
    result = calibrate({"easy": easy, "hard": hard}, {"easy": ["contradicts"] * 40, "hard": ["not_enough_info"] * 40},
                       labels, {"supports": 0.75, "contradicts": 0.9})
    assert result["thresholds"]["contradicts"] == NEVER  # the hard set, with enough pairs, vetoes it
    assert result["sets"]["contradicts"]["easy"]["said"] == 40


def test_a_side_below_its_threshold_is_not_enough_info_and_keeps_what_it_withheld() -> None:
    pred = StancePrediction(Stance.contradicts, 0.67, {"supports": 0.1, "contradicts": 0.67, "not_enough_info": 0.23})
    held = calibrated(pred, {"contradicts": 0.9, "supports": 0.8})
    assert held.stance is Stance.not_enough_info and held.withheld is Stance.contradicts and held.score == 0.23
    assert held.probabilities == pred.probabilities
    assert calibrated(pred, {"contradicts": 0.6}) is pred  # above its threshold: said
    assert calibrated(pred, {}) is pred  # no calibration: as the classifier said


def test_the_shipped_calibration_reads_and_says_where_it_came_from() -> None:
    thresholds = read_calibration()
    assert set(thresholds) == {"supports", "contradicts"} and all(0 < t <= NEVER for t in thresholds.values())
    meta = json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))
    assert set(meta["pairs"]) == {"healthver_dev", "nli4ct_dev", "scifact_train_heldout_fold"}
    assert "calibrate_stance" in meta["command"]


def test_a_missing_or_broken_calibration_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="is missing"):
        read_calibration(tmp_path / "none.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"thresholds": {"agrees": 0.5}}')
    with pytest.raises(ConfigError, match="cannot be read"):
        read_calibration(broken)
