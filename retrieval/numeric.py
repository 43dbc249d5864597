"""Numeric check: a claim's numbers against a source passage's, recomputing effects where it can.

A supplier writes "reduces surgical site infection by 45%"; the cited trial reports 12/200 vs
22/200. The risk ratio is 0.545, a 45.5% relative reduction: a match. Had the trial reported
14/200 vs 20/200 (30%), the check says ``mismatch`` and shows both numbers. When the passage
holds nothing comparable, the verdict is ``not_comparable``; the check never guesses.

Precision first: a false mismatch accuses a supplier. A number counts against a claim only when it is
attributable: a stated effect or ratio that is not a bound ("at least 4 times", "up to 50%"), an effect
recomputed from the passage's only two arm counts, or, for a claim that gives both arms' percentages, the
passage's pair whose other arm matches the claim's (the matching arm anchors the pair). A lone percentage
near the claim's is no evidence that the claim's is wrong (it may be another outcome's), and two adjacent
percentages may not be the two arms: both can confirm a claim, neither can contradict it. A claim is a
``match`` only when every number it states is found.
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


_BOUND = re.compile(r"\b(?:at least|at most|more than|less than|fewer than|greater than|up to|over|under|nearly|almost|as much as)\b",
                    re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Found:
    value: float
    text: str
    how: str
    strong: bool = True  # attributable enough to count against a claim, not only for it


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


def relative_reductions(text: str, quantities: list[Quantity], *, increase: bool = False) -> list[_Found]:
    """Relative changes a passage supports: stated ones, and ones recomputed from its numbers.

    From a risk ratio ``r`` the relative change is ``|1 - r|``; from two risks ``a`` and ``b`` it is
    ``1 - min/max`` (a reduction), or ``max/min - 1`` for a claimed ``increase`` ("raised response by 14%":
    78% against 69%); from two event counts over their group sizes likewise.
    """

    def change(lo: float, hi: float) -> float:
        return (hi / lo - 1) * 100 if increase else (1 - lo / hi) * 100

    found: list[_Found] = []
    for q in quantities:
        if q.kind is QuantityKind.relative_change and q.unit == "%":
            found.append(_Found(q.value, q.text, "stated", strong=not _BOUND.search(q.text)))
        if q.kind is QuantityKind.ratio and q.value > 0:
            found.append(_Found(abs(1 - q.value) * 100, q.text, f"from the ratio {q.text}", strong=not _BOUND.search(q.text)))
    percents = [q for q in quantities if q.kind is QuantityKind.percent and q.value > 0]
    for a, b in zip(percents, percents[1:]):
        lo, hi = sorted((a.value, b.value))
        if (lo > 0 if increase else hi > 0) and lo != hi:
            found.append(_Found(change(lo, hi), f"{a.text} vs {b.text}", f"from {a.text} vs {b.text}", strong=False))
    pairs = _arm_pairs(text)
    for (e1, n1, t1), (e2, n2, t2) in zip(pairs, pairs[1:]):
        r1, r2 = e1 / n1, e2 / n2
        lo, hi = sorted((r1, r2))
        if (lo > 0 if increase else hi > 0) and lo != hi:
            ratio = hi / lo if increase else lo / hi
            found.append(_Found(change(lo, hi), f"{t1} vs {t2}", f"from {t1} vs {t2} (risk ratio {ratio:.3f})", strong=len(pairs) == 2))
    return found


def check_numbers(claim: Claim, passage_text: str, passage_quantities: list[Quantity] | None = None) -> NumericCheck:
    """Compare the claim's quantities with what a passage states or implies.

    Args:
        claim: The claim, with its quantities.
        passage_text: The source passage.
        passage_quantities: Its quantities, if already extracted (else they are extracted here).

    Returns:
        ``mismatch`` when an attributable number of the passage differs from one the claim states (both
        are reported); else ``match`` when every number the claim states is found or recomputed within
        tolerance; ``not_comparable`` otherwise (the note says which numbers were found).
    """
    if passage_quantities is None:
        from extractor.quantities import extract_quantities

        passage_quantities = extract_quantities(passage_text)
    claimed = [q for q in claim.quantities if q.kind not in (QuantityKind.sample_size, QuantityKind.duration, QuantityKind.p_value)]
    if not claimed:
        return _check_measures(claim.quote, passage_text)
    results = [(q, _check_one(q, passage_text, passage_quantities, direction=claim.direction.value)) for q in claimed]
    used: set[str] = set()
    for k, (q, r) in enumerate(results):  # two claimed numbers cannot both be one number of the source
        if r is not None and r.verdict is NumericVerdict.match and r.found is not None:
            if r.found.text in used:
                results[k] = (q, None)
            used.add(r.found.text)
    matches = [r for _, r in results if r is not None and r.verdict is NumericVerdict.match]
    unmatched = [q for q, r in results if r is None or r.verdict is not NumericVerdict.match]
    percents = [q for q in claimed if q.kind is QuantityKind.percent]
    if unmatched and len(percents) == 2:
        anchored = _anchored_pair(percents, passage_text, passage_quantities)
        if anchored is not None and anchored.verdict is NumericVerdict.mismatch:
            return anchored
    for _, r in results:
        if r is not None and r.verdict is NumericVerdict.mismatch:
            return r
    if matches and not unmatched:
        return matches[0] if len(matches) == 1 else matches[0].model_copy(
            update={"note": "every number the claim gives is in the source: " + "; ".join(m.note for m in matches)})
    if matches:
        return NumericCheck(verdict=NumericVerdict.not_comparable,
                            note=f"{', '.join(m.claimed.text for m in matches)} found in the source, but not "
                                 f"{', '.join(q.text for q in unmatched)}: not every number could be checked")
    return NumericCheck(verdict=NumericVerdict.not_comparable, note="the passage gives no attributable number of the same kind")


def _arm_percents(text: str, quantities: list[Quantity]) -> list[_Found]:
    """The passage's per-arm percentages in reading order: stated ones and events over group sizes, an arm written
    both ways ("72/112 (64.3%)") counted once."""
    found = [(q_pos, _Found(q.value, q.text, "stated")) for q in quantities if q.kind is QuantityKind.percent
             for q_pos in [text.find(q.text)] if q_pos >= 0]
    found += [(m.start(), _Found(int(m.group(1)) / int(m.group(2)) * 100, m.group(0), f"from {m.group(0)}"))
              for m in _PAIR.finditer(text) if 0 < int(m.group(2)) and int(m.group(1)) <= int(m.group(2))]
    arms: list[tuple[int, _Found]] = []
    for pos, f in sorted(found, key=lambda t: t[0]):
        if arms and pos - arms[-1][0] < 30 and abs(f.value - arms[-1][1].value) < 0.15:
            continue  # the same arm's count and its percentage
        arms.append((pos, f))
    return [f for _, f in arms]


def _anchored_pair(claimed: list[Quantity], text: str, quantities: list[Quantity]) -> NumericCheck | None:
    """A claim's two arm percentages, one of them not found, against the passage's: an adjacent pair of arm
    percentages whose one arm matches the claim's, a value the passage gives nowhere else, anchors the other arm,
    and the claim's other percentage is checked against it. None when no such pair."""
    arms = _arm_percents(text, quantities)
    for x, y in zip(arms, arms[1:]):
        orders = (((claimed[0], claimed[1]), (x, y)), ((claimed[1], claimed[0]), (y, x)),  # the claim's order first,
                  ((claimed[0], claimed[1]), (y, x)), ((claimed[1], claimed[0]), (x, y)))  # then the arms named the other way
        for (a, b), (fa, fb) in orders:
            if _close(a.value, fa.value, percent=True) and sum(_close(a.value, f.value, percent=True) for f in arms) == 1:
                second = _verdict(b, [fb], percent=True, what="percentage")
                if second is None:  # a near miss of the other arm: neither a match nor a mismatch
                    return None
                return second.model_copy(update={"note": second.note + f", the other arm of the pair whose {a.text} matches"})
    return None


