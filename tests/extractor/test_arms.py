"""Per-arm numbers of a comparison, read from small hand-made documents, and effects recomputed from them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from extractor.arms import ARM_FIELDS, ArmNumbers, recompute_effect
from extractor.arms import extract_arm_numbers as extract_scored
from extractor.arms.score import TRUST_HEADS, VALUE_HEADS, Head, load_heads, unthresholded
from extractor.pipeline import parse_file
from extractor.schema import Document
from tests.helpers import TRIAL_RESULTS_MD

TRIAL = TRIAL_RESULTS_MD + """
Wound infection occurred in 9 (4.5%) patients in the Drug A group and 15 (7.5%) patients in the placebo group. \
Pain scores at 24 hours were 3.1 (SD 1.2) and 4.0 (SD 1.5) in the Drug A and placebo groups, respectively.
"""

ROWS_PER_ARM = """# Results

Table 3. Response at week 8

| Responders | n/N | % |
|---|---|---|
| Placebo | 62/99 | 62.6 |
| Drug B | 79/101 | 78.2 |

Adverse events were reported by 60.0% of patients given Drug B and 70.5% of patients given placebo (Drug B, n = 115; placebo, n = 112).
"""

BEFORE_AFTER = """# Methods

Nineteen subjects participated in the study. All nineteen subjects practised yoga for three months.

# Results

Pain intensity before intervention ranged from three to eight with a median of six.
"""


READING = unthresholded(load_heads())
"""The shipped heads with no threshold: every field the rules read is filled, so these tests see the reading itself."""


def extract_arm_numbers(doc: Document, **kwargs: str) -> ArmNumbers:
    """What the rules read, every field filled whatever its confidence (the calibrated reading is tested below)."""
    return extract_scored(doc, heads=READING, **kwargs)


@pytest.fixture(scope="module")
def trial_doc(tmp_path_factory: pytest.TempPathFactory) -> Document:
    return _doc(tmp_path_factory.mktemp("arms"), "trial.md", TRIAL)


def _doc(folder: Path, name: str, text: str) -> Document:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return parse_file(path)


def _binary(e1: int | None, n1: int | None, e0: int | None, n0: int | None) -> ArmNumbers:
    return ArmNumbers(outcome_type="binary", intervention_events=e1, intervention_group_size=n1,
                      comparator_events=e0, comparator_group_size=n0)


def _assert_grounded(doc: Document, arms: ArmNumbers) -> None:
    """Every number's span slices back to its text, which holds the value, inside its context."""
    for name, src in arms.sources.items():
        assert doc.text[src.span.start : src.span.end] == src.text, name
        assert doc.text[src.context_span.start : src.context_span.end] == src.context, name
        assert src.context_span.start <= src.span.start and src.span.end <= src.context_span.end, name
        value = getattr(arms, name) if getattr(arms, name) is not None else arms.withheld.get(name)
        if src.derived is None:
            assert float(src.text.replace(",", "")) == pytest.approx(value), name


@pytest.mark.parametrize(
    ("outcome", "outcome_type", "expected", "context_starts"),
    [
        ("Mortality at 30 days", "binary", (12, 200, 22, 200), "Mortality at 30 days"),
        ("length of stay", "continuous", (5.2, 1.1, 200, 6.8, 2.0, 200), "Length of stay"),
        ("wound infection", "binary", (9, 200, 15, 200), "Wound infection occurred"),
        ("pain scores at 24 hours", "continuous", (3.1, 1.2, 200, 4.0, 1.5, 200), "Pain scores at 24 hours"),
    ],
)
def test_arms_reads_table_rows_and_sentences(
    trial_doc: Document, outcome: str, outcome_type: str, expected: tuple, context_starts: str
) -> None:
    arms = extract_arm_numbers(trial_doc, intervention="Drug A", comparator="placebo", outcome=outcome, outcome_type=outcome_type)
    assert tuple(arms.values().values()) == pytest.approx(expected)
    assert set(arms.sources) == set(ARM_FIELDS[outcome_type]) == set(arms.confidence)
    assert all(0.0 <= p <= 1.0 for p in arms.confidence.values())
    first_value = ARM_FIELDS[outcome_type][0]
    assert arms.sources[first_value].context.startswith(context_starts)
    _assert_grounded(trial_doc, arms)


