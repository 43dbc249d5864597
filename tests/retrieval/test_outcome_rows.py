"""A claim's two arm percentages read against the cited trial's own sentence or table row for the claim's outcome
(``retrieval.numeric.outcome_row_check``), and percentages compared to the precision they are written in."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.pipeline import parse_file
from extractor.quantities import extract_quantities
from extractor.schema import Claim, Direction, NumericVerdict, Span
from retrieval.numeric import check_numbers, outcome_core, outcome_row_check

TRIAL = """# A randomised trial of Stentix against Control

## Introduction

Restenosis occurs in 10% to 20% of patients after bare metal stenting.

## Methods

Patients were randomised to Stentix (n=38) or Control (n=39).

## Results

Angiographic restenosis at 9 months was observed in 1 (2.6%) patient in the Stentix group and in 2 (5.1%) patients in the Control group (p=1.000).
Target lesion revascularisation at 9 months was 2.6% in both groups.
Stent thrombosis at 12 months occurred in 4 (10.5%) and 1 (2.6%) patients.

| Outcome | Stentix (n=38) | Control (n=39) | p |
|---|---|---|---|
| Restenosis | 1 (2.6) | 2 (5.1) | 1.000 |
| Death | 1 (2.6) | 0 | 0.494 |

## Discussion

Restenosis was 2.6% with Stentix against 7.7% in earlier series.
"""


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    path = Path(tmp_path_factory.mktemp("trial")) / "trial.md"
    path.write_text(TRIAL, encoding="utf-8")
    return parse_file(path, kind="clinical_paper")


def _claim(quote: str, outcome: str = "", direction: Direction = Direction.decrease) -> Claim:
    return Claim(doc_id="bid", page=1, span=Span(start=0, end=len(quote)), quote=quote, category="outcome", domain="patient_and_staff",
                 direction=direction, extractor="test", outcome=outcome, intervention="Stentix coronary stent", quantities=extract_quantities(quote))


def test_the_misquoted_arm_is_caught_from_the_trials_own_row(trial) -> None:
    claim = _claim("Binary restenosis at 9 months was 2.6% with Stentix compared with 7.7% with Control [1].")
    row = outcome_row_check(claim, trial)  # no outcome extracted: the claim's subject names it
    assert row is not None and row.check.verdict is NumericVerdict.mismatch
    assert row.check.claimed.text == "7.7%" and row.check.found.value == 5.1
    assert "2.6% matches" in row.check.note and "p. " in row.check.note
    assert "2 rows of the trial agree" in row.check.note  # the Results sentence and the table row
    assert trial.text[row.span_start:row.span_end] == row.text  # grounded: the row slices back to itself


def test_a_faithful_quote_matches_both_arms(trial) -> None:
    row = outcome_row_check(_claim("Restenosis was 2.6% with Stentix and 5.1% with Control [1].", "restenosis"), trial)
    assert row is not None and row.check.verdict is NumericVerdict.match


def test_the_discussions_figures_and_another_outcomes_row_are_never_read(trial) -> None:
    # 7.7% is in the Discussion (earlier series), and Death's row has 2.6% too: neither may confirm or accuse
    row = outcome_row_check(_claim("Death was 2.6% with Stentix compared with 0.5% with Control.", "death"), trial)
    assert row is None  # the Death row gives "0", not a percentage: two arm values are not there to compare
    assert outcome_row_check(_claim("Myocardial infarction was 2.6% with Stentix against 9.0% with Control.", "myocardial infarction"),
                             trial) is None


def test_another_timepoint_is_not_the_claims(trial) -> None:
    claim = _claim("Stent thrombosis at 6 months was 10.5% with Stentix against 9.9% with Control.", "stent thrombosis")
    assert outcome_row_check(claim, trial) is None  # the trial's figures are at 12 months


def test_a_bare_count_and_figure_in_a_table_is_a_percentage_only_when_it_fits_a_group_size() -> None:
    from retrieval.numeric import _row_percents

    assert [v.value for v in _row_percents("Restenosis | 1 (2.6) | 2 (5.1) | 1.000", {38, 39}, in_table=True)] == [2.6, 5.1]
    assert _row_percents("Late loss | 0.11 (0.25) | 0.16 (0.43)", {38, 39}, in_table=True) == []  # mean (SD)
    assert _row_percents("Restenosis | 1 (2.6) | 2 (5.1)", {120}, in_table=True) == []  # 1/2.6% is no group of 120


def test_a_percentage_in_a_ci_is_not_an_arm() -> None:
    from retrieval.numeric import _row_percents

    assert [v.value for v in _row_percents("events in 12% vs 20% (RR 0.6, 95% CI 0.4 to 0.9)", set(), in_table=False)] == [12.0, 20.0]


def test_an_outcome_is_named_by_its_specific_words() -> None:
    assert outcome_core("binary restenosis at 9 months") == {"resten"}
    assert outcome_core("rate of surgical site infection") == {"surgic", "site", "infect"}


@pytest.mark.parametrize(("claimed", "passage", "verdict"), [
    ("was 7.7% with Stentix", "Revascularisation was 7.9% with Stentix.", NumericVerdict.not_comparable),  # 7.7% is not 7.9%
    ("was 7.9% with Stentix", "Revascularisation was 7.9% with Stentix.", NumericVerdict.match),
    ("was 45% with Stentix", "Response was 45.4% with Stentix.", NumericVerdict.match),  # the claim's precision
    ("was 6% with Stentix", "Infection occurred in 12/200 with Stentix.", NumericVerdict.match),  # 6.0%, exact
])
def test_a_stated_percentage_matches_only_to_the_precision_it_is_written_in(claimed, passage, verdict) -> None:
    claim = _claim(f"Revascularisation {claimed}.", "revascularisation", Direction.unspecified)
    assert check_numbers(claim, passage).verdict is verdict


def test_measurements_that_share_one_unit_are_both_read() -> None:
    claim = _claim("Minimal stent area at 9 months was 6.95 mm² with Stentix and 7.29 mm² with Control (p=0.508) [1].",
                   "minimal stent area", Direction.unspecified)
    passage = "Minimal lumen area after 9 months (6.95±1.98 vs. 7.29±2.34 mm2, p=0.508) did not differ."
    assert check_numbers(claim, passage).verdict is NumericVerdict.match
    other = "Minimal lumen area after 9 months (6.95±1.98 vs. 7.47±2.34 mm2, p=0.508) did not differ."
    assert check_numbers(claim, other).verdict is NumericVerdict.not_comparable  # a measurement never accuses
