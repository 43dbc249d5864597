"""extract_quantities: every pattern, every trap, and grounding of every returned quantity."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.quantities import extract_quantities
from extractor.schema import Quantity, QuantityKind, RatioMeasure

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

K = QuantityKind


def _grounded(text: str, quantities: list[Quantity], offset: int = 0) -> None:
    for q in quantities:
        assert q.span is not None
        assert text[q.span.start - offset : q.span.end - offset] == q.text, q
        assert q.value >= 0, q


def _run(text: str) -> list[Quantity]:
    quantities = extract_quantities(text)
    _grounded(text, quantities)
    return quantities


def _one(quantities: list[Quantity], text: str) -> Quantity:
    hits = [q for q in quantities if q.text == text]
    assert len(hits) == 1, f"expected one quantity with text {text!r}, got {[q.text for q in quantities]}"
    return hits[0]


def _check(q: Quantity, expected: dict) -> None:
    for key, want in expected.items():
        got = getattr(q, key)
        if isinstance(want, float) and got is not None:
            assert got == pytest.approx(want), (key, q)
        else:
            assert got == want, (key, q)


# (sentence, exact text of the quantity, expected fields)
CASES = [
    # --- percentages ---------------------------------------------------------------------------
    ("Adherence was 45% at baseline.", "45%", dict(kind=K.percent, value=45.0, unit="%", comparator_op=None)),
    ("The event rate was 12.5 % in controls.", "12.5 %", dict(kind=K.percent, value=12.5, unit="%")),
    ("Some 45 per cent of patients preferred it.", "45 per cent", dict(kind=K.percent, value=45.0, unit="%")),
    ("Seventy two per cent had valid data.", "Seventy two per cent", dict(kind=K.percent, value=72.0, unit="%")),
    ("In children with low adherence (below 75%), it improved.", "below 75%", dict(kind=K.percent, value=75.0, comparator_op="<")),
    ("Results agreed to within ±10% in 96% of samples.", "±10%", dict(kind=K.percent, value=10.0, unit="%")),
    ("Skylark could prevent up to a quarter of unplanned admissions.", "up to a quarter",
     dict(kind=K.relative_change, value=25.0, unit="%", comparator_op="<=")),
    # --- relative and absolute changes ---------------------------------------------------------
    ("Infections were reduced by 45% with the dressing.", "45%", dict(kind=K.relative_change, value=45.0, unit="%")),
    ("There was a 45% reduction in falls.", "45% reduction", dict(kind=K.relative_change, value=45.0, unit="%")),
    ("Costs were 45% lower than before.", "45% lower", dict(kind=K.relative_change, value=45.0, unit="%")),
    ("It may reduce dressing changes by up to 40%, releasing time.", "up to 40%",
     dict(kind=K.relative_change, value=40.0, unit="%", comparator_op="<=")),
    ("Ulcers reduced in area by at least 40% at 4 weeks.", "at least 40%", dict(kind=K.relative_change, comparator_op=">=")),
    ("Packaging has been redesigned to remove 62% of single-use plastic.", "62%", dict(kind=K.relative_change, value=62.0)),
    ("Pressure ulcers, category 2 to 4 4.1% 2.3% −44%", "−44%", dict(kind=K.relative_change, value=44.0, unit="%")),
    ("We saw a 3.2 percentage-point reduction in readmissions.", "3.2 percentage-point reduction",
     dict(kind=K.absolute_change, value=3.2, unit="%")),
    ("Adherence improved by 29.8 percentage points at 6 months.", "29.8 percentage points",
     dict(kind=K.absolute_change, value=29.8, unit="%")),
    ("Mean procedure time was 38 minutes, 6 minutes shorter than before.", "6 minutes shorter",
     dict(kind=K.absolute_change, value=6.0, unit="minutes")),
    ("Mean length of stay 19.6 days 14.2 days −5.4 days", "−5.4 days", dict(kind=K.absolute_change, value=5.4, unit="days")),
    ("Mean pain scores were 1.7 points lower on a 0–10 scale.", "1.7 points", dict(kind=K.mean_difference, value=1.7, unit="")),
    ("Its fluid handling capacity is 2.3 times that of the comparator.", "2.3 times", dict(kind=K.ratio, value=2.3, measure=None)),
    ("The price is almost three times that of a standard bed.", "almost three times",
     dict(kind=K.ratio, value=3.0, comparator_op="<")),
    # --- ratios with measure and confidence interval -------------------------------------------
    ("Mortality fell (RR 0.72 (95% CI 0.60–0.86)).", "RR 0.72",
     dict(kind=K.ratio, measure=RatioMeasure.RR, value=0.72, low=0.60, high=0.86, unit="")),
    ("(8% v 6%; odds ratio 1.21, 95% confidence interval 0.70 to 2.10).", "odds ratio 1.21",
     dict(kind=K.ratio, measure=RatioMeasure.OR, value=1.21, low=0.70, high=2.10)),
    ("Death was less likely (HR 0.72 [0.60, 0.86]).", "HR 0.72", dict(kind=K.ratio, measure=RatioMeasure.HR, low=0.60, high=0.86)),
    ("The adjusted effect was OR = 0.72; 0.60 to 0.86.", "OR = 0.72", dict(kind=K.ratio, measure=RatioMeasure.OR, low=0.60, high=0.86)),
    ("Falls rose (IRR 1.3 (1.1-1.6)).", "IRR 1.3", dict(kind=K.ratio, measure=RatioMeasure.IRR, value=1.3, low=1.1, high=1.6)),
    ("The relative risk 0.55 favoured the device.", "relative risk 0.55",
     dict(kind=K.ratio, measure=RatioMeasure.RR, value=0.55, low=None, high=None)),
    ("Smokers quit more often (aOR 2.10, 95% CI: 1.20, 3.40).", "aOR 2.10",
     dict(kind=K.ratio, measure=RatioMeasure.OR, value=2.10, low=1.20, high=3.40)),
    ("It was significant (incidence rate ratio 0.56, 95% CI 0.37 to 0.85; p=0.006).", "incidence rate ratio 0.56",
     dict(kind=K.ratio, measure=RatioMeasure.IRR, low=0.37, high=0.85)),
    ("Failure was 24% versus 39% (risk ratio 0.62, 95% CI 0.51 to 0.75; p<0.001).", "risk ratio 0.62",
     dict(kind=K.ratio, measure=RatioMeasure.RR, low=0.51, high=0.75)),
    ("Relapse was lower for metformin (hazard ratio 0.28 [95% CI 0.10–0.81]).", "hazard ratio 0.28",
     dict(kind=K.ratio, measure=RatioMeasure.HR, low=0.10, high=0.81)),
    ("(odds ratio for physical activity group, adjusted for recruitment centre only 1.21, 95% confidence interval 0.70 to 2.10)",
     "odds ratio for physical activity group, adjusted for recruitment centre only 1.21",
     dict(kind=K.ratio, measure=RatioMeasure.OR, value=1.21, low=0.70, high=2.10)),
    # --- intervals after a percentage or a mean difference --------------------------------------
    ("there was a 40% (95% confidence interval 13% to 73%) greater increase", "40%",
     dict(kind=K.percent, value=40.0, low=13.0, high=73.0, unit="%")),
    ("The mean difference −0.17 mm (95% CI −0.26 to −0.08) favoured the stent.", "−0.17 mm",
     dict(kind=K.mean_difference, value=0.17, low=-0.26, high=-0.08, unit="")),
    ("a mean difference of 2.9 log-ins (95% CI 2.5–3.2) [2].", "2.9 log-ins",
     dict(kind=K.mean_difference, value=2.9, low=2.5, high=3.2, unit="")),
    ("Stay was shorter (mean difference 1.5 days, 95% CI 0.4 to 2.6).", "1.5 days",
     dict(kind=K.mean_difference, value=1.5, low=0.4, high=2.6, unit="days")),
    ("low birth weight 0.82 (95% confidence interval 0.71 to 0.94)", "0.82", dict(kind=K.ci, value=0.82, low=0.71, high=0.94)),
    # --- p-values ------------------------------------------------------------------------------
    ("The difference was significant (p<0.001).", "p<0.001", dict(kind=K.p_value, value=0.001, comparator_op="<")),
    ("It rose (P = .03) in the trial.", "P = .03", dict(kind=K.p_value, value=0.03, comparator_op="=")),
    ("Adherence improved (p=0.023).", "p=0.023", dict(kind=K.p_value, value=0.023, comparator_op="=")),
    ("significant at a P value <0.025 threshold", "P value <0.025", dict(kind=K.p_value, value=0.025, comparator_op="<")),
    ("was considered significant at p ≤ 0.05.", "p ≤ 0.05", dict(kind=K.p_value, value=0.05, comparator_op="<=")),
    ("no difference (p>0.05) was seen", "p>0.05", dict(kind=K.p_value, value=0.05, comparator_op=">")),
    ("quit rates differed (P<0·001) by group", "P<0·001", dict(kind=K.p_value, value=0.001, comparator_op="<")),
    ("the trend was strong (p=1.2×10−5) overall", "p=1.2×10−5", dict(kind=K.p_value, value=1.2e-5, comparator_op="=")),
    ("incremental AUCi (P , 0.001) than those with hyperglycemia", "P , 0.001", dict(kind=K.p_value, value=0.001, comparator_op="<")),
    # --- money ---------------------------------------------------------------------------------
    ("The service costs £1,200 per patient treated.", "£1,200", dict(kind=K.currency, value=1200.0, unit="GBP", per="patient treated")),
    ("The budget impact is GBP 1.2m over five years.", "GBP 1.2m", dict(kind=K.currency, value=1_200_000.0, unit="GBP")),
    ("The model gave savings of €3.4 million a year [6].", "€3.4 million",
     dict(kind=K.currency, value=3_400_000.0, unit="EUR", per="year")),
    ("Chronic wounds cost the NHS an estimated £8.3bn a year.", "£8.3bn", dict(kind=K.currency, value=8.3e9, unit="GBP", per="year")),
    ("The grant was worth US$15,000 in total.", "US$15,000", dict(kind=K.currency, value=15000.0, unit="USD")),
    ("Clinics were paid Rs. 1,234 per visit.", "Rs. 1,234", dict(kind=K.currency, value=1234.0, unit="INR", per="visit")),
    ("A licence costs AUD 200 per device.", "AUD 200", dict(kind=K.currency, value=200.0, unit="AUD", per="device")),
    ("It saves £454,000 a year (2023/24 prices).", "£454,000", dict(kind=K.currency, price_year="2023/24", per="year")),
    ("At 2024/25 prices the all-in cost is £4.91 per test [4].", "£4.91",
     dict(kind=K.currency, value=4.91, price_year="2024/25", per="test")),
    ("It could save up to £67,000 a year for a centre.", "up to £67,000", dict(kind=K.currency, value=67000.0, comparator_op="<=")),
    ("Participants received £10 vouchers for each visit.", "£10", dict(kind=K.currency, value=10.0, unit="GBP", per=None)),
    ("The state spent ₹2 crore on kits.", "₹2 crore", dict(kind=K.currency, value=2e7, unit="INR")),
    ("The licence is 1,200 EUR per site.", "1,200 EUR", dict(kind=K.currency, value=1200.0, unit="EUR", per="site")),
    # --- counts and sample sizes ---------------------------------------------------------------
    ("Nurses rated the controls as easier to use (n=64) [3].", "n=64", dict(kind=K.sample_size, value=64.0, unit="")),
    ("The trial enrolled adults (n = 248) in total.", "n = 248", dict(kind=K.sample_size, value=248.0)),
    ("In a survey of 61 community nurses, 87% agreed.", "61 community nurses", dict(kind=K.sample_size, value=61.0)),
    ("a community trust treating 150 patients a year", "150 patients", dict(kind=K.count, value=150.0, unit="")),
    ("no injuries have been reported in 1.2 million tests [6].", "1.2 million tests", dict(kind=K.count, value=1_200_000.0)),
    ("reported in more than 250,000 devices used in UK hospitals", "more than 250,000 devices",
     dict(kind=K.count, value=250000.0, comparator_op=">")),
    ("Kelderfoam Ag is made at two UK sites, each able to meet demand.", "two UK sites", dict(kind=K.count, value=2.0)),
    # --- durations and timepoints --------------------------------------------------------------
    ("Our order fill rate over the past 12 months was 99.2%.", "12 months", dict(kind=K.duration, value=12.0, unit="months")),
    ("Readmission at 30-day follow-up was rare.", "30-day", dict(kind=K.duration, value=30.0, unit="days")),
    ("a 6-month extension study", "6-month", dict(kind=K.duration, value=6.0, unit="months")),
    ("Symptoms settled within 2 weeks for most.", "within 2 weeks", dict(kind=K.duration, value=2.0, unit="weeks", comparator_op="<=")),
    ("We commit to a 48 hours delivery window.", "48 hours", dict(kind=K.duration, value=48.0, unit="hours")),
    ("with a median of 4.2 days in hospital", "4.2 days", dict(kind=K.duration, value=4.2, unit="days")),
    ("Patients were reviewed at 24 h after surgery.", "24 h", dict(kind=K.duration, value=24.0, unit="hours")),
    ("The dressing stayed on for 7 d on average.", "7 d", dict(kind=K.duration, value=7.0, unit="days")),
    ("Follow-up was 3 yr in both arms.", "3 yr", dict(kind=K.duration, value=3.0, unit="years")),
    ("Scans were repeated at 6 mo after discharge.", "6 mo", dict(kind=K.duration, value=6.0, unit="months")),
    ("Drains were removed after 48 hrs in most cases.", "48 hrs", dict(kind=K.duration, value=48.0, unit="hours")),
    ("Over 7 years, the whole-life cost is lower.", "7 years", dict(kind=K.duration, value=7.0, unit="years", comparator_op=None)),
    ("Mortality was assessed on day 28 after randomisation.", "day 28", dict(kind=K.duration, value=28.0, unit="days")),
    ("The pathway gave a 2-day reduction in length of stay.", "2-day reduction", dict(kind=K.absolute_change, value=2.0, unit="days")),
    ("Night-time awakenings fell by 0.8 nights per 2 weeks (p=0.04).", "0.8 nights per 2 weeks",
     dict(kind=K.absolute_change, value=0.8, unit="", per="2 weeks")),
    ("nurse time fell by 22 minutes per child per year [3].", "22 minutes",
     dict(kind=K.absolute_change, value=22.0, unit="minutes", per="child per year")),
    # --- rates ---------------------------------------------------------------------------------
    ("Bloodstream infections were 3.1 per 1,000 catheter days.", "3.1 per 1,000 catheter days",
     dict(kind=K.rate, value=3.1, per="1,000 catheter days")),
    ("Falls occurred at 2.4 per 1000 bed days.", "2.4 per 1000 bed days", dict(kind=K.rate, value=2.4, per="1000 bed days")),
    ("The incidence was 0.9 per 100 patient-years overall.", "0.9 per 100 patient-years", dict(kind=K.rate, per="100 patient-years")),
    ("Visits 2 per bed per year 100% completed", "2 per bed per year", dict(kind=K.rate, value=2.0, per="bed per year")),
    ("It avoided an estimated 0.18 follow-up appointments per patient tested.", "0.18 follow-up appointments per patient tested",
     dict(kind=K.rate, value=0.18, per="patient tested")),
]


@pytest.mark.parametrize(("sentence", "quantity_text", "expected"), CASES, ids=[c[1] for c in CASES])
def test_quantities_pattern(sentence: str, quantity_text: str, expected: dict) -> None:
    _check(_one(_run(sentence), quantity_text), expected)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The proportion fell from 21% to 12% after the switch.", [("21%", K.percent, 21.0), ("12%", K.percent, 12.0)]),
        ("The rates of death (2.6% vs 0%, p=0.494) were similar.",
         [("2.6%", K.percent, 2.6), ("0%", K.percent, 0.0), ("p=0.494", K.p_value, 0.494)]),
        ("The unit cost was $2900 and $4500 respectively.", [("$2900", K.currency, 2900.0), ("$4500", K.currency, 4500.0)]),
        ("Participants were paid $6 (range $0–$40) per visit.",
         [("$6", K.currency, 6.0), ("$0", K.currency, 0.0), ("$40", K.currency, 40.0)]),
        ("Infections fell from 0.9 to 0.3 per 1,000 catheter days [2].",
         [("0.9", K.rate, 0.9), ("0.3 per 1,000 catheter days", K.rate, 0.3)]),
        ("Re-sites per 100 patients fell from 41 to 22 after conversion [2].", [("41", K.rate, 41.0), ("22", K.rate, 22.0)]),
        ("Falls from bed per 1,000 bed days 2.9 2.0 −31%",
         [("2.9", K.rate, 2.9), ("2.0", K.rate, 2.0), ("−31%", K.relative_change, 31.0)]),
        ("Manual handling injuries to staff 7 2 −5", [("7", K.count, 7.0), ("2", K.count, 2.0), ("−5", K.absolute_change, 5.0)]),
        ("Unit price per dressing (10 x 10 cm) £3.85 £3.10", [("£3.85", K.currency, 3.85), ("£3.10", K.currency, 3.1)]),
        ("Median dwell time increased from 52 hours to 71 hours [2].", [("52 hours", K.duration, 52.0), ("71 hours", K.duration, 71.0)]),
        ("Children (7–11 years) were included.", [("7", K.duration, 7.0), ("11 years", K.duration, 11.0)]),
        ("An ICER of £20,000–£30,000 per QALY gained.", [("£20,000", K.currency, 20000.0), ("£30,000", K.currency, 30000.0)]),
        ("Savings of £2–3 million a year.", [("£2", K.currency, 2e6), ("3 million", K.currency, 3e6)]),
    ],
    ids=["from-to-percent", "vs-and-p", "two-dollar-amounts", "payment-range", "from-to-rate", "per-label-from-to",
         "table-row-rates", "table-row-counts", "table-row-money", "from-to-hours", "age-range", "money-range", "money-range-scale"],
)
def test_quantities_sequence(sentence: str, expected: list[tuple[str, QuantityKind, float]]) -> None:
    """Several quantities in one sentence, in reading order and nothing else; no derived change."""
    got = _run(sentence)
    assert [(q.text, q.kind, q.value) for q in got] == [(t, k, pytest.approx(v)) for t, k, v in expected]


@pytest.mark.parametrize(
    ("sentence", "count", "denominator", "percent"),
    [
        ("In the same evaluation, 93/103 (90%) of ulcers healed.", ("93", 93.0), ("103", 103.0), 90.0),
        ("Adverse events occurred in 12 of 200 patients (6%).", ("12", 12.0), ("200 patients", 200.0), 6.0),
        ("Abstinence was 90 of 1,088 (8%) with StopAdvisor.", ("90", 90.0), ("1,088", 1088.0), 8.0),
    ],
    ids=["slash", "of-noun", "of-thousands"],
)
def test_quantities_count_with_denominator(sentence: str, count: tuple, denominator: tuple, percent: float) -> None:
    got = _run(sentence)
    c = _one(got, count[0])
    _check(c, dict(kind=K.count, value=count[1], per=denominator[0].split()[0]))
    _check(_one(got, denominator[0]), dict(kind=K.sample_size, value=denominator[1]))
    assert [q.value for q in got if q.kind is K.percent] == [percent]


@pytest.mark.parametrize(
    "sentence",
    [
        # "≤" / "≥" glyphs extracted as currency symbols in real PDFs
        "Global Impressions–Improvement (CGI-I), and response (CGI-I £ 2). Safety assessments included",  # JCAP 2018
        "at each visit and CGI-I response (CGI-I score £2) at each visit.",  # JCAP 2018
        "were included if they were overweight or obese (BMI $28 kg/m2), of African American ancestry,",  # Diabetes Care 2016
        "defined as a blood glucose .400 mg/dL (22.2mmol/L) with pH$7.30 and bicarbonate $18 mmol/L and with",  # Diabetes Care 2016
        "Participants aged $18 years were eligible.",
        "Hyperglycemia relapse was defined as HbA1c $6.5% on two occasions.",
        "days, or an HbA1c $7% (53 mmol/mol). All randomized subjects",  # Diabetes Care 2016
        "if they were able to be off subcutaneous insulin for $1 week and have all fasting blood glucose",  # Diabetes Care 2016
        "Hyperglycemia relapse was defined as fasting blood glucose $130 mg/dL (7.2 mmol/L), a",  # Diabetes Care 2016
        "pH $7.30 was required at entry.",
    ],
    ids=["cgi-space", "cgi-score", "bmi", "ph-bicarbonate", "age", "hba1c-decimal", "hba1c", "insulin-week", "glucose", "ph-space"],
)
def test_quantities_glyph_traps_are_not_money(sentence: str) -> None:
    got = _run(sentence)
    assert [q for q in got if q.kind is K.currency] == []


@pytest.mark.parametrize(
    "sentence",
    [
        "There have been no field safety notices since its UK launch in 2019.",
        "Table 2 shows category 2 to 4 pressure ulcers by tier 1 and tier 2 suppliers.",
        "Silver release is within the limits set by ISO 10993 biocompatibility testing [3].",
        "In-segment late lumen loss was 0.11 mm versus 0.15 mm.",
        "It could give falsely low results above 160 mg/L in lot 2209.",
        "Supplied in a 22G size; see reference [12].",
        "COVID-19 patients were excluded (NCT01372150).",
        "Remote reviews save an estimated 7.4 tonnes of CO2e.",
        "Results are shown with their (95% CI) in Table 3.",
        "A phase 1/2 trial on 12/05/2020 with 24/7 support.",
        "See doi: 10.1136/bmj.h5138 and DOI:10.1136/tobaccocontrol-2013-051110.",
    ],
    ids=["year", "labels", "standard", "millimetres", "mg-per-litre-and-lot", "gauge-and-citation", "identifiers", "tonnes", "ci-label",
         "phase-date-24-7", "doi"],
)
def test_quantities_non_quantities_are_ignored(sentence: str) -> None:
    assert _run(sentence) == []


@pytest.mark.parametrize(
    ("text", "start", "end", "offset"),
    [
        ("Prefix text. Costs fell by 45% (p<0.001) to £1,200 per patient. Suffix 12 months.", 13, 64, 0),
        ("Prefix text. Costs fell by 45% (p<0.001) to £1,200 per patient. Suffix 12 months.", 13, 64, 1000),
    ],
    ids=["window", "window-with-offset"],
)
def test_quantities_window_and_offset(text: str, start: int, end: int, offset: int) -> None:
    got = extract_quantities(text, start=start, end=end, offset=offset)
    assert [q.text for q in got] == ["45%", "p<0.001", "£1,200"]
    for q in got:
        assert q.span is not None and start + offset <= q.span.start and q.span.end <= end + offset
    _grounded(text, got, offset=offset)


@pytest.mark.parametrize(
    "text",
    [
        "35% of our annual spend is with small and medium-sized enterprises [6].",
        "OR 0.46, 95% CI 0.38 to 0.56; p<0.001",
        "£97 per child per year, a reduction of 23% [4].",
    ],
    ids=["percent-first", "ratio-first", "money-first"],
)
def test_quantities_at_the_very_start(text: str) -> None:
    got = _run(text)
    assert got and got[0].span is not None and got[0].span.start == 0


@pytest.mark.parametrize(
    "text",
    [
        "A long paragraph. " * 3
        + "Premature failure was 24% with Veloxa versus 39% before (risk ratio 0.62, 95% CI 0.51 to 0.75; p<0.001) [2]. "
        + "Savings were £502,650 a year for 45,000 cannulated patient stays (2024/25 prices), over 7 years (n=212).",
    ],
    ids=["paragraph"],
)
def test_quantities_reading_order_and_grounding(text: str) -> None:
    got = _run(text)
    starts = [q.span.start for q in got if q.span is not None]
    assert starts == sorted(starts)
    assert len(got) == 8


def _parse_text(name: str) -> str:
    from extractor.pipeline import parse_file

    path = SHARED_DATA / "pdfs" / name
    if not path.is_file():
        pytest.skip(f"shared data not found: {path} (clone the repo with ../shared beside it)")
    return parse_file(path).text


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "jcap2018_PMC5771543_desvenlafaxine_paediatric_MDD_RCT.pdf",
        "diabetescare2016_PMC5079604_metformin_sitagliptin_remission_RCT.pdf",
    ],
    ids=["jcap-desvenlafaxine", "diabetescare-metformin"],
)
def test_quantities_trap_papers_have_no_money(name: str) -> None:
    text = _parse_text(name)
    got = extract_quantities(text)
    _grounded(text, got)
    assert got, "the paper should yield quantities"
    assert [q.text for q in got if q.kind is K.currency] == []
    assert any(q.kind is K.p_value for q in got)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bmj2015_LEAP_physical_activity_smoking_cessation_pregnancy_RCT.pdf"], ids=["leap"])
def test_quantities_leap_ratios_with_intervals(name: str) -> None:
    text = _parse_text(name)
    got = extract_quantities(text)
    _grounded(text, got)
    ratios = [q for q in got if q.kind is K.ratio and q.low is not None]
    assert len(ratios) >= 5
    assert any(
        q.measure is RatioMeasure.OR and q.value == pytest.approx(1.21) and q.low == pytest.approx(0.70) and q.high == pytest.approx(2.10)
        for q in ratios
    )
    assert all(q.low <= q.high for q in ratios if q.high is not None)


@pytest.mark.parametrize(("text", "value", "unit", "written"), [
    ("Patients needed 1.4 fewer days in hospital.", 1.4, "days", "1.4 fewer days"),  # issue 17: efficiency evidence
    ("Nurses spent 20 more minutes per shift on charting.", 20, "minutes", "20 more minutes"),
])
def test_quantities_a_comparative_before_the_time_unit_is_a_change(text: str, value: float, unit: str, written: str) -> None:
    (q,) = extract_quantities(text)
    assert (q.kind, q.value, q.unit, q.text) == (QuantityKind.absolute_change, value, unit, written)
