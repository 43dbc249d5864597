"""The verdicts a claim gets from its support links: its support status and its numeric status.

Both the worksheet and the pre-check (``api.reports``), the claim listings of the service and the command line read
a claim's verdict through these two rules, so an evaluator and a supplier see the same verdict for the same links.
"""

from __future__ import annotations

from extractor.schema import NumericStatus, NumericVerdict, Stance, SupportLink, SupportStatus

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
    2. some link contradicts, and no link supports with a higher score: ``contradicted``
       (the strongest contradicting link; a tie goes to the contradiction);
    3. a passage from a document the claim cites supports it: ``supported`` (the strongest such link);
    4. only passages from documents the claim does not cite support it: ``supported_other_source``
       (the strongest supporting link);
    5. otherwise: ``unsupported`` (the closest link, highest score first, then retrieval score).
    """
    if not links:
        return SupportStatus.not_checked, None
    strong = [lk for lk in links if lk.score >= threshold]
    supports = [lk for lk in strong if lk.stance is Stance.supports]
    contradicts = [lk for lk in strong if lk.stance is Stance.contradicts]
    best_support = best_link(supports)
    best_contra = best_link(contradicts)
    if best_contra is not None and (best_support is None or best_contra.score >= best_support.score):
        return SupportStatus.contradicted, best_contra
    cited = best_link([lk for lk in supports if lk.cited])
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
    take precedence over the rest. Among those: ``match`` if any matches, else ``mismatch``. With no
    such check: ``not_comparable`` when some link was checked, ``not_checked`` when none was.
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
    return NumericStatus.mismatch, best_link(pool)


def best_link(links: list[SupportLink]) -> SupportLink | None:
    """The link with the highest score (then retrieval score), or None."""
    return max(links, key=lambda lk: (lk.score, lk.retrieval_score), default=None)


__all__ = ["NUMERIC_LABELS", "SUPPORT_LABELS", "SUPPORT_THRESHOLD", "best_link", "numeric_status", "support_status"]
