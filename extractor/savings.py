"""A submission's stated savings and all-in unit costs against its own cost figures.

Two checks, both precision-first (a false finding tells a supplier their bid is wrong), both silent on clinical papers:

- **Savings against the costs they come from.** "A net saving of £412,000 per year" in the text, where the bid's own
  cost table gives annual costs of £1,070,550 and £381,900 (a difference of £688,650). A stated saving is checked
  against every table row on the same basis (a year, or the same unit: per patient stay, per test) that gives two or
  more amounts in its currency: their differences, and any amount in a row or column labelled as a saving or
  difference. It is consistent when it equals one of them to the precision it is written in (£412,000 is £411,500 to
  £412,499; "around" and "up to" allow 10%), or one of them times a count the sentence adds ("across 120
  practices"). It is reported only when some row on its basis exists, none fits, and the sentence names no scale the
  table does not (a saving for "an ICB" from a table for "one practice" is another quantity).
- **An all-in unit cost against its listed parts.** "£3.85 per test including cartridge, controls and lease", where the
  bid lists the cartridge at £3.20 per test and controls at £1.90 per test: the parts named and priced per the same
  unit sum to £5.10, more than the whole. Only parts priced per that unit count (a lease by the year does not), and
  only a whole below the sum of its parts is reported (an all-in price may include parts not listed).

Each finding is a :class:`extractor.schema.TotalMismatch` (``kind`` "saving" or "unit_cost") with both figures, where
each was read, and the span of the stated figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.schema import Document, DocumentKind, Span, TotalMismatch

_MONEY = re.compile(
    r"(?P<cur>[£€$])\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s?(?P<scale>million|m|bn|billion|k)\b)?",
    re.IGNORECASE,
)
_SCALES = {"k": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_SAVING_BEFORE = re.compile(
    r"(?:\bsavings?|\bsaves?|\bsaved|\bnet benefit|\breduc\w*\s+(?:the\s+)?(?:annual\s+|yearly\s+|total\s+)?(?:costs?|spend|expenditure)(?:\s+\w+){0,3}\s+by)"
    r"(?:\s+\w+){0,4}?\s*(?:of\s+)?(?:up to|around|about|approximately|roughly|some|nearly|almost|over|more than)?\s*$",
    re.IGNORECASE,
)
_SAVING_AFTER = re.compile(r"^\s*(?:a year\s+|per year\s+|annually\s+|each year\s+)?(?:in\s+)?(?:net\s+)?(?:cash-releasing\s+)?savings?\b", re.IGNORECASE)
_LOOSE = re.compile(r"\b(?:up to|around|about|approximately|roughly|some|nearly|almost|over|more than|estimated|circa|c\.)\s*$", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:a|per|each|every)\s+year\b|\bannual(?:ly)?\b|\bper annum\b|\byearly\b|/\s?year\b|\bp\.?a\.?(?!\w)", re.IGNORECASE)
_PER = re.compile(r"\bper\s+(?P<unit>(?:[a-z-]+\s+){0,2}?[a-z-]+)\b", re.IGNORECASE)
_MULTI_YEAR = re.compile(r"\b\d+[- ]year|\bover\s+\w+\s+years|\byears?\s+\d|\bcontract\b|\blifetime\b|\bwhole[- ]life\b", re.IGNORECASE)
_SAVING_LABEL = re.compile(r"\b(?:net\s+)?savings?\b|\bdifference\b|\bnet (?:cost|benefit)\b", re.IGNORECASE)
_COUNT = re.compile(r"(?<![£€$\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\d.,]*\s?%)(?!\d)")
_WIDER = re.compile(
    r"\bacross\b|\bICBs?\b|\bintegrated care (?:board|system)s?\b|\bregion(?:al|s)?\b|\bnational(?:ly)?\b|\bEngland\b|"
    r"\bNHS-wide\b|\bsystem-wide\b|\bnetwork\b|\bevery trust\b|\ball (?:\w+ )?trusts\b|\bscaled?\b",
    re.IGNORECASE,
)
_MARKERS = re.compile(r"\[\s*\d+(?:\s*[,–-]\s*\d+)*\s*\]")
_ALL_IN = re.compile(r"\b(?:including|inclusive of|includes|covering|which covers|comprising|all-in|all in)\b", re.IGNORECASE)
_PACK = re.compile(r"\b(?:box|pack|case|carton|kit of|bag of|pack of|of \d+)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
_UNIT_STOP = frozenset({"the", "a", "an", "each", "one", "year", "annum", "month", "week", "day"})


@dataclass(frozen=True, slots=True)
class _Amount:
    value: float
    currency: str
    text: str
    start: int  # in the text it was found in
    end: int
    tolerance: float


def _amounts(text: str) -> list[_Amount]:
    out = []
    for m in _MONEY.finditer(text):
        number = m.group("num").replace(",", "")
        scale = _SCALES.get((m.group("scale") or "").lower(), 1.0)
        value = float(number) * scale
        if "." in number:
            step = 10 ** -len(number.split(".")[1]) * scale
        else:
            zeros = len(number) - len(number.rstrip("0")) if number.strip("0") else 0
            step = 10 ** zeros * scale
        out.append(_Amount(value, m.group("cur"), m.group(0), m.start(), m.end(), max(step / 2, 0.005)))
    return out


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _basis(text: str) -> str | None:
    """'year' for an annual figure, the unit's stem for one per unit ('per patient stay' -> 'patient stay'), None when
    the text says neither (or a multi-year total)."""
    units = []
    for m in _PER.finditer(text):
        words = [_stem(w) for w in _WORD.findall(m.group("unit").lower()) if w not in _UNIT_STOP]
        if words:
            units.append(" ".join(words))
    if _YEAR.search(text):
        return f"{units[0]} per year" if units else "year"  # "cost per bed per year" is no annual total
    if _MULTI_YEAR.search(text):
        return None
    return units[0] if units else None


def _counts(text: str) -> set[int]:
    """Counts a sentence or label names (45,000 patient stays; 120 practices), not years, money or percentages."""
    out = set()
    text = _MARKERS.sub(" ", text)
    for m in _COUNT.finditer(text):
        n = int(m.group(1).replace(",", ""))
        if n >= 2 and not 1990 <= n <= 2100:
            out.add(n)
    return out


@dataclass(frozen=True, slots=True)
class _Candidate:
    value: float
    currency: str
    basis: str
    counts: frozenset[int]
    how: str
    table: int
    page: int


def _table_candidates(doc: Document) -> list[_Candidate]:
    """Every figure a stated saving may come from: differences of the amounts in one table row, and amounts in rows or
    columns labelled as savings or differences, each with the row's basis and counts."""
    out: list[_Candidate] = []
    for number, table in enumerate(doc.tables, start=1):
        header = next((r.cells for r in table.rows if r.is_header), table.header)
        saving_cols = {k for k, h in enumerate(header) if _SAVING_LABEL.search(h)}
        table_basis = _basis(header[0]) if header else None
        for row in table.rows:
            if row.is_header or not row.cells:
                continue
            label = row.cells[0]
            basis = _basis(label) or table_basis
            if basis is None or re.search(r"\byear\s*\d", " ".join(header), re.IGNORECASE):
                continue  # a cost profile by year (Year 1 ... Year 7) is no annual comparison
            cells = [(k, a) for k, cell in enumerate(row.cells[1:], start=1) for a in _amounts(cell)[:1]
                     if a.text.strip() == cell.strip().lstrip("(−–-").rstrip(")").strip() or cell.strip().startswith(a.text)]
            counts = frozenset(_counts(label) | (_counts(header[0]) if header else set()))
            for currency in {a.currency for _, a in cells}:
                same = [(k, a) for k, a in cells if a.currency == currency]
                where = f"Table {number} (p. {table.page}), row \u201c{label[:60]}\u201d"
                for i, (ki, a) in enumerate(same):
                    if ki in saving_cols or _SAVING_LABEL.search(label):
                        out.append(_Candidate(a.value, currency, basis, counts, f"{where}: {a.text}", number, table.page))
                    for kj, b in same[i + 1:]:
                        if ki in saving_cols or kj in saving_cols:
                            continue
                        out.append(_Candidate(abs(a.value - b.value), currency, basis, counts,
                                              f"{where}: {a.text} and {b.text}, a difference of {_shown(abs(a.value - b.value), currency)}",
                                              number, table.page))
    return out


