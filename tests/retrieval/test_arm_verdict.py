"""The claim check's use of arm numbers: an effect is recomputed only from confident numbers, and says where they were read."""

from __future__ import annotations

from extractor.arms import recompute_effect
from extractor.schema import ArmNumbers, NumberSource, NumericVerdict, Quantity, QuantityKind, Span
from retrieval.checking.check import ARMS_NOT_CONFIDENT, _arm_verdict

ROW = "Wound infection 12/200 (6.0%) 22/200 (11.0%)"


def _source(text: str, at: int) -> NumberSource:
    return NumberSource(text=text, span=Span(start=at, end=at + len(text)), context=ROW, context_span=Span(start=0, end=len(ROW)),
                        page=4, where="table row")


def _arms(**withheld: int) -> ArmNumbers:
    values = {"intervention_events": 12, "intervention_group_size": 200, "comparator_events": 22, "comparator_group_size": 200}
    arms = ArmNumbers(outcome_type="binary", **{k: v for k, v in values.items() if k not in withheld})
    for name, value in values.items():
        text = str(value)
        arms.sources[name] = _source(text, ROW.index(text))
        arms.confidence[name] = 0.4 if name in withheld else 0.95
    arms.withheld = dict(withheld)
    return arms


RRR = Quantity(kind=QuantityKind.relative_change, value=45.5, unit="%", text="45.5%")


def test_arm_verdict_confident_numbers_give_a_verdict_and_say_where_they_were_read() -> None:
    arms = _arms()
    check = _arm_verdict(RRR, arms, recompute_effect(arms))
    assert check is not None and check.verdict is NumericVerdict.match
    assert "p. 4, table row" in check.note and "intervention events 12" in check.note


def test_arm_verdict_a_withheld_number_is_not_comparable_with_the_reason() -> None:
    arms = _arms(comparator_events=22)
    check = _arm_verdict(RRR, arms, recompute_effect(arms))
    assert check is not None and check.verdict is NumericVerdict.not_comparable
    assert ARMS_NOT_CONFIDENT in check.note and "withheld at confidence 0.40" in check.note
    assert check.found is None and check.recomputed_from is None


def test_arm_verdict_nothing_read_gives_no_check() -> None:
    assert _arm_verdict(RRR, ArmNumbers(outcome_type="binary"), {}) is None


def test_arm_verdict_a_wrong_claim_against_confident_numbers_is_a_mismatch() -> None:
    arms = _arms()
    wrong = RRR.model_copy(update={"value": 70.0, "text": "70%"})
    check = _arm_verdict(wrong, arms, recompute_effect(arms))
    assert check is not None and check.verdict is NumericVerdict.mismatch


PASSAGE = "Infection occurred in 12/200 vs 22/200 patients."


def _claim(quote: str):
    from tests.retrieval.test_numeric import claim

    return claim(quote)


def test_numeric_a_passage_mismatch_does_not_count_while_the_trials_arm_numbers_are_doubtful() -> None:
    from retrieval.checking.check import _numeric

    wrong = _claim("Kelvo reduces surgical site infection by 30%.")
    assert _numeric(None, wrong, PASSAGE).verdict is NumericVerdict.mismatch  # nothing doubtful: the passage decides
    other_outcome = _numeric(None, wrong, PASSAGE, doubtful=[18.5])  # the doubtful reading gave another effect
    assert other_outcome.verdict is NumericVerdict.not_comparable and ARMS_NOT_CONFIDENT in other_outcome.note
    same_numbers = _numeric(None, wrong, PASSAGE, doubtful=[45.45])  # the doubtful reading is these very numbers
    assert same_numbers.verdict is NumericVerdict.mismatch
    right = _claim("Kelvo reduces surgical site infection by 45%.")
    assert _numeric(None, right, PASSAGE, doubtful=[18.5]).verdict is NumericVerdict.match  # confirming is still allowed
