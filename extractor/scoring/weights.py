"""A scheme's weights checked against the national VBP weighting rules.

The rules, as DHSC has confirmed them (``../shared/VBP.md``, "Weights (confirmed by DHSC)"):

- whole-life cost (purchase, implementation, operation, disposal) is **at most 40%** of the evaluation;
- the five value domains together are **at least 60%**;
- social value is **at least 10%**, inside the 60%;

and, as in any weighted evaluation, the weights sum to **100%**. Each rule allows a rounding tolerance of ±0.01
percentage points, so weights such as 33.33 + 33.33 + 33.34 pass.

Because every question is either in a value domain or in whole-life cost, a scheme whose weights sum to 100 breaks
the whole-life cost rule exactly when it breaks the value-domain rule: the two are reported together.
"""

from __future__ import annotations

from dataclasses import dataclass

from extractor.schema import VBPDomain
from extractor.scoring.errors import WeightRuleError, WeightViolation
from extractor.scoring.models import DOMAIN_LABELS, VALUE_DOMAINS, Scheme


@dataclass(frozen=True, slots=True)
class WeightRules:
    """The weighting rules, in percentage points (the defaults are the national standard's)."""

    whole_life_cost_max: float = 40.0
    value_domains_min: float = 60.0
    social_value_min: float = 10.0
    total: float = 100.0
    tolerance: float = 0.01


#: The national standard's rules (../shared/VBP.md, "Weights (confirmed by DHSC)").
NATIONAL_RULES = WeightRules()


def domain_weights(scheme: Scheme) -> dict[VBPDomain, float]:
    """The weight of each domain: the sum of its questions' weights (every domain present, 0 where none)."""
    out = {d: 0.0 for d in (*VALUE_DOMAINS, VBPDomain.whole_life_cost)}
    for q in scheme.questions:
        out[q.domain] += q.weight
    return out


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _points(x: float) -> str:
    return f"{_fmt(x)} point{'' if _fmt(x) == '1' else 's'}"


def _ids(scheme: Scheme, domains: tuple[VBPDomain, ...]) -> tuple[str, ...]:
    return tuple(q.id for q in scheme.questions if q.domain in domains)


def _listed(ids: tuple[str, ...]) -> str:
    return f" ({', '.join(ids)})" if ids else " (no question)"


def check_weights(scheme: Scheme, rules: WeightRules = NATIONAL_RULES) -> list[WeightViolation]:
    """Every weighting rule the scheme breaks, in the order: total, whole-life cost, value domains, social value.

    Args:
        scheme: The scheme to check.
        rules: The rules (default: the national standard's).

    Returns:
        One :class:`WeightViolation` per rule broken, each naming the rule, the numbers and the fix; empty when the
        scheme meets every rule.
    """
    w = domain_weights(scheme)
    tol = rules.tolerance
    total = sum(w.values())
    wlc = w[VBPDomain.whole_life_cost]
    value = sum(w[d] for d in VALUE_DOMAINS)
    social = w[VBPDomain.social_value]
    out: list[WeightViolation] = []
    all_ids = tuple(q.id for q in scheme.questions)
    if abs(total - rules.total) > tol:
        gap = total - rules.total
        out.append(WeightViolation(
            rule=f"weights_total_{_fmt(rules.total)}", title=f"weights sum to {_fmt(rules.total)}%",
            actual=total, limit=rules.total, questions=all_ids,
            message=f"Rule broken: the weights must sum to {_fmt(rules.total)}%; they sum to {_fmt(total)}%.",
            fix=f"{'Remove' if gap > 0 else 'Add'} {_points(abs(gap))} across the questions.",
        ))
    if wlc > rules.whole_life_cost_max + tol:
        over = wlc - rules.whole_life_cost_max
        ids = _ids(scheme, (VBPDomain.whole_life_cost,))
        out.append(WeightViolation(
            rule=f"whole_life_cost_max_{_fmt(rules.whole_life_cost_max)}",
            title=f"whole-life cost at most {_fmt(rules.whole_life_cost_max)}%",
            actual=wlc, limit=rules.whole_life_cost_max, questions=ids,
            message=(f"Rule broken: whole-life cost may weigh at most {_fmt(rules.whole_life_cost_max)}% of the evaluation; "
                     f"its questions{_listed(ids)} weigh {_fmt(wlc)}%."),
            fix=f"Move at least {_points(over)} from whole-life cost to the value domains.",
        ))
    if value < rules.value_domains_min - tol:
        short = rules.value_domains_min - value
        ids = _ids(scheme, VALUE_DOMAINS)
        out.append(WeightViolation(
            rule=f"value_domains_min_{_fmt(rules.value_domains_min)}",
            title=f"value domains together at least {_fmt(rules.value_domains_min)}%",
            actual=value, limit=rules.value_domains_min, questions=ids,
            message=(f"Rule broken: the five value domains together must weigh at least {_fmt(rules.value_domains_min)}%; "
                     f"their questions{_listed(ids)} weigh {_fmt(value)}%."),
            fix=f"Add at least {_points(short)} to the value-domain questions.",
        ))
    if social < rules.social_value_min - tol:
        short = rules.social_value_min - social
        ids = _ids(scheme, (VBPDomain.social_value,))
        label = DOMAIN_LABELS[VBPDomain.social_value]
        out.append(WeightViolation(
            rule=f"social_value_min_{_fmt(rules.social_value_min)}", title=f"{label} at least {_fmt(rules.social_value_min)}%",
            actual=social, limit=rules.social_value_min, questions=ids,
            message=(f"Rule broken: {label} must weigh at least {_fmt(rules.social_value_min)}% (PPN 002); "
                     f"its questions{_listed(ids)} weigh {_fmt(social)}%."),
            fix=(f"Add at least {_points(short)} to the social value questions"
                 + ("." if ids else " (select one from the bank or add one first).")),
        ))
    return out


def validate_scheme(scheme: Scheme, rules: WeightRules = NATIONAL_RULES) -> Scheme:
    """Check a scheme against the national weighting rules, as a tender saves it.

    Args:
        scheme: The scheme to check.
        rules: The rules (default: the national standard's).

    Returns:
        The scheme, unchanged, when it meets every rule.

    Raises:
        WeightRuleError: one or more rules are broken; ``violations`` has each, and the message names every rule,
            its numbers and the fix.
    """
    violations = check_weights(scheme, rules)
    if violations:
        raise WeightRuleError(scheme.name, violations)
    return scheme
