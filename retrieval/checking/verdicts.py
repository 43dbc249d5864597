"""The verdicts a claim gets from its support links: its support status, its numeric status, and the one claim-level
verdict that reads the two together with the reason in words.

Both the worksheet and the pre-check (``api.reports``), the claim listings of the service and the command line read
a claim's verdict through these rules, so an evaluator and a supplier see the same verdict for the same links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from extractor.schema import Claim, ClaimVerdict, NumericStatus, NumericVerdict, Passage, Stance, SupportLink, SupportStatus
from retrieval.checking.structure import NAME as STRUCTURE

SUPPORT_THRESHOLD = 0.5
"""Score a link needs to count as supporting or contradicting."""

SUPPORT_LABELS: dict[SupportStatus, str] = {
    SupportStatus.supported: "Supported by a cited source",
    SupportStatus.supported_other_source: "Supported, but not by a source it cites",
    SupportStatus.contradicted: "Contradicted",
    SupportStatus.unsupported: "No supporting passage found",
    SupportStatus.not_checked: "Not checked",
}


NUMERIC_LABELS: dict[NumericStatus, str] = {
    NumericStatus.match: "Numbers match the source",
    NumericStatus.mismatch: "Numbers do not match the source",
    NumericStatus.not_comparable: "No comparable number in the source",
    NumericStatus.not_checked: "Numbers not checked",
}


def support_status(links: list[SupportLink], *, threshold: float = SUPPORT_THRESHOLD) -> tuple[SupportStatus, SupportLink | None]:
    """A claim's support status from its support links, and the link the status rests on.

    The rule, applied in order (only links scoring at least ``threshold`` count as supporting or
    contradicting):

    1. no links at all: ``not_checked`` (no link);
    1a. a link of the structure judge on a cited paper (``retrieval.checking.structure``): its stance decides, already
       thresholded for precision (contradicts -> ``contradicted``, supports -> ``supported``, not enough info ->
       ``unsupported``), and the classifier's links are kept as the passages shown beside it;
    2. a passage of a document the claim cites contradicts it, and no cited passage supports it with a higher score:
       ``contradicted`` (the strongest contradicting link; a tie goes to the contradiction). A contradiction found in
       a document the claim does not cite is related reading, never an accusation: it is shown beside the claim
       (``counter_evidence``) but does not set the status;
    3. a passage from a document the claim cites supports it: ``supported`` (the strongest such link);
    4. only passages from documents the claim does not cite support it: ``supported_other_source``
       (the strongest supporting link);
    5. otherwise: ``unsupported`` (the closest link, highest score first, then retrieval score).
    """
    if not links:
        return SupportStatus.not_checked, None
    judged = [lk for lk in links if lk.method == STRUCTURE and lk.cited]
    if judged:  # the structure judge read the cited trial's finding: it decides, and abstains as not_enough_info
        best = max(judged, key=lambda lk: (lk.stance is not Stance.not_enough_info, lk.score))
        if best.stance is Stance.contradicts:
            return SupportStatus.contradicted, best
        if best.stance is Stance.supports:
            return SupportStatus.supported, best
        return SupportStatus.unsupported, best
    strong = [lk for lk in links if lk.score >= threshold]
    supports = [lk for lk in strong if lk.stance is Stance.supports]
    contradicts = [lk for lk in strong if lk.stance is Stance.contradicts and lk.cited]
    best_support = best_link(supports)
    best_contra = best_link(contradicts)
    cited = best_link([lk for lk in supports if lk.cited])
    if best_contra is not None and (cited is None or best_contra.score >= cited.score):
        return SupportStatus.contradicted, best_contra
    if cited is not None:
        return SupportStatus.supported, cited
    if best_support is not None:
        return SupportStatus.supported_other_source, best_support
    return SupportStatus.unsupported, best_link(links)


def numeric_status(links: list[SupportLink]) -> tuple[NumericStatus, SupportLink | None]:
    """A claim's numeric status from the numeric checks on its links, and the link it rests on.

    The rule: a check counts only when it compared something (verdict ``match`` or ``mismatch``) on a
    relevant link, one from a cited document or with a stance other than ``not_enough_info`` (a number
    in an unrelated retrieved passage proves nothing). Checks on cited documents, when there are any,
    take precedence over the rest. Among those: ``match`` if any matches, else ``mismatch`` — but only a
    cited document's numbers can say ``mismatch``: a figure in a paper the claim does not cite may confirm
    it, never accuse it (``not_comparable``). With no such check: ``not_comparable`` when some link was
    checked, ``not_checked`` when none was.
    """
    checked = [lk for lk in links if lk.numeric is not None]
    if not checked:
        return NumericStatus.not_checked, None
    relevant = [
        lk for lk in checked
        if lk.numeric.verdict is not NumericVerdict.not_comparable and (lk.cited or lk.stance is not Stance.not_enough_info)
    ]
    if not relevant:
        return NumericStatus.not_comparable, None
    pool = [lk for lk in relevant if lk.cited] or relevant
    matches = [lk for lk in pool if lk.numeric.verdict is NumericVerdict.match]
    if matches:
        return NumericStatus.match, best_link(matches)
    if not pool[0].cited:
        return NumericStatus.not_comparable, None
    return NumericStatus.mismatch, best_link(pool)


VERDICT_LABELS: dict[ClaimVerdict, str] = {
    ClaimVerdict.supported: "Supported",
    ClaimVerdict.contradicted: "Contradicted",
    ClaimVerdict.numbers_differ: "Numbers differ",
    ClaimVerdict.not_enough_info: "Not enough information",
    ClaimVerdict.not_checked: "Not checked",
    ClaimVerdict.pending: "Pending",
}
QUOTE_CHARS = 240


@dataclass(frozen=True, slots=True)
class Verdict:
    """A claim's one verdict, the reason in words, and the link (so the passage, page and sentence) it rests on."""

    status: ClaimVerdict
    reason: str
    link: SupportLink | None