def _shown(value: float, currency: str) -> str:
    return f"{currency}{value:,.2f}".replace(".00", "") if value % 1 else f"{currency}{value:,.0f}"


def _sentences(doc: Document):
    for s in doc.sentences:
        section = (s.section or "").lower()
        if s.in_table or section.startswith("references"):
            continue
        yield s


def saving_checks(doc: Document) -> list[TotalMismatch]:
    """Stated savings that no cost figure of the submission's own tables, on the same basis, gives (module docstring)."""
    if doc.kind is DocumentKind.clinical_paper or not doc.tables:
        return []
    candidates = _table_candidates(doc)
    if not candidates:
        return []
    found: list[TotalMismatch] = []
    for s in _sentences(doc):
        for amount in _amounts(s.text):
            before, after = s.text[: amount.start], s.text[amount.end:]
            if not (_SAVING_BEFORE.search(before[-90:]) or _SAVING_AFTER.match(after)):
                continue
            basis = _basis(after[:60]) or _basis(s.text)
            if basis is None:
                continue
            pool = [c for c in candidates if c.basis == basis and c.currency == amount.currency]
            if not pool:
                continue
            counts = _counts(s.text)
            tolerance = amount.value * 0.10 if _LOOSE.search(before[-40:]) else amount.tolerance + 1.0
            fits = [c for c in pool if abs(c.value - amount.value) <= tolerance
                    or any(k not in c.counts and abs(c.value * k - amount.value) <= tolerance + k for k in counts)]
            if fits:
                continue
            if not all(counts <= c.counts for c in pool) or _WIDER.search(s.text):
                continue  # the sentence names a scale (an ICB, 120 practices) its table does not: another quantity
            best = min(pool, key=lambda c: abs(c.value - amount.value))
            if not best.value / 3 <= amount.value <= best.value * 3:
                continue  # a saving of another order than every figure on its basis is another quantity, not a slip
            start = s.span.start + amount.start
            found.append(TotalMismatch(
                kind="saving", label=" ".join(s.text.split())[:120], location=f"p. {s.page}", page=s.page,
                span=Span(start=start, end=start + len(amount.text)), stated=amount.value, computed=round(best.value, 2),
                parts=[best.how],
                note=f"the saving of {amount.text} stated on p. {s.page} (\u201c{_excerpt(s.text)}\u201d) is not what the bid's own "
                     f"cost figures give: {best.how}",
            ))
    return found