_MEASURE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:(?:±|\+/-)\s*\d+(?:\.\d+)?\s*)?"
    r"(mm²|mm2|mm|cm|ml|mL|mg/dL|mmol/L|mg|kg|g|seconds|secs?|minutes|mins?|hours|hrs?|days|weeks|°C)(?![\w²])"
)


_SHARED_UNIT = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:(?:±|\+/-)\s*\d+(?:\.\d+)?\s*)?(?:vs\.?|versus|and|to|,)\s*(?=\d+(?:\.\d+)?\s*"
    r"(?:(?:±|\+/-)\s*\d+(?:\.\d+)?\s*)?(mm²|mm2|mm|cm|ml|mL|mg/dL|mmol/L|mg|kg|g|seconds|secs?|minutes|mins?|hours|hrs?|days|weeks|°C)(?![\w²]))"
)


def _measures(text: str) -> list[tuple[float, str, str]]:
    """Measurements with a physical unit ("0.11±0.25 mm", "6.95 mm²", "38 minutes"), the first of a pair that shares
    its unit included ("6.95±1.98 vs. 7.29±2.34 mm2" gives both): (value, unit, text)."""
    found = [(float(m.group(1)), _unit_name(m.group(2)), m.group(0).strip()) for m in _MEASURE.finditer(text)]
    found += [(float(m.group(1)), _unit_name(m.group(2)), m.group(1)) for m in _SHARED_UNIT.finditer(text)]
    return found


