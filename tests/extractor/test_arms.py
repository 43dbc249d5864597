"""Per-arm numbers of a comparison, read from small hand-made documents, and effects recomputed from them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from extractor.arms import ARM_FIELDS, ArmNumbers, extract_arm_numbers, recompute_effect
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
        value = getattr(arms, name)
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
    assert set(arms.sources) == set(ARM_FIELDS[outcome_type])
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