@pytest.mark.parametrize("outcome_type", ["binary", "continuous"])
def test_arms_absent_outcome_gives_no_values(trial_doc: Document, outcome_type: str) -> None:
    arms = extract_arm_numbers(trial_doc, intervention="Drug A", comparator="placebo", outcome="quality of life", outcome_type=outcome_type)
    values = arms.values()
    assert [v for k, v in values.items() if not k.endswith("group_size")] == [None] * (len(values) - 2)
    assert (arms.intervention_group_size, arms.comparator_group_size) == (200, 200)  # stated in the table header
    assert arms.score == 0.0
    _assert_grounded(trial_doc, arms)


@pytest.mark.parametrize(
    ("outcome", "expected", "derived"),
    [
        ("responders", (79, 101, 62, 99), False),  # one row per arm, intervention listed second
        ("adverse events", (69, 115, 79, 112), True),  # percentages of the stated group sizes
    ],
)
def test_arms_rows_per_arm_and_percentages(tmp_path: Path, outcome: str, expected: tuple, derived: bool) -> None:
    doc = _doc(tmp_path, "rows.md", ROWS_PER_ARM)
    arms = extract_arm_numbers(doc, intervention="Drug B", comparator="placebo", outcome=outcome, outcome_type="binary")
    assert tuple(arms.values().values()) == expected
    assert (arms.sources["intervention_events"].derived is not None) is derived
    _assert_grounded(doc, arms)


@pytest.mark.parametrize("outcome_type", ["binary", "continuous"])
def test_arms_before_after_in_one_group_uses_the_sample_size(tmp_path: Path, outcome_type: str) -> None:
    doc = _doc(tmp_path, "yoga.md", BEFORE_AFTER)
    arms = extract_arm_numbers(doc, intervention="post-Yoga", comparator="pre-Yoga", outcome="pain intensity", outcome_type=outcome_type)
    assert (arms.intervention_group_size, arms.comparator_group_size) == (19, 19)
    assert all(v is None for k, v in arms.values().items() if not k.endswith("group_size"))  # a median is not a mean
    assert arms.sources["intervention_group_size"].derived
    _assert_grounded(doc, arms)


@pytest.mark.parametrize("outcome_type", ["ordinal", ""])
def test_arms_rejects_unknown_outcome_type(trial_doc: Document, outcome_type: str) -> None:
    with pytest.raises(ValueError, match="binary"):
        extract_arm_numbers(trial_doc, intervention="Drug A", comparator="placebo", outcome="x", outcome_type=outcome_type)


@pytest.mark.parametrize(
    ("arms", "expected"),
    [
        (_binary(12, 200, 22, 200),
         {"rr": 0.545, "rrr": 0.455, "rd": -0.05, "risk_intervention": 0.06, "risk_comparator": 0.11, "or": 0.516}),
        (_binary(0, 50, 5, 50),
         {"rr": 0.0, "rrr": 1.0, "rd": -0.1, "risk_intervention": 0.0, "risk_comparator": 0.1}),
        (ArmNumbers(outcome_type="continuous", intervention_mean=5.2, intervention_standard_deviation=1.1, intervention_group_size=120,
                    comparator_mean=6.8, comparator_standard_deviation=2.0, comparator_group_size=118),
         {"md": -1.6}),
    ],
)
def test_recompute_effect_worked_examples(arms: ArmNumbers, expected: dict[str, float]) -> None:
    effects = recompute_effect(arms)
    assert set(effects) == set(expected)
    for key, value in expected.items():
        assert effects[key] == pytest.approx(value, abs=5e-4), key


@pytest.mark.parametrize(
    "arms",
    [
        _binary(12, 200, None, 200),
        _binary(3, 0, 4, 10),
        ArmNumbers(outcome_type="continuous", intervention_mean=5.2),
    ],
)
def test_recompute_effect_incomplete_arms_give_nothing(arms: ArmNumbers) -> None:
    assert recompute_effect(arms) == {}