def claim_verdict(links: list[SupportLink], passages: Mapping[str, Passage] | None = None, *,
                  threshold: float = SUPPORT_THRESHOLD, claim: Claim | None = None, pending: bool = False) -> Verdict:
    """The claim-level verdict from its links, precision first.

    ``contradicted`` when :func:`support_status` says so; else ``numbers_differ`` when :func:`numeric_status` finds a
    mismatch on a cited or relevant passage; else ``supported`` (by a cited source, or by another one, which the
    reason says); else ``not_enough_info``, with the closest passage still named; ``not_checked`` with no links.
    The reason quotes the sentence the verdict rests on (the structure judge's finding sentence, or the start of the
    passage) and its page, from ``passages`` (passage id -> Passage) when given. With the ``claim``, a claim that was
    not checked says whether it cannot be (it cites nothing, or none of its cited papers was supplied); with ``pending``
    (its document, or a paper of the same party, is still being processed) a claim with no links yet is ``pending``.
    """
    status, link = support_status(links, threshold=threshold)
    cites = bool(claim is not None and any(c.keys for c in claim.citations))
    unsupplied = cites and not any(lk.cited for lk in links)
    if status is SupportStatus.not_checked:
        if pending:
            return Verdict(ClaimVerdict.pending, "Pending: still being processed; the verdict follows when its check has run.", None)
        if claim is not None and not claim.citations:
            return Verdict(ClaimVerdict.not_checked, "Not checkable: the claim cites no source.", None)
        if unsupplied:
            return Verdict(ClaimVerdict.not_checked, "Not checkable: the paper it cites was not supplied.", None)
        return Verdict(ClaimVerdict.not_checked, "No passage has been checked against this claim yet.", None)
    if status is SupportStatus.contradicted and link is not None:  # only a cited source contradicts (support_status)
        return Verdict(ClaimVerdict.contradicted, f"The cited source reports {_said(link, passages)}, against the claim.", link)
    num, num_link = numeric_status(links)
    if num is NumericStatus.mismatch and num_link is not None and num_link.numeric is not None:
        check = num_link.numeric
        claimed = check.claimed.text if check.claimed is not None else "a figure"
        found = check.found.text if check.found is not None else "another figure"
        how = f" (recomputed {check.recomputed_from})" if check.recomputed_from else ""
        return Verdict(ClaimVerdict.numbers_differ, f"The claim gives {claimed}; the source gives {found}{how}{_page(num_link, passages)}.",
                       num_link)
    if status is SupportStatus.supported and link is not None:
        return Verdict(ClaimVerdict.supported, f"The cited source reports {_said(link, passages)}.", link)
    if status is SupportStatus.supported_other_source and link is not None:
        return Verdict(ClaimVerdict.supported, f"A source the claim does not cite reports {_said(link, passages)}; no cited source does.",
                       link)
    note = " The paper it cites was not supplied." if unsupplied else ""
    if link is None:
        return Verdict(ClaimVerdict.not_enough_info, f"{len(links)} passage(s) checked; none settles the claim.{note}", None)
    return Verdict(ClaimVerdict.not_enough_info,
                   f"{len(links)} passage(s) checked; none settles the claim. The closest: {_said(link, passages)}.{note}", link)


def excerpt(text: str, limit: int) -> str:
    """``text`` with its whitespace run together, cut at a word boundary to at most ``limit`` characters (then " …")."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def _said(link: SupportLink, passages: Mapping[str, Passage] | None) -> str:
    passage = (passages or {}).get(link.passage_id)
    text = excerpt(link.evidence or (passage.text if passage is not None else ""), QUOTE_CHARS)
    quoted = f"“{text}”" if text else f"passage {link.passage_id}"
    return quoted + _page(link, passages)


def _page(link: SupportLink, passages: Mapping[str, Passage] | None) -> str:
    passage = (passages or {}).get(link.passage_id)
    return f", p. {passage.page}" if passage is not None else ""


def best_link(links: list[SupportLink]) -> SupportLink | None:
    """The link with the highest score (then retrieval score), or None."""
    return max(links, key=lambda lk: (lk.score, lk.retrieval_score), default=None)


__all__ = ["NUMERIC_LABELS", "SUPPORT_LABELS", "SUPPORT_THRESHOLD", "VERDICT_LABELS", "Verdict", "best_link", "claim_verdict", "excerpt",
           "numeric_status", "support_status"]
