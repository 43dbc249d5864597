"""Evaluators' scores and moderation: checking a score against the scheme, the blind rule, spreads and completeness.

UK public-sector practice (../shared/VBP.md, "How UK public-sector moderation works"): each evaluator scores
independently with written reasons; a moderation meeting agrees one consensus score per question and bidder with its
own rationale; individual scores and their spread are kept. Storing, versioning and auditing scores belong to the
service; the rules here are pure so that the API and the pages apply the same ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from extractor.scoring.errors import InvalidScoreError
from extractor.scoring.models import (
    EvaluatorScore,
    ModeratedScore,
    ModerationRow,
    PairKey,
    Scheme,
    ScoreKey,
    ScoreSpread,
    ScoringMethod,
    ScoringProgress,
    SupplierCosts,
)


def check_score(scheme: Scheme, score: EvaluatorScore | ModeratedScore, *, suppliers: Collection[str] | None = None) -> None:
    """Check that a score (an evaluator's or a moderated one) fits the scheme.

    Args:
        scheme: The tender's scheme.
        score: The score.
        suppliers: The tender's suppliers, when the caller wants the supplier checked too.

    Raises:
        InvalidScoreError: the question is not in the scheme or is scored by the cost formula, the points are not a step
            of the scale (the message lists the steps), or the supplier is not one of the tender's.
    """
    question = scheme.question(score.question_id)
    if question is None:
        raise InvalidScoreError(f"scheme {scheme.name!r} has no question {score.question_id!r}.",
                                hint=f"Use one of: {', '.join(q.id for q in scheme.questions)}.")
    if question.method is ScoringMethod.cost:
        raise InvalidScoreError(f"question {question.id!r} is scored by the whole-life cost formula, not on the scale.",
                                hint="Confirm the supplier's stated costs instead.")
    if scheme.scale.label_for(score.points) is None:
        steps = ", ".join(f"{lv.points} ({lv.label})" for lv in scheme.scale.levels)
        raise InvalidScoreError(f"{score.points} is not a step of the score scale.", hint=f"Use one of: {steps}.")
    if suppliers is not None and score.supplier not in suppliers:
        raise InvalidScoreError(f"{score.supplier!r} is not a supplier of this tender.", hint=f"Use one of: {', '.join(sorted(suppliers))}.")


def visible_scores(
    viewer: str, scores: Iterable[EvaluatorScore], submitted: Collection[ScoreKey | tuple[str, str, str]], *,
    moderator: bool = False,
) -> list[EvaluatorScore]:
    """The scores ``viewer`` may see: blind scoring, decided per (question, supplier).

    - A viewer always sees their own scores, drafts included.
    - Another evaluator's score is seen only once it is submitted **and** the viewer has submitted their own score of
      the same question for the same supplier ("not until both have submitted").
    - A moderator also sees every submitted score of a pair they have not scored themselves; a moderator who is also
      an evaluator still sees nothing of a pair while their own score of it is an unsubmitted draft.
    - An unsubmitted score is never seen by anyone but its author.

    Args:
        viewer: Who is looking.
        scores: The scores stored (each evaluator's current version).
        submitted: The (evaluator, question_id, supplier) keys that have been submitted.
        moderator: True when the viewer moderates this tender.

    Returns:
        The visible scores, in the order given.
    """
    done = {ScoreKey(*k) for k in submitted}
    scores = list(scores)
    drafting = {s.pair for s in scores if s.evaluator == viewer and s.key not in done}
    out = []
    for s in scores:
        if s.evaluator == viewer:
            out.append(s)
        elif s.key not in done:
            continue
        elif ScoreKey(viewer, s.question_id, s.supplier) in done or (moderator and s.pair not in drafting):
            out.append(s)
    return out


def _by_pair(scores: Iterable[EvaluatorScore]) -> dict[PairKey, list[EvaluatorScore]]:
    out: dict[PairKey, list[EvaluatorScore]] = defaultdict(list)
    for s in scores:
        out[s.pair].append(s)
    for pair, items in out.items():
        names = [s.evaluator for s in items]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise InvalidScoreError(f"{', '.join(twice)} scored {pair.question_id} for {pair.supplier} more than once.",
                                    hint="Pass each evaluator's current version only.")
        items.sort(key=lambda s: s.evaluator)
    return out


def score_spread(scores: Iterable[EvaluatorScore]) -> list[ScoreSpread]:
    """The spread of the evaluators' scores for every (question, supplier) that has any (pass the submitted scores).

    Returns:
        One :class:`ScoreSpread` per pair, sorted by question id then supplier.

    Raises:
        InvalidScoreError: an evaluator appears twice for one pair.
    """
    out = []
    for pair, items in sorted(_by_pair(scores).items()):
        points = {s.evaluator: s.points for s in items}
        low, high = min(points.values()), max(points.values())
        out.append(ScoreSpread(question_id=pair.question_id, supplier=pair.supplier, points=points, low=low, high=high, spread=high - low))
    return out


def consensus_by_pair(moderated: Iterable[ModeratedScore]) -> dict[PairKey, ModeratedScore]:
    """The consensus score of each (question, supplier).

    Raises:
        InvalidScoreError: a pair has two.
    """
    out: dict[PairKey, ModeratedScore] = {}
    for m in moderated:
        if m.pair in out:
            raise InvalidScoreError(f"{m.question_id} for {m.supplier} has two moderated scores.",
                                    hint="Pass the current consensus only (a changed consensus is a new version of the same record).")
        out[m.pair] = m
    return out


def moderation_rows(
    scheme: Scheme, suppliers: list[str], scores: Iterable[EvaluatorScore], moderated: Iterable[ModeratedScore],
) -> list[ModerationRow]:
    """The moderation sheet: for each quality question and supplier, the scores side by side, their spread and the consensus.

    Args:
        scheme: The tender's scheme.
        suppliers: The tender's suppliers, in the order to show them.
        scores: The submitted evaluators' scores.
        moderated: The consensus scores recorded so far.

    Returns:
        One row per (quality question, supplier), in scheme order then supplier order.
    """
    scores = list(scores)
    by_pair = _by_pair(scores)
    spreads = {PairKey(s.question_id, s.supplier): s for s in score_spread(scores)}
    consensus = consensus_by_pair(moderated)
    rows = []
    for q in scheme.questions:
        if q.method is not ScoringMethod.quality:
            continue
        for supplier in suppliers:
            pair = PairKey(q.id, supplier)
            rows.append(ModerationRow(question_id=q.id, supplier=supplier, scores=by_pair.get(pair, []),
                                      spread=spreads.get(pair), moderated=consensus.get(pair)))
    return rows


def scoring_progress(
    scheme: Scheme, suppliers: list[str], moderated: Iterable[ModeratedScore], costs: Iterable[SupplierCosts] = (), *,
    require_confirmed: bool = True,
) -> ScoringProgress:
    """Whether scoring can close: every (quality question, supplier) has a moderated score and, when the scheme has a
    cost question, every supplier's whole-life cost is stated and confirmed.

    Args:
        scheme: The tender's scheme.
        suppliers: The tender's suppliers.
        moderated: The consensus scores recorded.
        costs: The suppliers' stated costs.
        require_confirmed: Count only costs an evaluator has confirmed against their quotes.

    Returns:
        The progress, listing what is left.
    """
    done = consensus_by_pair(moderated)
    required = [PairKey(q.id, s) for q in scheme.questions if q.method is ScoringMethod.quality for s in suppliers]
    missing = [p for p in required if p not in done]
    costs_missing: list[str] = []
    if any(q.method is ScoringMethod.cost for q in scheme.questions):
        confirmed = {c.supplier for c in costs if c.confirmed_by or not require_confirmed}
        costs_missing = [s for s in suppliers if s not in confirmed]
    return ScoringProgress(complete=not missing and not costs_missing, moderated=len(required) - len(missing), required=len(required),
                           missing=missing, costs_missing=costs_missing)