def test_recompute_effect_zero_comparator_risk_has_no_ratio() -> None:
    effects = recompute_effect(_binary(3, 30, 0, 30))
    assert "rr" not in effects and "rrr" not in effects and "or" not in effects
    assert math.isclose(effects["rd"], 0.1)


FORMATS = """# Results

Table 2. Outcomes at 30 days

| Outcome | Drug A (n = 120) | Placebo (n = 118) |
|---|---|---|
| Wound infection | 12/120 (10.0%) | 22/118 (18.6%) |
| Pain score, mean ± SD | 45.2 ± 3.1 | 47.0 ± 2.9 |
| Length of stay, mean (SD) | 5.2 (1.1) | 6.8 (2.0) |
| Time to discharge, median (IQR) | 4 (3-6) | 5 (4-7) |
| Readmission, n (%) | 12 (10.0) | 22 (18.6) |
| Fasting glucose, mean (±SD) | 97.6 (±20.8) | 101.9 (±35.1) |

Sepsis occurred in 7 of 120 (5.8%) patients given Drug A vs 15 of 118 (12.7%) given placebo. \
Nausea at 24 hours was mean 4.2 (SD 1.1) with Drug A versus 5.0 (1.3) with placebo.

# Discussion

In an earlier trial of Drug A (n = 400), sepsis occurred in 40 of 400 (10%) patients versus 80 of 410 (20%) with placebo.
"""

SPANNED = """# Results

Table 1. Outcomes before and after the programme

                        Yoga group              Control group
  --------------------- ----------- ----------- ----------- -----------
  Outcome               Week 0      Week 11     Week 0      Week 11
  Stress score          45.3 ± 8.9  40.5 ± 10.6 45.2 ± 9.3  44.8 ± 7.7
  Resting heart rate
   mean (SD)            62 (6)      65 (9)      68 (10)     67 (9)
"""

TRAP = """# Results

Table 3. Imaging findings

| Finding | Surgery | Conservative | p |
|---|---|---|---|
| Disc herniation (%) | 87 | 31.6 | 100 |
"""


@pytest.fixture(scope="module")
def formats_doc(tmp_path_factory: pytest.TempPathFactory) -> Document:
    return _doc(tmp_path_factory.mktemp("formats"), "formats.md", FORMATS)


@pytest.mark.parametrize(
    ("outcome", "outcome_type", "expected"),
    [
        ("wound infection", "binary", (12, 120, 22, 118)),  # "12/120 (10.0%)" under "(n = 120)" headers
        ("pain score", "continuous", (45.2, 3.1, 120, 47.0, 2.9, 118)),  # "45.2 ± 3.1"
        ("length of stay", "continuous", (5.2, 1.1, 120, 6.8, 2.0, 118)),  # "5.2 (1.1)" in a mean (SD) row
        ("readmission", "binary", (12, 120, 22, 118)),  # "12 (10.0)" in an n (%) row
        ("fasting glucose", "continuous", (97.6, 20.8, 120, 101.9, 35.1, 118)),  # "97.6 (±20.8)"
        ("sepsis", "binary", (7, 120, 15, 118)),  # "7 of 120 (5.8%) ... vs 15 of 118", not the Discussion's trial
        ("nausea at 24 hours", "continuous", (4.2, 1.1, 120, 5.0, 1.3, 118)),  # "mean 4.2 (SD 1.1) versus 5.0 (1.3)"
    ],
)
def test_arms_reads_each_number_format(formats_doc: Document, outcome: str, outcome_type: str, expected: tuple) -> None:
    arms = extract_arm_numbers(formats_doc, intervention="Drug A", comparator="placebo", outcome=outcome, outcome_type=outcome_type)
    assert tuple(arms.values().values()) == pytest.approx(expected)
    _assert_grounded(formats_doc, arms)