def _excerpt(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _parts(clause: str) -> list[str]:
    """The parts an all-in price names: 'cartridge, controls and lease' -> the stems of each part's words."""
    clause = re.split(r"[.;:()]|\bbut\b|\bwhich\b|\bcompared\b|\bagainst\b|\bversus\b", clause, maxsplit=1)[0]
    items = re.split(r",|\band\b|\bplus\b|&", clause)
    out = []
    for item in items:
        words = [_stem(w) for w in _WORD.findall(item.lower()) if len(w) > 2 and w not in {"the", "all", "its", "our", "any"}]
        if words:
            out.append(words[-1])  # the head noun of "quality controls" is its last word
    return out


def _priced_parts(doc: Document, unit: str, skip: Span) -> dict[str, tuple[float, str, str]]:
    """Parts priced per ``unit`` anywhere in the bid: part stem -> (price, currency, where)."""
    unit_words = set(unit.split())
    priced: dict[str, tuple[float, str, str]] = {}

    def take(label: str, amount: _Amount, where: str) -> None:
        for w in _WORD.findall(label.lower()):
            priced.setdefault(_stem(w), (amount.value, amount.currency, where))

    for number, table in enumerate(doc.tables, start=1):
        for row in table.rows:
            if row.is_header or not row.cells or (row.span.start < skip.end and skip.start < row.span.end):
                continue
            label = row.cells[0]
            if _PACK.search(label):
                continue
            where = f"Table {number} (p. {table.page}), row \u201c{label[:60]}\u201d"
            for a in _amounts(label):  # "Test cartridges at £4.20 per test"
                if _basis(label[a.end:a.end + 40]) == unit:
                    take(label[: a.start], a, where)
            cells = [a for cell in row.cells[1:2] for a in _amounts(cell)[:1]]
            stems = {_stem(w) for w in _WORD.findall(label.lower())}
            if cells and (_basis(label) == unit or (unit_words <= stems and _basis(label) is None)):
                take(label, cells[0], where)  # "Test cartridge | £3.20": one cartridge a test
    for s in _sentences(doc):
        if s.span.start < skip.end and skip.start < s.span.end:
            continue
        for a in _amounts(s.text):
            if _basis(s.text[a.end:a.end + 30]) == unit and not _ALL_IN.search(s.text):
                take(s.text[max(0, a.start - 60): a.start], a, f"p. {s.page}, \u201c{_excerpt(s.text, 80)}\u201d")
    return priced


def unit_cost_checks(doc: Document) -> list[TotalMismatch]:
    """All-in unit costs below the sum of the parts they name, priced per the same unit in the bid (module docstring)."""
    if doc.kind is DocumentKind.clinical_paper:
        return []
    found: list[TotalMismatch] = []
    for s in _sentences(doc):
        for amount in _amounts(s.text):
            after = s.text[amount.end:]
            unit = _basis(after[:40])
            if unit is None or unit == "year":
                continue
            inc = _ALL_IN.search(after[:80])
            if inc is not None:
                clause = after[inc.end():]  # "£3.85 per test including cartridge, controls and lease"
            else:
                before = s.text[max(0, amount.start - 80): amount.start]
                inc = _ALL_IN.search(before)
                if inc is None:
                    continue
                clause = before[inc.end():]  # "Including cartridge and controls, a test costs £3.85 per test"
            parts = _parts(clause)
            if not parts:
                continue
            priced = _priced_parts(doc, unit, s.span)
            have = [(p, priced[p]) for p in dict.fromkeys(parts) if p in priced and priced[p][1] == amount.currency]
            if not have:
                continue
            total = sum(v for _, (v, _, _) in have)
            if total <= amount.value + amount.tolerance + 0.005:
                continue
            start = s.span.start + amount.start
            listed = "; ".join(f"{p} {_shown(v, c)} ({where})" for p, (v, c, where) in have)
            found.append(TotalMismatch(
                kind="unit_cost", label=" ".join(s.text.split())[:120], location=f"p. {s.page}", page=s.page,
                span=Span(start=start, end=start + len(amount.text)), stated=amount.value, computed=round(total, 2),
                parts=[where for _, (_, _, where) in have],
                note=f"the all-in {amount.text} per {unit} on p. {s.page} is less than the parts it includes, as the bid prices "
                     f"them per {unit}: {listed}, together {_shown(total, amount.currency)}",
            ))
    return found
