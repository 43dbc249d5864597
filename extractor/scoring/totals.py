"""Totals: each supplier's quality score, whole-life cost score and total, by domain, and the ranking table.

A question scored on the scale earns ``weight x points / top points`` of the moderated score (4 of 4 earns its whole
weight, "no response" nothing). A whole-life cost question earns ``weight x formula(own cost, lowest cost)``, where
the cost is the sum of the components it scores, as each supplier states it and an evaluator confirms it. The
default formula is the usual one (../shared/VBP.md, "Scoring"): the lowest whole-life cost earns full marks, the
others in proportion, ``lowest / own``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from extractor.schema import VBPDomain
from extractor.scoring.errors import ScoringError, ScoringIncompleteError
from extractor.scoring.models import ModeratedScore, QuestionResult, RankRow, Scheme, ScoringMethod, SupplierCosts, SupplierTotal
from extractor.scoring.scores import check_score, consensus_by_pair, scoring_progress

#: A whole-life cost formula: (the supplier's cost, the lowest cost) -> share of the weight earned, 0 to 1.
CostFormula = Callable[[float, float], float]


def lowest_over_own(own: float, lowest: float) -> float:
    """The lowest cost earns full marks, others in proportion: ``lowest / own`` (a cost of 0 earns full marks)."""
    return 1.0 if own <= 0 else lowest / own


def linear_from_lowest(own: float, lowest: float) -> float:
    """Marks fall by the share a cost lies above the lowest: ``1 - (own - lowest) / lowest``, never below 0 (twice the lowest earns 0)."""
    if lowest <= 0:
        return 1.0 if own <= 0 else 0.0
    return max(0.0, 1.0 - (own - lowest) / lowest)


#: The built-in formulas by name (``Scheme.cost_formula``).
COST_FORMULAS: dict[str, CostFormula] = {"lowest_over_own": lowest_over_own, "linear_from_lowest": linear_from_lowest}


def cost_fractions(costs: dict[str, float], formula: str | CostFormula = "lowest_over_own") -> dict[str, float]:
    """Each supplier's share of a cost question's weight, from the suppliers' costs.

    Args:
        costs: Each supplier's cost.
        formula: A built-in formula's name or a function (own, lowest) -> 0..1.

    Returns:
        The share earned, by supplier.

    Raises:
        ScoringError: unknown formula name, or the formula gives a share outside 0 to 1.
    """
    fn = _formula(formula)
    if not costs:
        return {}
    lowest = min(costs.values())
    out = {}
    for supplier, own in costs.items():
        share = float(fn(own, lowest))
        if not 0.0 <= share <= 1.0:
            raise ScoringError(f"the cost formula gave {share:g} for {supplier} (cost {own:g}, lowest {lowest:g}).",
                               hint="A cost formula must give a share of the weight between 0 and 1.")
        out[supplier] = share
    return out


def _formula(formula: str | CostFormula) -> CostFormula:
    if callable(formula):
        return formula
    if formula not in COST_FORMULAS:
        raise ScoringError(f"unknown cost formula {formula!r}.", hint=f"Use one of: {', '.join(COST_FORMULAS)}.")
    return COST_FORMULAS[formula]


def supplier_totals(
    scheme: Scheme, moderated: Iterable[ModeratedScore], costs: Iterable[SupplierCosts] = (), *,
    suppliers: list[str] | None = None, formula: str | CostFormula | None = None, require_confirmed: bool = True,
) -> list[SupplierTotal]:
    """Each supplier's result from the moderated scores, the weights and the stated costs.

    Args:
        scheme: The tender's scheme.
        moderated: One consensus score per (quality question, supplier).
        costs: Each supplier's stated whole-life cost (needed when the scheme has a cost question).
        suppliers: The suppliers, in the order to report them (default: every supplier named, sorted).
        formula: The whole-life cost formula (default: the scheme's), a name or a function (own, lowest) -> 0..1.
        require_confirmed: Refuse costs no evaluator has confirmed against their quotes.

    Returns:
        One :class:`SupplierTotal` per supplier: each question's contribution, each domain's, the quality score
        (questions on the scale), the cost score (questions scored by the formula) and the total out of 100.

    Raises:
        ScoringIncompleteError: a (quality question, supplier) has no moderated score, or a supplier's costs are
            missing (or unconfirmed).
        InvalidScoreError: a moderated score does not fit the scheme, or a pair has two.
        ScoringError: the costs are in different currencies, or the formula is unknown or gives a share outside 0 to 1.
    """
    moderated = list(moderated)
    costs = list(costs)
    by_supplier_cost: dict[str, SupplierCosts] = {}
    for c in costs:
        if c.supplier in by_supplier_cost:
            raise ScoringError(f"{c.supplier} has two sets of costs.", hint="Pass its current, confirmed costs only.")
        by_supplier_cost[c.supplier] = c
    if suppliers is None:
        suppliers = sorted({m.supplier for m in moderated} | set(by_supplier_cost))
    for m in moderated:
        check_score(scheme, m, suppliers=suppliers)
    has_cost = any(q.method is ScoringMethod.cost for q in scheme.questions)
    progress = scoring_progress(scheme, suppliers, moderated, costs, require_confirmed=require_confirmed)
    if not progress.complete:
        parts = []
        if progress.missing:
            shown = ", ".join(f"{p.question_id} for {p.supplier}" for p in progress.missing[:8])
            parts.append(f"{len(progress.missing)} of {progress.required} scores are not moderated ({shown}"
                         f"{' …' if len(progress.missing) > 8 else ''})")
        if progress.costs_missing:
            what = "stated and confirmed" if require_confirmed else "stated"
            parts.append(f"the whole-life costs of {', '.join(progress.costs_missing)} are not {what}")
        raise ScoringIncompleteError(f"scoring of {scheme.name!r} is not complete: {'; '.join(parts)}.",
                                     hint="Moderate every question for every supplier and confirm every supplier's costs first.")
    if has_cost:
        currencies = {by_supplier_cost[s].currency for s in suppliers}
        if len(currencies) > 1:
            raise ScoringError(f"the suppliers' costs are in different currencies ({', '.join(sorted(currencies))}).",
                               hint="Convert them to one currency before scoring.")
    fn = _formula(formula if formula is not None else scheme.cost_formula)
    shares = {
        q.id: cost_fractions({s: by_supplier_cost[s].cost_of(q.cost_components) for s in suppliers}, fn)
        for q in scheme.questions if q.method is ScoringMethod.cost
    }
    consensus = consensus_by_pair(moderated)
    out = []
    for supplier in suppliers:
        results = []
        for q in scheme.questions:
            if q.method is ScoringMethod.cost:
                cost = by_supplier_cost[supplier].cost_of(q.cost_components)
                share = shares[q.id][supplier]
                results.append(QuestionResult(question_id=q.id, domain=q.domain, method=q.method, weight=q.weight, points=None,
                                              cost=cost, fraction=share, contribution=q.weight * share))
            else:
                points = consensus[(q.id, supplier)].points
                share = scheme.scale.fraction(points)
                results.append(QuestionResult(question_id=q.id, domain=q.domain, method=q.method, weight=q.weight, points=points,
                                              cost=None, fraction=share, contribution=q.weight * share))
        by_domain: dict[VBPDomain, float] = {}
        for r in results:
            by_domain[r.domain] = by_domain.get(r.domain, 0.0) + r.contribution
        quality = sum(r.contribution for r in results if r.method is ScoringMethod.quality)
        cost_score = sum(r.contribution for r in results if r.method is ScoringMethod.cost)
        stated = by_supplier_cost.get(supplier)
        out.append(SupplierTotal(supplier=supplier, questions=results, by_domain=by_domain, quality_score=quality,
                                 cost_score=cost_score, total=quality + cost_score,
                                 whole_life_cost=stated.whole_life_cost if stated else None))
    return out


def rank_suppliers(
    totals: list[SupplierTotal], *, decimals: int = 2, tie_break: Literal["none", "quality", "cost"] = "none",
) -> list[RankRow]:
    """The ranking table, highest total first, with ties made explicit.

    Totals are compared as reported, rounded to ``decimals`` places, so two totals that print the same are tied
    (float noise never decides an award). Tied suppliers share a rank and the next rank is skipped ("1, 1, 3"); each
    tied row names the others. No tie is broken unless the tender says how: ``tie_break="quality"`` (or "cost") ranks
    tied suppliers by their quality (or whole-life cost) score, compared the same way, and notes it.

    Args:
        totals: The suppliers' totals.
        decimals: Decimal places at which totals (and tie-break scores) are compared.
        tie_break: "none", "quality" or "cost".

    Returns:
        One row per supplier, best first; suppliers still tied are listed by name.

    Raises:
        ScoringError: an unknown tie-break.
    """
    if tie_break not in ("none", "quality", "cost"):
        raise ScoringError(f"unknown tie-break {tie_break!r}.", hint="Use none, quality or cost.")

    def key(t: SupplierTotal) -> tuple[float, float]:
        second = {"none": 0.0, "quality": t.quality_score, "cost": t.cost_score}[tie_break]
        return (round(t.total, decimals), round(second, decimals))

    ordered = sorted(totals, key=lambda t: (-key(t)[0], -key(t)[1], t.supplier))
    rows: list[RankRow] = []
    for t in ordered:
        same_total = [o.supplier for o in ordered if o is not t and round(o.total, decimals) == key(t)[0]]
        still_tied = [o.supplier for o in ordered if o is not t and key(o) == key(t)]
        rank = 1 + sum(1 for o in ordered if key(o) > key(t))
        note = ""
        if still_tied:
            note = f"tied on total {key(t)[0]:.{decimals}f}" + (f" and on {tie_break} score" if tie_break != "none" else "; no tie-break applied")
        elif same_total:
            note = f"tie on total {key(t)[0]:.{decimals}f} with {', '.join(same_total)} broken by {tie_break} score"
        rows.append(RankRow(rank=rank, supplier=t.supplier, total=t.total, quality_score=t.quality_score, cost_score=t.cost_score,
                            by_domain=t.by_domain, tied_with=still_tied, note=note))
    return rows
