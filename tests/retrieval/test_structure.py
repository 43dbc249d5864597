"""The structure judge: a claim's direction against the cited trial's finding, with precision-first abstention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extractor.pipeline import parse_file
from extractor.schema import Direction, DocumentKind, Stance
from retrieval.checking.structure import FEATURES, WEIGHTS_PATH, StructureJudge, features, read_findings

TRIAL = """# Silver foam dressing versus gauze after caesarean section: a randomised controlled trial

## Abstract

We randomised 400 women to a silver foam dressing or gauze after caesarean section.

## Results

Surgical site infection was significantly lower with the silver foam dressing than with gauze (6% vs 11%, p = 0.01).

Pain scores at day 3 did not differ significantly between the silver foam dressing and gauze (p = 0.62).

Length of hospital stay was similar in the two groups.
"""


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> object:
    path = Path(tmp_path_factory.mktemp("structure")) / "trial.md"
    path.write_text(TRIAL)
    return parse_file(path, kind=DocumentKind.clinical_paper)


@pytest.fixture(scope="module")
def judge() -> StructureJudge:
    assert WEIGHTS_PATH.is_file(), "train it: python -m eval.training.train_structure --data ../shared/data/evidence_inference"
    return StructureJudge()


def _verdict(judge, trial, direction: Direction, outcome: str):
    findings = read_findings(trial, intervention="silver foam dressing", comparator="gauze", outcome=outcome)
    return judge.judge(direction, findings), findings


def test_structure_finds_the_result_sentence_for_the_outcome(trial) -> None:
    findings = read_findings(trial, intervention="silver foam dressing", comparator="gauze", outcome="surgical site infection")
    assert findings and "Surgical site infection was significantly lower" in findings[0].sentence.text
    assert trial.text[findings[0].sentence.span.start:findings[0].sentence.span.end] == findings[0].sentence.text
    assert findings[0].outcome_coverage == 1.0


def test_structure_the_same_direction_supports(judge, trial) -> None:
    verdict, _ = _verdict(judge, trial, Direction.decrease, "surgical site infection")
    assert verdict.stance is Stance.supports and "significantly lower" in verdict.finding.sentence.text


def test_structure_the_opposite_direction_contradicts(judge, trial) -> None:
    verdict, _ = _verdict(judge, trial, Direction.increase, "surgical site infection")
    assert verdict.stance is Stance.contradicts
    assert verdict.probability >= judge.thresholds[Stance.contradicts]


def test_structure_no_significant_difference_is_read_as_such(judge, trial) -> None:
    same, _ = _verdict(judge, trial, Direction.no_difference, "pain scores")
    claimed_effect, _ = _verdict(judge, trial, Direction.decrease, "pain scores")
    assert same.probabilities["supports"] > claimed_effect.probabilities["supports"]
    assert claimed_effect.stance is not Stance.supports


def test_structure_an_outcome_the_trial_does_not_report_is_not_enough_info(judge, trial) -> None:
    verdict, findings = _verdict(judge, trial, Direction.decrease, "all-cause mortality at one year")
    assert verdict is None or verdict.stance is Stance.not_enough_info
    assert all(f.outcome_coverage == 0.0 for f in findings)


def test_structure_no_direction_no_verdict(judge, trial) -> None:
    findings = read_findings(trial, intervention="silver foam dressing", comparator="gauze", outcome="surgical site infection")
    assert features(Direction.unspecified, findings) is None and judge.judge(Direction.unspecified, findings) is None


def test_structure_calibration_is_monotonic_in_the_evidence_for_the_claim(judge) -> None:
    """More probability that the trial found the claimed direction never lowers the judge's belief that it supports."""
    base = np.array([0.5, 0.3, 0.2, 0.0, 1.0, 1.0, 0.5, 0.5, 0.8])
    assert len(base) == len(FEATURES)
    supports = []
    for p in np.linspace(0.0, 1.0, 11):
        x = base.copy()
        x[0], x[1] = p, (1 - p) / 2
        supports.append(judge.probabilities(x)[0])
    assert all(b >= a - 1e-9 for a, b in zip(supports, supports[1:])), supports
    assert judge.thresholds[Stance.contradicts] > 0.5


def test_structure_trainer_threshold_is_the_lowest_that_reaches_the_precision() -> None:
    from eval.training.train_structure import _threshold

    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 2000)
    right = rng.uniform(0, 1, 2000) < p  # calibrated: a verdict at p is right with probability p
    t, precision, coverage = _threshold(p, right, 0.9)
    assert precision >= 0.9 and 0.7 < t < 0.9 and abs(coverage - (p >= t).mean()) < 1e-3
    lower = round(t - 0.01, 2)
    assert right[p >= lower].mean() < 0.9  # one step lower would miss the precision
    assert _threshold(p, np.zeros(2000, bool), 0.9) == (0.99, 0.0, 0.0)  # never right: never said


def test_structure_claim_only_baseline_sees_a_label_carried_by_the_wording() -> None:
    from eval.training.train_structure import claim_only_baseline

    rng = np.random.default_rng(1)
    claimed = rng.integers(0, 3, 3000)
    groups = rng.integers(0, 100, 3000)
    assert claim_only_baseline(claimed, claimed.copy(), groups) > 0.95  # the label is the claimed direction: an artefact
    assert claim_only_baseline(claimed, rng.integers(0, 3, 3000), groups) < 0.45  # independent of the wording: chance


def test_structure_a_hedged_claim_is_not_contradicted_by_no_difference(judge, trial) -> None:
    findings = read_findings(trial, intervention="silver foam dressing", comparator="gauze", outcome="pain scores")
    firm = judge.judge(Direction.decrease, findings)
    hedged = judge.judge(Direction.decrease, findings, hedged=True)  # "may reduce pain" against "did not differ"
    assert firm.stance is Stance.contradicts
    assert hedged.stance is Stance.not_enough_info and hedged.probabilities == firm.probabilities
    # the other way round is still a contradiction, hedged or not
    ssi = read_findings(trial, intervention="silver foam dressing", comparator="gauze", outcome="surgical site infection")
    assert judge.judge(Direction.increase, ssi, hedged=True).stance is Stance.contradicts


def test_structure_trainer_reads_a_templated_claim_back_through_the_extractor(tmp_path: Path) -> None:
    from eval.training.train_structure import TEMPLATES, _Reader

    read = _Reader(tmp_path)
    for direction in (Direction.decrease, Direction.increase):
        sentence = TEMPLATES[direction][0].format(i="Silver foam dressing", c="gauze", o="surgical site infection") + "."
        got = read(sentence, "Silver foam versus gauze after caesarean section: a randomised trial")
        assert got is not None, sentence
        assert got[0] is direction and "surgical site infection" in got[3].lower()
    assert read("The trial was done in Leeds.", None) is None  # not a claim: nothing to judge
