"""A submission's stated savings and all-in unit costs against its own cost figures (issue 17, point 2)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractor.pipeline import parse_file
from extractor.savings import _basis, saving_checks, unit_cost_checks

TABLE = """
## Costs

| Cost element | ClearFlow | Current catheter |
|---|---|---|
| Unit price per catheter | £1.92 | £0.88 |
| Cost per patient per year | £8.49 | £23.79 |
| Annual cost, 45,000 catheterisations | £381,900 | £1,070,550 |
"""

PRICES = """
## Price list

| Item | Price |
|---|---|
| Test cartridge | £3.20 |
| Quality controls (per test) | £1.90 |
| Analyser lease | £620 a year |
"""


def _doc(tmp_path: Path, body: str, kind: str = "supplier_submission"):
    path = tmp_path / "bid.md"
    path.write_text("# Bid\n\n## Summary\n\n" + body, encoding="utf-8")
    return parse_file(path, kind=kind)


def test_a_saving_its_own_cost_table_does_not_give_is_flagged_with_both_figures(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "Switching to ClearFlow gives a net saving of £412,000 per year for a trust with 45,000 catheterisations [2].\n"
               + TABLE)
    (m,) = saving_checks(doc)
    assert (m.kind, m.stated, m.computed) == ("saving", 412000, 688650)
    assert doc.text[m.span.start:m.span.end] == "£412,000"
    assert "£381,900 and £1,070,550, a difference of £688,650" in m.note and "p. 1" in m.note
    assert m in doc.total_mismatches and any("£688,650" in w for w in doc.warnings)  # parse_file runs it


@pytest.mark.parametrize("sentence", [
    "Switching to ClearFlow gives a net saving of £688,650 per year for a trust with 45,000 catheterisations.",
    "Switching to ClearFlow could save up to £700,000 a year.",  # a bound: within 10%
    "Switching to ClearFlow saves around £689,000 a year.",  # written to the thousand
    "Across an integrated care board of 6 such trusts, savings are around £4.1 million a year.",  # the sentence's scale
    "Across an integrated care board, savings of £4.1 million a year are expected.",  # another scale, not stated in the table
    "Over the 7-year contract the saving is £4,820,550.",  # no annual basis
    "The saving is £15.30 per patient per year.",  # per patient per year: the row's own basis, and it fits
    "Every patient saves £9.00 on travel.",  # no basis in the table
])
def test_savings_that_fit_or_cannot_be_told_are_not_flagged(tmp_path: Path, sentence: str) -> None:
    assert saving_checks(_doc(tmp_path, sentence + "\n" + TABLE)) == []


def test_a_rate_per_bed_per_year_is_no_annual_total() -> None:
    assert _basis("Cost per bed per year") == "bed per year"
    assert _basis("Annual cost, 45,000 stays") == "year" and _basis("£4.20 per test") == "test"
    assert _basis("Total over 7 years") is None


def test_an_all_in_unit_cost_below_its_listed_parts_is_flagged(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "The all-in cost is £3.85 per test, including cartridge, controls and lease.\n" + PRICES)
    (m,) = unit_cost_checks(doc)
    assert (m.kind, m.stated, m.computed) == ("unit_cost", 3.85, 5.10)
    assert "cartridge £3.20" in m.note and "control £1.90" in m.note and "lease" not in m.note.split("together")[0].split(":")[1]
    assert doc.text[m.span.start:m.span.end] == "£3.85"


@pytest.mark.parametrize("sentence", [
    "The all-in cost is £5.50 per test, including cartridge, controls and lease.",  # above its parts: may include more
    "The all-in cost is £3.85 per test, including the lease.",  # the lease is priced by the year, not per test
    "Each test costs £3.85.",  # not an all-in price
])
def test_all_in_costs_at_or_above_their_parts_are_not_flagged(tmp_path: Path, sentence: str) -> None:
    assert unit_cost_checks(_doc(tmp_path, sentence + "\n" + PRICES)) == []


def test_a_papers_figures_are_never_checked(tmp_path: Path) -> None:
    body = "The intervention gave a saving of £412,000 per year.\n" + TABLE
    assert saving_checks(_doc(tmp_path, body, kind="clinical_paper")) == []


def test_the_precheck_reports_a_figure_that_lies_in_no_claim(tmp_path: Path) -> None:
    from api import reports

    doc = _doc(tmp_path, "The all-in cost is £3.85 per test, including cartridge, controls and lease.\n" + PRICES)
    (m,) = [t for t in doc.total_mismatches if t.kind == "unit_cost"]
    report = reports.precheck("Test Ltd", ["bid"], [], generated_at=datetime.now(UTC), figures=[("bid.md", m)])
    (group,) = [g for g in report["groups"] if g["kind"] == "total_mismatch"]
    (finding,) = group["findings"]
    assert finding["claim_id"] is None and finding["document"] == "bid.md" and "£5.10" in finding["message"]
    assert report["readiness"]["verdict"] == "not_ready" and "all-in price" in finding["fix"]
