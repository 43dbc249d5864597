"""A submission's own arithmetic (issue 17, point 2): money totals in its tables against the rows they add up."""

from __future__ import annotations

from pathlib import Path

from extractor.claims import extract_claims
from extractor.pipeline import parse_file

BID = """# Whole-life cost

| Cost per patient stay | Veloxa | Current cannula |
|---|---|---|
| Unit price per cannula | £1.92 | £0.88 |
| Cannulae per patient stay | 1.22 | 1.41 |
| Device cost per patient stay | £2.34 | £1.24 |
| Re-site consumables and nurse time | £4.18 | £7.95 |
| Treatment of complications | £6.10 | £14.60 |
| Total cost per patient stay | £12.62 | £25.79 |
"""


def _parse(tmp_path: Path, text: str, name: str = "bid.md"):
    path = tmp_path / name
    path.write_text(text)
    return parse_file(path, kind="supplier_submission")


def test_consistency_a_total_that_no_run_of_rows_adds_up_to_is_flagged_with_both_figures(tmp_path: Path) -> None:
    doc = _parse(tmp_path, BID)
    (m,) = doc.total_mismatches  # the Veloxa column adds up (2.34 + 4.18 + 6.10, after the unit price and count)
    assert (m.stated, round(m.computed, 2)) == (25.79, 24.67)  # no run of 0.88, 1.24, 7.95, 14.60 gives 25.79
    assert doc.text[m.span.start : m.span.end] == "£25.79"
    assert m.note == "Total cost per patient stay (p. 1) states £25.79, but the 4 rows above it sum to £24.67"
    assert any(m.note in w for w in doc.warnings)
    claim = next(c for c in extract_claims(doc).claims if c.quote.startswith("Total cost per patient stay"))
    assert claim.total_mismatches == [m]


def test_consistency_counts_between_amounts_are_not_parts(tmp_path: Path) -> None:
    doc = _parse(tmp_path, """| Cost per episode | Tessaline | Rented NPWT |
|---|---|---|
| Kit or pump rental | £298 | £392 |
| Nurse visits per episode | 2 | 6 |
| Nurse visits | £104 | £312 |
| Total per episode | £402 | £704 |
""")
    assert doc.total_mismatches == []


def test_consistency_what_cannot_be_read_or_does_not_add_is_never_reported(tmp_path: Path) -> None:
    unreadable = _parse(tmp_path, """| Item | Cost |
|---|---|
| Pump | £1,200 (est.) |
| Service | £300 |
| Total | £2,000 |
""")
    assert unreadable.total_mismatches == []
    means = _parse(tmp_path, """| Outcome | Mean cost |
|---|---|
| Inpatient | 120.5 |
| Outpatient | 40.2 |
| Total 0-12 months | 124.8 |
""", "means.md")
    assert means.total_mismatches == []  # not money: means do not add up
    paper = tmp_path / "paper.md"
    paper.write_text("# Results\n\n" + BID)
    assert parse_file(paper, kind="clinical_paper").total_mismatches == []  # a paper's tables are evidence, not the offer


def test_consistency_a_percentage_that_is_not_its_count_over_its_denominator_is_flagged(tmp_path: Path) -> None:
    doc = _parse(tmp_path, "# Outcomes\n\nPhlebitis occurred in 12 of 200 patients (9%) with Veloxa, against 22 of 200 (11%) "
                           "with standard cannulas; 1 of 3 sites (33%) reported delays.\n")
    (m,) = [t for t in doc.total_mismatches if t.kind == "percent"]  # 22/200 is 11.0% and 1/3 is 33.3%: both right
    assert (m.stated, m.computed) == (9, 6.0) and m.parts == ["12", "200"]
    assert m.note == "'12 of 200 patients (9%)' (p. 1) gives 9%, but 12 of 200 is 6.0%"
    assert any(m.note in w for w in doc.warnings)
    claim = next(c for c in extract_claims(doc).claims if "Phlebitis" in c.quote)
    assert claim.total_mismatches == [m]


def test_consistency_rounding_and_truncation_are_not_slips(tmp_path: Path) -> None:
    doc = _parse(tmp_path, "Re-sites fell in 2 of 3 wards (66%), 1 of 6 (16.7%), 7/9 (78%) and 45 of 1,012 cannulae (4.4%).\n")
    assert [t for t in doc.total_mismatches if t.kind == "percent"] == []


RESTATED = """# Bid

## Summary

Veloxa reduced premature catheter failure by 45% compared with open-system cannulae in the multicentre trial [1].

## Evidence

In the multicentre trial, Veloxa reduced premature catheter failure by 38% compared with open-system cannulae [1].
In ICU patients, catheter failure fell by 45% with Veloxa at 30 days [1].
In ward patients, catheter failure fell by 30% with Veloxa at 90 days [1].
Veloxa reduced premature catheter failure by 45% compared with open-system cannulae in the second trial [2].
"""


def test_consistency_one_statement_made_twice_with_another_figure_is_flagged(tmp_path: Path) -> None:
    doc = _parse(tmp_path, RESTATED)
    (m,) = [t for t in doc.total_mismatches if t.kind == "restated"]
    assert (m.computed, m.stated) == (45.0, 38.0) and doc.text[m.span.start:m.span.end] == "38%"
    assert "45% on p. 1" in m.note and "38% on p. 1" in m.note
    # two groups at two timepoints are two statements; another source ([2]) is another statement too
    assert not any("ward" in t.label or "second trial" in t.label for t in doc.total_mismatches)