def test_arms_median_iqr_is_not_a_mean(formats_doc: Document) -> None:
    arms = extract_arm_numbers(formats_doc, intervention="Drug A", comparator="placebo", outcome="time to discharge",
                               outcome_type="continuous")
    assert arms.intervention_mean is None and arms.comparator_mean is None


def test_arms_never_reads_the_discussion(formats_doc: Document) -> None:
    arms = extract_arm_numbers(formats_doc, intervention="Drug A", comparator="placebo", outcome="sepsis", outcome_type="binary")
    assert 400 not in arms.values().values() and 40 not in arms.values().values()
    for src in arms.sources.values():
        section = formats_doc.section_at(src.span.start)
        assert section is None or section.label != "discussion"


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("stress score", (40.5, 10.6, 44.8, 7.7)),  # a group name over two timepoint columns: its post value
        ("resting heart rate", (65, 9, 67, 9)),  # a "mean (SD)" row under the outcome's own heading
    ],
)
def test_arms_spanned_group_headers_and_stat_rows(tmp_path: Path, outcome: str, expected: tuple) -> None:
    doc = _doc(tmp_path, "spanned.md", SPANNED)
    arms = extract_arm_numbers(doc, intervention="yoga", comparator="control", outcome=outcome, outcome_type="continuous")
    got = (arms.intervention_mean, arms.intervention_standard_deviation, arms.comparator_mean, arms.comparator_standard_deviation)
    assert got == pytest.approx(expected)
    _assert_grounded(doc, arms)


def test_arms_percent_row_is_not_read_as_counts(tmp_path: Path) -> None:
    """The trap of the issue: 'Disc herniation (%) 87 31.6 100' is two percentages and a p-value column, not 87 and
    100 events; with no group sizes in the paper no event count can be derived, so none is given."""
    doc = _doc(tmp_path, "trap.md", TRAP)
    arms = extract_arm_numbers(doc, intervention="surgery", comparator="conservative", outcome="disc herniation", outcome_type="binary")
    assert arms.values() == dict.fromkeys(ARM_FIELDS["binary"])


def _constant_heads(value_p: float, size_p: float, threshold: float) -> dict[str, Head]:
    """Heads that trust every pick with probability ``value_p`` and every size with ``size_p`` (a bias weight only; the
    rankers, all weights zero, leave the rules' order)."""
    shipped = load_heads()

    def head(h: Head, p: float) -> Head:
        bias = math.log(p / (1 - p))
        weights = tuple(bias if name == "bias" else 0.0 for name in h.features)
        return Head(h.features, tuple(0.0 for _ in h.features), tuple(1.0 for _ in h.features), weights, threshold)

    return ({name: head(shipped[name], 0.5) for name in VALUE_HEADS} | {name: head(shipped[name], value_p) for name in TRUST_HEADS}
            | {"size": head(shipped["size"], size_p)})


def test_arms_doubtful_reading_leaves_the_field_empty(trial_doc: Document) -> None:
    """Below the threshold a number is withheld, with its confidence and source, and no effect can be recomputed."""
    arms = extract_scored(trial_doc, intervention="Drug A", comparator="placebo", outcome="Mortality at 30 days",
                          outcome_type="binary", heads=_constant_heads(0.6, 0.95, 0.9))
    assert (arms.intervention_events, arms.comparator_events) == (None, None)
    assert arms.withheld == {"intervention_events": 12, "comparator_events": 22}
    assert arms.confidence["intervention_events"] == pytest.approx(0.6)
    assert (arms.intervention_group_size, arms.comparator_group_size) == (200, 200)
    assert not arms.confident() and recompute_effect(arms) == {}
    _assert_grounded(trial_doc, arms)


def test_arms_confident_reading_fills_every_field(trial_doc: Document) -> None:
    arms = extract_scored(trial_doc, intervention="Drug A", comparator="placebo", outcome="Mortality at 30 days",
                          outcome_type="binary", heads=_constant_heads(0.97, 0.95, 0.9))
    assert tuple(arms.values().values()) == (12, 200, 22, 200) and arms.confident() and not arms.withheld
    assert recompute_effect(arms)["rr"] == pytest.approx(12 / 22)


