"""The claim-level verdict and the structure judge's precedence, on hand-built links."""

from __future__ import annotations

import pytest

from extractor.schema import (
    ClaimVerdict,
    NumericCheck,
    NumericVerdict,
    Passage,
    Quantity,
    QuantityKind,
    Span,
    Stance,
    SupportLink,
    SupportStatus,
)
from retrieval.checking.check import STRUCTURE
from retrieval.checking.verdicts import VERDICT_LABELS, claim_verdict, support_status

FINDING = "Surgical site infection did not differ significantly between the groups (7% vs 8%, p = 0.64)."
PASSAGES = {
    "trial:4": Passage(id="trial:4", doc_id="trial", index=4, page=5, span=Span(start=900, end=900 + len(FINDING) + 40),
                       text="In the intention-to-treat population, " + FINDING),
    "trial:2": Passage(id="trial:2", doc_id="trial", index=2, page=2, span=Span(start=300, end=340),
                       text="We randomised 400 women to two dressings."),
    "other:0": Passage(id="other:0", doc_id="other", index=0, page=9, span=Span(start=0, end=45),
                       text="The dressing halved infection in an audit."),
}


def classifier(stance: Stance, score: float, *, passage: str = "trial:2", cited: bool = True,
               numeric: NumericCheck | None = None) -> SupportLink:
    return SupportLink(claim_id="c", passage_id=passage, stance=stance, score=score, cited=cited, numeric=numeric)


def structural(stance: Stance, score: float) -> SupportLink:
    return SupportLink(claim_id="c", passage_id="trial:4", stance=stance, score=score, cited=True, method=STRUCTURE,
                       evidence=FINDING, evidence_span=Span(start=938, end=938 + len(FINDING)))


def mismatch(claimed: str = "45%", found: str = "20%") -> NumericCheck:
    return NumericCheck(verdict=NumericVerdict.mismatch,
                        claimed=Quantity(kind=QuantityKind.relative_change, value=45, unit="%", text=claimed),
                        found=Quantity(kind=QuantityKind.relative_change, value=20, unit="%", text=found), note="")


def test_verdicts_structure_judge_decides_over_the_classifier() -> None:
    links = [classifier(Stance.supports, 0.95), structural(Stance.contradicts, 0.81)]
    status, link = support_status(links)
    assert status is SupportStatus.contradicted and link is links[1]
    verdict = claim_verdict(links, PASSAGES)
    assert verdict.status is ClaimVerdict.contradicted and verdict.link is links[1]
    assert f"“{FINDING}”, p. 5" in verdict.reason  # the sentence it rests on, verbatim, and its page


def test_verdicts_structure_abstention_is_not_overruled_by_a_confident_classifier() -> None:
    """Precision first: where the judge that read the trial's finding abstains, a classifier's contradiction is not said."""
    links = [classifier(Stance.contradicts, 0.97), structural(Stance.not_enough_info, 0.52)]
    assert support_status(links)[0] is SupportStatus.unsupported
    verdict = claim_verdict(links, PASSAGES)
    assert verdict.status is ClaimVerdict.not_enough_info
    assert "none settles the claim" in verdict.reason and FINDING in verdict.reason


def test_verdicts_an_uncited_structure_link_does_not_decide() -> None:
    link = structural(Stance.not_enough_info, 0.9).model_copy(update={"cited": False})
    assert support_status([link, classifier(Stance.supports, 0.9)])[0] is SupportStatus.supported
    assert support_status([link.model_copy(update={"cited": True}), classifier(Stance.supports, 0.9)])[0] is SupportStatus.unsupported