def _unit_name(unit: str) -> str:
    return unit.replace("mm2", "mm²").lower()


_ARM_MEANS = re.compile(r"\b(?:was|were|of|averaged)\s+(\d+(?:\.\d+)?)\s+(?:with|in|for|among)\b.{1,200}?"
                        r"\b(?:versus|vs\.?|compared with|against|and)\s+(\d+(?:\.\d+)?)\s+(?:with|in|for|among)\b")


def _check_arm_means(quote: str, passage_text: str) -> NumericCheck:
    """Two arms' values with no unit ("was 13.6 with A versus 14.71 with B"): a match when both appear in the
    passage as written; never a mismatch (a unitless number may be anything)."""
    m = _ARM_MEANS.search(quote)
    if not m:
        return NumericCheck(verdict=NumericVerdict.not_comparable, note="the claim states no number to check")
    values = [m.group(1), m.group(2)]
    if all(re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", passage_text) for v in values):
        return NumericCheck(verdict=NumericVerdict.match, note=f"both arms' values the claim gives ({values[0]} and {values[1]}) "
                            "appear in the source")
    return NumericCheck(verdict=NumericVerdict.not_comparable, note="the passage does not give the claim's two values")


def _check_measures(quote: str, passage_text: str) -> NumericCheck:
    """For a claim whose numbers are plain measurements: a match when every one of them appears in the passage
    with the same unit; never a mismatch (a passage's other measurements may be of something else)."""
    claimed = _measures(quote)
    if not claimed:
        return _check_arm_means(quote, passage_text)
    found = _measures(passage_text)
    def same(v: float, vt: str, fv: float, ft: str) -> bool:  # to the precision both are written in (7.29 is not 7.47)
        return abs(v - fv) <= 0.5 * 10 ** -_decimals(vt, v) + 0.5 * 10 ** -_decimals(ft, fv) + 1e-9

    if all(any(u == fu and same(v, t, fv, ft) for fv, fu, ft in found) for v, u, t in claimed):
        said = ", ".join(t for _, _, t in claimed)
        return NumericCheck(verdict=NumericVerdict.match, note=f"every measurement the claim gives ({said}) appears in the source")
    return NumericCheck(verdict=NumericVerdict.not_comparable, note="the passage does not give the claim's measurements")


def _check_one(q: Quantity, text: str, quantities: list[Quantity], *, direction: str = "unspecified") -> NumericCheck | None:
    if q.kind is QuantityKind.relative_change and q.unit == "%":
        candidates = relative_reductions(text, quantities, increase=direction == "increase")
        if direction not in ("increase", "decrease"):  # which way is unknown: either reading may confirm the claim
            candidates += [c for c in relative_reductions(text, quantities, increase=True) if c.how != "stated"]
        return _verdict(q, candidates, percent=True, what="relative change")
    same = [p for p in quantities if p.kind is q.kind and p.unit == q.unit]
    if q.kind is QuantityKind.percent:
        # a claimed risk may be stated as a percentage or as events over a group size; alone, neither is attributable
        same_found = [_Found(p.value, p.text, "stated", strong=False) for p in same]
        same_found += [_Found(e / n * 100, t, f"from {t}", strong=False) for e, n, t in _arm_pairs(text)]
        return _verdict(q, same_found, percent=True, what="percentage")
    if not same:
        return None
    return _verdict(q, [_Found(p.value, p.text, "stated") for p in same], percent=False, what=q.kind.value.replace("_", " "))


def _verdict(q: Quantity, candidates: list[_Found], *, percent: bool, what: str) -> NumericCheck | None:
    """``match`` when a candidate is the claimed figure (a stated percentage to the precision both are written in, so
    7.7% is not 7.9%; other figures within the tolerances); ``mismatch`` only from an attributable candidate that is
    not even close; None for a near miss or when nothing can contradict the claim."""
    if not candidates:
        return None
    unit = q.unit if q.unit and q.unit != "%" else ("%" if percent else "")
    for c in candidates:
        if _same_figure(q, c) if q.kind is QuantityKind.percent else _close(q.value, c.value, percent=percent):
            return NumericCheck(verdict=NumericVerdict.match, claimed=q, found=_as_quantity(q, c),
                                recomputed_from=None if c.how == "stated" else c.how,
                                note=f"claimed {q.text}; the source gives {c.value:.3g}{unit} ({c.how})")
    strong = [c for c in candidates if c.strong]
    if not strong or any(_close(q.value, c.value, percent=percent) for c in candidates):
        return None  # only numbers that could confirm the claim, or one near it: none that can contradict it
    best = min(strong, key=lambda c: abs(c.value - q.value))
    return NumericCheck(verdict=NumericVerdict.mismatch, claimed=q, found=_as_quantity(q, best),
                        recomputed_from=None if best.how == "stated" else best.how,
                        note=f"claimed {what} {q.text}, but the source gives {best.value:.3g}{unit} ({best.how})")


def _same_figure(q: Quantity, found: _Found) -> bool:
    """A claimed percentage and a source's, to the precision both are written in (events over a group size are exact)."""
    derived = found.how != "stated"
    return _same(q, _ArmValue(found.value, found.text, None if derived else _decimals(found.text, found.value)))


def _as_quantity(claimed: Quantity, found: _Found) -> Quantity:
    return Quantity(kind=claimed.kind, value=round(found.value, 4), unit=claimed.unit, text=found.text)


# ------------------------------------------------------------------------------------------------ the outcome's own row

_WORDS = re.compile(r"[a-z][a-z-]*")
_GENERIC = frozenset(
    "a an the of in on at for with to and or by from after before during within over per vs versus than rate rates risk risks "
    "incidence proportion percentage percent number numbers patients patient participants people group groups arm arms total "
    "overall any all mean median binary event events outcome outcomes months month days day weeks week years year hours "
    "follow-up follow up was were is are".split()
)
_RESULT_SECTIONS = ("results", "abstract")
_NO_SECTIONS = ("references", "introduction", "background", "methods")
_STATED_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s?%(?!\s*(?:CI|confidence|of the))", re.IGNORECASE)
_COUNT_PERCENT = re.compile(r"(?<![\d.])(\d{1,6})\s*\(\s*(\d{1,3}(?:\.\d+)?)\s?(%)?\s*\)")
_GROUP_SIZE = re.compile(r"\(\s*n\s*=\s*(\d{1,6})\s*\)|\bn\s*=\s*(\d{1,6})\b", re.IGNORECASE)
_DURATION = re.compile(r"\b(\d{1,3})\s*(?:-\s*)?(days?|weeks?|months?|years?)\b", re.IGNORECASE)


def _stem(word: str) -> str:
    return word[:6]


def outcome_core(outcome: str) -> set[str]:
    """The words that name an outcome, cut to their stems ("binary restenosis at 9 months" -> {"resten"}): what a
    sentence or table row must mention before its numbers are taken as that outcome's."""
    return {_stem(w) for w in _WORDS.findall(outcome.lower()) if w not in _GENERIC and len(w) > 2}


_SUBJECT = re.compile(r"^\s*(?:the\s+)?(?P<np>[A-Za-z][\w\s-]{2,80}?)\s+(?:was|were|is|are|occurred|fell|rose)\b", re.IGNORECASE)


def _subject(quote: str, intervention: str) -> str:
    """The outcome a claim names as its subject when no outcome was extracted ("Binary restenosis at 9 months was
    2.6% with A ..." -> "Binary restenosis at 9 months"); "" when the subject is the product itself."""
    m = _SUBJECT.match(quote)
    if m is None:
        return ""
    own = {_stem(w) for w in _WORDS.findall(intervention.lower()) if w not in _GENERIC and len(w) > 2}
    subject = m.group("np")
    return "" if own & outcome_core(subject) else subject


def _mentions(text: str, core: set[str]) -> bool:
    stems = {_stem(w) for w in _WORDS.findall(text.lower())}
    return bool(core) and core <= stems


def _decimals(text: str, value: float) -> int:
    """Decimals of the number written for ``value`` in ``text`` (0 when it cannot be told)."""
    for m in re.finditer(r"\d+(?:\.(\d+))?", text):
        if abs(float(m.group(0)) - value) < 1e-9:
            return len(m.group(1) or "")
    return 0


@dataclass(frozen=True, slots=True)
class _ArmValue:
    value: float
    text: str
    decimals: int | None  # None: derived (events over a group size), exact


def _row_percents(text: str, sizes: set[int], *, in_table: bool) -> list[_ArmValue]:
    """The arm percentages a sentence or table row gives, in reading order: "12 (10%)", "10%", "12/120"; in a table, a
    bare "1 (2.6)" too, but only when 1/2.6% is one of the trial's stated group sizes (n = 38)."""
    found: list[tuple[int, _ArmValue]] = []
    taken: list[tuple[int, int]] = []
    for m in _COUNT_PERCENT.finditer(text):
        count, pct = int(m.group(1)), float(m.group(2))
        if pct <= 0 or pct > 100 or count == 0 and pct > 0:
            continue
        if not m.group(3):
            if not in_table:
                continue
            dec = len(m.group(2).split(".")[1]) if "." in m.group(2) else 0
            half = 0.5 * 10 ** -dec
            lo, hi = 100 * count / (pct + half), 100 * count / max(pct - half, 1e-9)
            if not any(lo <= n <= hi and n >= count for n in sizes):
                continue  # "(2.6)" may be an SD or a range
        found.append((m.start(), _ArmValue(pct, m.group(0), _decimals(m.group(2), pct))))
        taken.append((m.start(), m.end()))
    for m in _STATED_PERCENT.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        found.append((m.start(), _ArmValue(float(m.group(1)), m.group(0), _decimals(m.group(1), float(m.group(1))))))
    for m in _PAIR.finditer(text):
        events, total = int(m.group(1)), int(m.group(2))
        if 0 <= events <= total and total > 0 and not any(a <= m.start() < b for a, b in taken):
            found.append((m.start(), _ArmValue(100 * events / total, m.group(0), None)))
    out: list[tuple[int, _ArmValue]] = []
    for pos, v in sorted(found, key=lambda t: t[0]):
        if out and pos - out[-1][0] < 30 and abs(v.value - out[-1][1].value) < 0.15:
            continue  # one arm written twice ("12/120 (10%)")
        out.append((pos, v))
    return [v for _, v in out]


def _same(claimed: Quantity, found: _ArmValue) -> bool:
    """The same figure, to the precision both are written in ("7.7%" is not "7.9%"; "45%" is "45.4%")."""
    tol = 0.5 * 10 ** -_decimals(claimed.text, claimed.value) + (0.0 if found.decimals is None else 0.5 * 10 ** -found.decimals)
    return abs(claimed.value - found.value) <= tol + 1e-9


@dataclass(frozen=True, slots=True)
class RowCheck:
    """The claim's two arm percentages against the cited trial's own sentence or table row for the claim's outcome."""

    check: NumericCheck
    page: int
    span_start: int
    span_end: int
    text: str


def outcome_row_check(claim: Claim, doc) -> RowCheck | None:
    """A claim that gives both arms' percentages for an outcome ("restenosis was 2.6% with A and 7.7% with B"), checked
    against the cited trial's Results sentences and table rows that name the same outcome and give two arm values.

    ``match``: a row gives both claimed values (to the precision written). ``mismatch``: no row does, and every row that
    gives one of the claimed values once gives for the other arm a figure more than ``ABSOLUTE_TOLERANCE`` points away
    from the claim's (the matching arm anchors the row, so the other figure is the other arm's). Rows at another
    timepoint than the claim's are left aside. None when no row names the outcome with two arm values, or the rows
    disagree: what cannot be told is never reported.
    """
    percents = [q for q in claim.quantities if q.kind is QuantityKind.percent]
    outcome = claim.outcome or _subject(claim.quote, claim.intervention or "")
    core = outcome_core(outcome)
    if len(percents) != 2 or not core or abs(percents[0].value - percents[1].value) <= ABSOLUTE_TOLERANCE:
        return None
    sizes = {int(a or b) for m in _GROUP_SIZE.finditer(doc.text) for a, b in [m.groups()]}
    claimed_times = {(int(n), u.lower().rstrip("s")) for n, u in _DURATION.findall(claim.quote)}
    matches, mismatches = [], []
    for s in doc.sentences:
        section = (s.section or "").lower()
        if any(section.startswith(x) for x in _NO_SECTIONS) or not (s.in_table or section.startswith(_RESULT_SECTIONS)):
            continue
        if not _mentions(s.text, core):
            continue
        times = {(int(n), u.lower().rstrip("s")) for n, u in _DURATION.findall(s.text)}
        if claimed_times and times and not claimed_times & times:
            continue  # another timepoint's figures
        arms = _row_percents(s.text, sizes, in_table=s.in_table)
        if len(arms) != 2:
            continue
        where = f"p. {s.page}, {'table row' if s.in_table else 'sentence'} \u201c{' '.join(s.text.split())[:160]}\u201d"
        if any(_same(a, arms[0]) and _same(b, arms[1]) for a, b in ((percents[0], percents[1]), (percents[1], percents[0]))):
            matches.append((s, NumericCheck(
                verdict=NumericVerdict.match, claimed=percents[0], found=Quantity(kind=QuantityKind.percent, value=arms[0].value, unit="%", text=arms[0].text),
                note=f"both arms' figures the claim gives ({percents[0].text}, {percents[1].text}) are the cited trial's for {outcome} ({where})")))
            continue
        for a, b in ((percents[0], percents[1]), (percents[1], percents[0])):
            anchored = [k for k in (0, 1) if _same(a, arms[k])]
            if len(anchored) != 1:
                continue
            other = arms[1 - anchored[0]]
            if abs(other.value - b.value) > ABSOLUTE_TOLERANCE:
                mismatches.append((s, NumericCheck(
                    verdict=NumericVerdict.mismatch, claimed=b, found=Quantity(kind=QuantityKind.percent, value=round(other.value, 4), unit="%",
                                                                            text=other.text),
                    note=f"claimed {b.text}, but the cited trial gives {other.text} for the other arm of {outcome}, whose "
                         f"{a.text} matches ({where})")))
            break
    if matches:
        s, check = matches[0]
    elif mismatches and len({round(c.found.value, 3) for _, c in mismatches}) == 1:
        s, check = mismatches[0]
        if len(mismatches) > 1:
            check = check.model_copy(update={"note": check.note + f"; {len(mismatches)} rows of the trial agree"})
    else:
        return None
    return RowCheck(check=check, page=s.page, span_start=s.span.start, span_end=s.span.end, text=s.text)
