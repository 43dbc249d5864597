"""Numeric check: a claim's numbers against a source passage's, recomputing effects where it can.

A supplier writes "reduces surgical site infection by 45%"; the cited trial reports 12/200 vs
22/200. The risk ratio is 0.545, a 45.5% relative reduction: a match. Had the trial reported
14/200 vs 20/200 (30%), the check says ``mismatch`` and shows both numbers. When the passage
holds nothing comparable, the verdict is ``not_comparable``; the check never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.schema import Claim, NumericCheck, NumericVerdict, Quantity, QuantityKind

# A claimed number written as "45%" may stand for anything from 44.5 to 45.5; allow a little
# more for values computed from rounded arm figures.
ABSOLUTE_TOLERANCE = 1.0  # percentage points, for percentages and relative changes
RELATIVE_TOLERANCE = 0.03  # 3% of the value, for ratios, money and other numbers

_PAIR = re.compile(r"\b(\d{1,6})\s*(?:/|of|out of)\s*(\d{1,6})\b")


@dataclass(frozen=True, slots=True)
class _Found:
    value: float
    text: str
    how: str


def _close(claimed: float, found: float, *, percent: bool) -> bool:
    if percent:
        return abs(claimed - found) <= ABSOLUTE_TOLERANCE
    return abs(claimed - found) <= max(RELATIVE_TOLERANCE * abs(claimed), 0.005)


def _arm_pairs(text: str) -> list[tuple[int, int, str]]:
    """Event counts with their group sizes, in order of appearance ("12/200", "22 of 200")."""
    out = []
    for m in _PAIR.finditer(text):
        events, total = int(m.group(1)), int(m.group(2))
        if 0 <= events <= total and total > 0:
            out.append((events, total, m.group(0)))
    return out


def relative_reductions(text: str, quantities: list[Quantity]) -> list[_Found]:
    """Relative changes a passage supports: stated ones, and ones recomputed from its numbers.

    From a risk ratio ``r`` the relative change is ``|1 - r|``; from two risks ``a`` and ``b`` it is
    ``1 - min/max``; from two event counts over their group sizes likewise.
    """
    found: list[_Found] = []
    for q in quantities:
        if q.kind is QuantityKind.relative_change and q.unit == "%":
            found.append(_Found(q.value, q.text, "stated"))
        if q.kind is QuantityKind.ratio and q.value > 0:
            found.append(_Found(abs(1 - q.value) * 100, q.text, f"from the ratio {q.text}"))
    percents = [q for q in quantities if q.kind is QuantityKind.percent and q.value > 0]
    for a, b in zip(percents, percents[1:]):
        lo, hi = sorted((a.value, b.value))
        if hi > 0 and lo != hi:
            found.append(_Found((1 - lo / hi) * 100, f"{a.text} vs {b.text}", f"from {a.text} vs {b.text}"))
    pairs = _arm_pairs(text)
    for (e1, n1, t1), (e2, n2, t2) in zip(pairs, pairs[1:]):
        r1, r2 = e1 / n1, e2 / n2
        lo, hi = sorted((r1, r2))
        if hi > 0 and lo != hi:
            found.append(_Found((1 - lo / hi) * 100, f"{t1} vs {t2}", f"from {t1} vs {t2} (risk ratio {lo / hi:.3f})"))
    return found


def check_numbers(claim: Claim, passage_text: str, passage_quantities: list[Quantity] | None = None) -> NumericCheck:
    """Compare the claim's quantities with what a passage states or implies.

    Args:
        claim: The claim, with its quantities.
        passage_text: The source passage.
        passage_quantities: Its quantities, if already extracted (else they are extracted here).

    Returns:
        ``match`` when a claimed number is found or recomputed within tolerance, ``mismatch`` when
        the passage gives the same kind of number with a different value (both are reported), and
        ``not_comparable`` otherwise.
    """
    if passage_quantities is None:
        from extractor.quantities import extract_quantities

        passage_quantities = extract_quantities(passage_text)
    claimed = [q for q in claim.quantities if q.kind not in (QuantityKind.sample_size, QuantityKind.duration, QuantityKind.p_value)]
    if not claimed:
        return _check_measures(claim.quote, passage_text)
    mismatches: list[NumericCheck] = []
    for q in claimed:
        result = _check_one(q, passage_text, passage_quantities)
        if result is None:
            continue
        if result.verdict is NumericVerdict.match:
            return result
        mismatches.append(result)
    if mismatches:
        return mismatches[0]
    return NumericCheck(verdict=NumericVerdict.not_comparable, note="the passage gives no number of the same kind")


_MEASURE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:(?:±|\+/-)\s*\d+(?:\.\d+)?\s*)?"
    r"(mm²|mm2|mm|cm|ml|mL|mg/dL|mmol/L|mg|kg|g|minutes|mins?|hours|hrs?|days|weeks|°C)(?![\w²])"
)


def _measures(text: str) -> list[tuple[float, str, str]]:
    """Measurements with a physical unit ("0.11±0.25 mm", "6.95 mm²", "38 minutes"): (value, unit, text)."""
    return [(float(m.group(1)), m.group(2).replace("mm2", "mm²").lower(), m.group(0).strip()) for m in _MEASURE.finditer(text)]


def _check_measures(quote: str, passage_text: str) -> NumericCheck:
    """For a claim whose numbers are plain measurements: a match when every one of them appears in the passage
    with the same unit; never a mismatch (a passage's other measurements may be of something else)."""
    claimed = _measures(quote)
    if not claimed:
        return NumericCheck(verdict=NumericVerdict.not_comparable, note="the claim states no number to check")
    found = _measures(passage_text)
    if all(any(u == fu and abs(v - fv) <= max(RELATIVE_TOLERANCE * abs(v), 0.005) for fv, fu, _ in found) for v, u, _ in claimed):
        said = ", ".join(t for _, _, t in claimed)
        return NumericCheck(verdict=NumericVerdict.match, note=f"every measurement the claim gives ({said}) appears in the source")
    return NumericCheck(verdict=NumericVerdict.not_comparable, note="the passage does not give the claim's measurements")


def _check_one(q: Quantity, text: str, quantities: list[Quantity]) -> NumericCheck | None:
    if q.kind is QuantityKind.relative_change and q.unit == "%":
        candidates = relative_reductions(text, quantities)
        return _verdict(q, candidates, percent=True, what="relative change")
    same = [p for p in quantities if p.kind is q.kind and p.unit == q.unit]
    if q.kind is QuantityKind.percent:
        # a claimed risk may be stated as a percentage or as events over a group size
        same_found = [_Found(p.value, p.text, "stated") for p in same]
        same_found += [_Found(e / n * 100, t, f"from {t}") for e, n, t in _arm_pairs(text)]
        return _verdict(q, same_found, percent=True, what="percentage")
    if not same:
        return None
    return _verdict(q, [_Found(p.value, p.text, "stated") for p in same], percent=False, what=q.kind.value.replace("_", " "))


def _verdict(q: Quantity, candidates: list[_Found], *, percent: bool, what: str) -> NumericCheck | None:
    if not candidates:
        return None
    unit = q.unit if q.unit and q.unit != "%" else ("%" if percent else "")
    for c in candidates:
        if _close(q.value, c.value, percent=percent):
            return NumericCheck(verdict=NumericVerdict.match, claimed=q, found=_as_quantity(q, c),
                                recomputed_from=None if c.how == "stated" else c.how,
                                note=f"claimed {q.text}; the source gives {c.value:.3g}{unit} ({c.how})")
    best = min(candidates, key=lambda c: abs(c.value - q.value))
    return NumericCheck(verdict=NumericVerdict.mismatch, claimed=q, found=_as_quantity(q, best),
                        recomputed_from=None if best.how == "stated" else best.how,
                        note=f"claimed {what} {q.text}, but the source gives {best.value:.3g}{unit} ({best.how})")


def _as_quantity(claimed: Quantity, found: _Found) -> Quantity:
    return Quantity(kind=claimed.kind, value=round(found.value, 4), unit=claimed.unit, text=found.text)