@pytest.mark.parametrize(
    ("links", "status", "words"),
    [
        ([], ClaimVerdict.not_checked, "No passage has been checked"),
        ([classifier(Stance.supports, 0.9)], ClaimVerdict.supported, "The cited source reports “We randomised 400 women"),
        ([classifier(Stance.supports, 0.9, passage="other:0", cited=False)], ClaimVerdict.supported,
         "does not cite reports “The dressing halved infection in an audit.”, p. 9; no cited source does"),
        # supported in words, but its number is not the source's: the numbers decide
        ([classifier(Stance.supports, 0.9, numeric=mismatch())], ClaimVerdict.numbers_differ,
         "The claim gives 45%; the source gives 20%, p. 2."),
        # a contradiction is said before a number that differs
        ([classifier(Stance.contradicts, 0.9, numeric=mismatch())], ClaimVerdict.contradicted, "against the claim"),
        ([classifier(Stance.not_enough_info, 0.9)], ClaimVerdict.not_enough_info, "1 passage(s) checked; none settles"),
        ([classifier(Stance.contradicts, 0.3)], ClaimVerdict.not_enough_info, "The closest"),  # below the threshold
    ],
)
def test_verdicts_claim_verdict_rule(links: list[SupportLink], status: ClaimVerdict, words: str) -> None:
    verdict = claim_verdict(links, PASSAGES)
    assert verdict.status is status, verdict
    assert words in verdict.reason, verdict.reason
    assert VERDICT_LABELS[verdict.status]


def test_verdicts_reason_without_passages_still_quotes_the_judge_sentence() -> None:
    verdict = claim_verdict([structural(Stance.supports, 0.7)])
    assert verdict.status is ClaimVerdict.supported and f"“{FINDING}”" in verdict.reason and "p." not in verdict.reason


def test_verdicts_long_passages_are_cut_at_a_word() -> None:
    long = Passage(id="trial:9", doc_id="trial", index=9, page=3, span=Span(start=0, end=600), text="word " * 120)
    verdict = claim_verdict([classifier(Stance.supports, 0.9, passage="trial:9")], {"trial:9": long})
    assert "word …”" in verdict.reason and len(verdict.reason) < 320


def _claim(*markers: str):
    from extractor.schema import Citation, Claim, ClaimCategory, VBPDomain

    quote = "Kelvo halves infection" + (" [1]." if markers else ".")
    return Claim(doc_id="bid", page=1, span=Span(start=0, end=len(quote)), quote=quote, category=ClaimCategory.outcome,
                 domain=VBPDomain.patient_and_staff, extractor="test", citations=[Citation(marker=m, keys=[m.strip("[]")]) for m in markers])


def test_verdicts_a_claim_still_waiting_on_its_check_is_pending_not_unchecked() -> None:
    waiting = claim_verdict([], PASSAGES, claim=_claim("[1]"), pending=True)
    assert waiting.status is ClaimVerdict.pending and waiting.reason.startswith("Pending: still being processed")
    checked = claim_verdict([classifier(Stance.not_enough_info, 0.9)], PASSAGES, claim=_claim("[1]"), pending=True)
    assert checked.status is ClaimVerdict.not_enough_info  # links already there: what they say stands
    assert claim_verdict([], PASSAGES, claim=_claim("[1]")).status is ClaimVerdict.not_checked


@pytest.mark.parametrize(("claim_markers", "links", "status", "words"), [
    ((), [], ClaimVerdict.not_checked, "Not checkable: the claim cites no source."),
    (("[1]",), [], ClaimVerdict.not_checked, "Not checkable: the paper it cites was not supplied."),
    (("[1]",), [classifier(Stance.not_enough_info, 0.9, passage="other:0", cited=False)], ClaimVerdict.not_enough_info,
     "The paper it cites was not supplied."),
    (("[1]",), [classifier(Stance.not_enough_info, 0.9)], ClaimVerdict.not_enough_info, "none settles the claim. The closest"),
    # a strong contradiction in a paper the claim does not cite accuses nothing (issue 17)
    (("[1]",), [classifier(Stance.contradicts, 0.95, passage="other:0", cited=False)], ClaimVerdict.not_enough_info,
     "The paper it cites was not supplied."),
])
def test_verdicts_say_why_a_claim_was_not_checked(claim_markers, links, status: ClaimVerdict, words: str) -> None:
    verdict = claim_verdict(links, PASSAGES, claim=_claim(*claim_markers))
    assert verdict.status is status and words in verdict.reason, verdict
    if words.startswith("none settles"):
        assert "not supplied" not in verdict.reason
