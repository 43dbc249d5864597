"""The numeric check on worked examples: stated numbers, recomputed effects, mismatches."""

from __future__ import annotations

import pytest

from extractor.claims import direction_of
from extractor.quantities import extract_quantities
from extractor.schema import Claim, ClaimCategory, NumericVerdict, Span, VBPDomain
from retrieval.numeric import check_numbers, relative_reductions


def claim(quote: str) -> Claim:
    quantities = extract_quantities(quote)
    return Claim(doc_id="d", page=1, span=Span(start=0, end=len(quote)), quote=quote, category=ClaimCategory.outcome,
                 domain=VBPDomain.patient_and_staff, quantities=quantities, direction=direction_of(quote, quantities), extractor="test")


@pytest.mark.parametrize(
    ("quote", "passage", "verdict", "found"),
    [
        # the worked example: 12/200 vs 22/200 is a 45.5% relative reduction
        ("Kelvo reduces surgical site infection by 45%.", "Infection occurred in 12/200 vs 22/200 patients.", NumericVerdict.match, 45.45),
        ("Kelvo reduces surgical site infection by 30%.", "Infection occurred in 12/200 vs 22/200 patients.", NumericVerdict.mismatch, 45.45),
        # from a stated risk ratio: RR 0.62 is a 38% reduction
        ("Failure fell by 38%.", "Premature failure (risk ratio 0.62, 95% CI 0.51 to 0.75).", NumericVerdict.match, 38.0),
        # from two risks as percentages
        ("Restenosis was reduced by 66%.", "Binary restenosis was 2.6% vs 7.7%.", NumericVerdict.match, 66.23),
        # a claimed percentage against the paper's
        ("Binary restenosis was 2.6% with the Genoss DES.", "Binary restenosis occurred in 2.6% and 5.1%.", NumericVerdict.match, 2.6),
        # a lone percentage near the claim's may be another arm's or another outcome's: no evidence against it
        ("Knowledge rose to 85.0% of children.", "Knowledge improved from 33.3% to 75.0% in the intervention group.",
         NumericVerdict.not_comparable, None),
        ("39% of patients had sick leave.", "Antidepressants were continued by 78/133 patients.", NumericVerdict.not_comparable, None),
        # both arms: the arm that matches anchors the pair, and the other arm then matches or not
        ("Adverse events occurred in 64% of patients with fluoxetine versus 71% with placebo.",
         "Adverse events occurred in 72/112 (64.3%) with fluoxetine and 79/112 (70.5%) with placebo.", NumericVerdict.match, 64.29),
        ("Adverse events occurred in 64% of patients with fluoxetine versus 85% with placebo.",
         "Adverse events occurred in 72/112 (64.3%) with fluoxetine and 79/112 (70.5%) with placebo.", NumericVerdict.mismatch, 70.54),
        ("Adverse events occurred in 85% of patients with placebo versus 64% with fluoxetine.",
         "Adverse events occurred in 72/112 (64.3%) with fluoxetine and 79/112 (70.5%) with placebo.", NumericVerdict.mismatch, 70.54),
        # one arm found, the other nowhere: not every number is checked, so no match
        ("Adverse events occurred in 64% of patients with fluoxetine versus 71% with placebo.",
         "Adverse events occurred in 64.3% of the fluoxetine group.", NumericVerdict.not_comparable, None),
        # a bound is no estimate: "at least 4 times" cannot contradict a 17% rise
        ("Continuation rose by 17% with the consultations.", "Sick leave was at least 4 times as long in a few patients.",
         NumericVerdict.not_comparable, None),
        # two adjacent percentages may confirm a claimed effect, never contradict it
        ("Obstruction was reduced by 38%.", "Obstruction: 58% vs 36%.", NumericVerdict.match, 37.93),
        ("Obstruction was reduced by 30%.", "Obstruction: 58% vs 36%.", NumericVerdict.not_comparable, None),
        # an increase is recomputed as a rise over the lower arm: 86/125 against 78/133 is +17.3%, not the 14.8% fall
        ("Consultations increased continuation by 17%.", "Continued: 86/125 vs 78/133.", NumericVerdict.match, 17.31),
        ("Consultations increased continuation by 12%.", "Continued: 86/125 vs 78/133.", NumericVerdict.mismatch, 17.31),
        ("Kelvo eliminated infection: a 100% reduction.", "Infection occurred in 0/100 vs 9/100 patients.", NumericVerdict.match, 100.0),
        # a percentage recomputed from arm counts: 93/103 is 90.3%
        ("Healing was achieved in 90% of patients.", "Complete healing in 93/103 patients.", NumericVerdict.match, 90.29),
        # nothing comparable
        ("Kelvo reduces infection by 45%.", "The trial enrolled adults on surgical wards.", NumericVerdict.not_comparable, None),
        ("Kelvo is the most comfortable dressing.", "Infection occurred in 12/200 vs 22/200.", NumericVerdict.not_comparable, None),
    ],
)
def test_numeric_check(quote: str, passage: str, verdict: NumericVerdict, found: float | None) -> None:
    result = check_numbers(claim(quote), passage)
    assert result.verdict is verdict, result.note
    if found is not None:
        assert result.found is not None and result.found.value == pytest.approx(found, abs=0.01)
        assert result.claimed is not None and result.claimed.text in quote
        assert result.note