def test_arms_derived_events_are_only_as_confident_as_the_group_size(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "rows.md", ROWS_PER_ARM)
    arms = extract_scored(doc, intervention="Drug B", comparator="placebo", outcome="adverse events", outcome_type="binary",
                          heads=_constant_heads(0.97, 0.8, 0.9))
    assert arms.intervention_events is None and arms.withheld["intervention_events"] == 69
    assert arms.confidence["intervention_events"] == pytest.approx(0.8)


def test_arms_shipped_heads_withhold_rather_than_guess_on_the_trap(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "trap.md", TRAP)
    arms = extract_scored(doc, intervention="surgery", comparator="conservative", outcome="disc herniation", outcome_type="binary")
    assert arms.intervention_events is None and arms.comparator_events is None


N_ROW_AND_ALIASES = """# Results

Table 1. Baseline

| Variable | Group I | Group II |
|---|---|---|
| N | 30 | 32 |
| Age, mean ± SD | 56.1 ± 12.9 | 55.6 ± 12.3 |

Table 2. Outcomes

| Variable | Group I | Group II |
|---|---|---|
| Pain score, mean ± SD | 3.1 ± 1.2 | 4.0 ± 1.5 |

In group I, patients received lidocaine; in group II, patients received morphine.
"""


@pytest.mark.parametrize(("intervention", "comparator", "expected"), [
    ("lidocaine", "morphine", (3.1, 1.2, 30, 4.0, 1.5, 32)),
    ("morphine", "lidocaine", (4.0, 1.5, 32, 3.1, 1.2, 30)),  # the aliases follow the arms, not the column order
])
def test_arms_group_aliases_and_the_n_row_of_the_baseline_table(tmp_path: Path, intervention: str, comparator: str,
                                                                 expected: tuple) -> None:
    doc = _doc(tmp_path, "aliases.md", N_ROW_AND_ALIASES)
    arms = extract_arm_numbers(doc, intervention=intervention, comparator=comparator, outcome="pain score", outcome_type="continuous")
    assert tuple(arms.values().values()) == pytest.approx(expected)
    assert arms.sources["intervention_group_size"].context.startswith("| N |")
    _assert_grounded(doc, arms)


MULTI_ARM = """# Results

Table 2. Adverse events by dose

                         Placebo (N = 122)   1200 mg (N = 122)   2400 mg (N = 123)
  ---------------------- ------------------- ------------------- -------------------
  Any adverse event      67 (55.4)           69 (56.6)           85 (69.1)
  Serious adverse event  7 (5.8)             7 (5.7)             10 (8.1)

Table 3. Pain scores

                     Group (P) (n = 30)   Group (D) (n = 30)   Group (D/E) (n = 30)   P value
  ------------------ -------------------- -------------------- ---------------------- ---------
  Pain at rest       4.1 ± 1.2            3.6 ± 1.1            2.2 ± 0.9              0.001
"""


@pytest.mark.parametrize(
    ("intervention", "comparator", "outcome", "outcome_type", "expected"),
    [
        # the dose in the arm's name picks its column among three; the group sizes come from the headers
        ("extended-release drug 2400 mg", "placebo", "any adverse event", "binary", (85, 123, 67, 122)),
        # the group label in the arm's name ("group D/E") picks its column, not the "(D)" one beside it
        ("duloxetine and etoricoxib (group D/E)", "placebo (group P)", "pain at rest", "continuous", (2.2, 0.9, 30, 4.1, 1.2, 30)),
    ],
)
def test_arms_multi_arm_tables_read_the_named_columns(tmp_path: Path, intervention: str, comparator: str, outcome: str,
                                                      outcome_type: str, expected: tuple) -> None:
    doc = _doc(tmp_path, "multi.md", MULTI_ARM)
    arms = extract_arm_numbers(doc, intervention=intervention, comparator=comparator, outcome=outcome, outcome_type=outcome_type)
    assert tuple(arms.values().values()) == pytest.approx(expected)
    _assert_grounded(doc, arms)
    assert {src.where for src in arms.sources.values()} <= {"table row", "table header"}