def test_numeric_mismatch_reports_both_values() -> None:
    result = check_numbers(claim("Kelvo reduces surgical site infection by 30%."), "Infection occurred in 12/200 vs 22/200 patients.")
    assert "30%" in result.note and "45.5%" in result.note
    assert result.recomputed_from == "from 12/200 vs 22/200 (risk ratio 0.545)"


@pytest.mark.parametrize(
    ("passage", "expected"),
    [
        ("RR 0.55", [45.0]),
        ("12/200 vs 22/200", [45.45]),
        ("14 of 200 and 20 of 200", [30.0]),
    ],
)
def test_numeric_relative_reductions(passage: str, expected: list[float]) -> None:
    values = [f.value for f in relative_reductions(passage, extract_quantities(passage))]
    assert values == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    ("quote", "passage", "verdict"),
    [
        # measurements with units: every one must appear in the source with the same unit
        ("Late lumen loss was 0.11±0.25 mm with Genoss and 0.16±0.43 mm with Promus [1].",
         "In-stent late loss was 0.11 ± 0.25 mm vs 0.16 ± 0.43 mm (P = 0.56).", NumericVerdict.match),
        ("Minimal stent area was 6.95 mm² with Genoss.", "Minimal stent area: 6.95 mm2 and 7.29 mm2.", NumericVerdict.match),
        # one of them missing, or another unit: not comparable, never a guessed mismatch
        ("Late lumen loss was 0.11 mm with Genoss and 0.20 mm with Promus.", "Late loss 0.11 mm vs 0.16 mm.", NumericVerdict.not_comparable),
        ("Procedure time was 38 minutes.", "Procedure time was 38 seconds shorter.", NumericVerdict.not_comparable),
        # two arms' unitless values: both must appear as written; one off is not comparable, never a mismatch
        ("Mean competence was 13.6 with motivational interviewing versus 14.71 with standard education.",
         "Perceived competence 13.6 (3.05) 14.71 (3.87) 0.21", NumericVerdict.match),
        ("Mean competence was 13.6 with motivational interviewing versus 18.39 with standard education.",
         "Perceived competence 13.6 (3.05) 14.71 (3.87) 0.21", NumericVerdict.not_comparable),
        ("Mean competence was 13.6 with motivational interviewing versus 14.7 with standard education.",
         "Perceived competence 13.6 (3.05) 14.71 (3.87) 0.21", NumericVerdict.not_comparable),
    ],
)
def test_numeric_check_measurements(quote: str, passage: str, verdict: NumericVerdict) -> None:
    assert check_numbers(claim(quote), passage).verdict is verdict


def test_numeric_check_a_near_miss_of_the_anchored_arm_is_not_comparable() -> None:
    """58% anchors on 57.3% (within a point), and the other arm's 39% is a near miss of 38.4%: neither a match nor a
    mismatch, and the check answers instead of failing (it once raised on the missing verdict)."""
    result = check_numbers(claim("Antibiotic prescribing fell from 58% to 39% with the test."),
                           "Antibiotics were prescribed for 38.4% of patients in the test arm and 57.3% with usual care.")
    assert result.verdict is NumericVerdict.not_comparable
