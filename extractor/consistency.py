"""A submission's own arithmetic: totals in its tables that do not equal the sum of the rows they total, and
percentages that are not their count over its denominator ("12 of 200 (7%)").

Workbooks are checked cell by cell when they are read (``extractor.parsing.excel``), where each formula names its
range. A PDF, Word or Markdown table names nothing, so the check here is precision-first and for money only (means and
rates do not add up): a row labelled as a total is
consistent when its value equals the sum of *some* run of the amounts directly above it (a table may list unit prices
before the rows that add up; rows in another unit, such as counts, are not parts), and it is reported only when no
such run does and every figure above it in that column could be read. What cannot be told is never reported.
"""

from __future__ import annotations

import re

from extractor.schema import Document, DocumentKind, Span, Table, TotalMismatch

_TOTAL = re.compile(r"^\s*(?:sub-?\s?)?totals?\b|\btotal\s+(?:annual\s+)?(?:cost|costs|spend|saving|savings)\b", re.IGNORECASE)
_VALUE = re.compile(r"^\s*(?P<neg>[(−–-])?\s*(?P<cur>[£€$])?\s*(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?P<dec>\.\d+)?\s*(?P<suffix>%|[kKmM]\b)?\s*\)?\s*$")


def _value(cell: str) -> tuple[float, str, int] | None:
    """A cell holding one amount: (value, currency or unit, decimals); None for anything else."""
    m = _VALUE.match(cell)
    if m is None or m.group("suffix") in ("%",):
        return None
    value = float(m.group("num").replace(",", "") + (m.group("dec") or ""))
    scale = {"k": 1e3, "m": 1e6}.get((m.group("suffix") or "").lower(), 1)
    sign = -1 if m.group("neg") else 1
    return sign * value * scale, (m.group("cur") or "") + (m.group("suffix") or "").lower(), len(m.group("dec") or "") - 1 if m.group("dec") else 0


def table_totals(doc: Document) -> list[TotalMismatch]:
    """Money totals in the tables of a supplier's document that no run of the rows above them adds up to."""
    found: list[TotalMismatch] = []
    if doc.kind is DocumentKind.clinical_paper:  # a paper's tables are the evidence, not the offer
        return found
    for number, table in enumerate(doc.tables, start=1):
        found.extend(_table(doc, table, number))
    return found


def _table(doc: Document, table: Table, number: int) -> list[TotalMismatch]:
    rows = [r for r in table.rows if not r.is_header]
    out: list[TotalMismatch] = []
    for i, row in enumerate(rows):
        if not row.cells or not _TOTAL.search(row.cells[0]):
            continue
        for col in range(1, len(row.cells)):
            total = _value(row.cells[col])
            if total is None or total[1][:1] not in ("£", "€", "$"):
                continue  # only money adds up: a total of means, rates or p-values is no sum
            above, unreadable = [], False
            for prev in reversed(rows[:i]):
                if prev.cells and _TOTAL.search(prev.cells[0]) and above:
                    break  # the previous total closes this block
                cell = prev.cells[col] if col < len(prev.cells) else ""
                v = _value(cell)
                if v is None or v[1] != total[1]:
                    # a count between the amounts ("Nurse visits per episode | 2") is not a part; an amount written some
                    # other way ("£1,200 (est.)") might be, and then nothing is reported
                    unreadable = unreadable or (v is None and bool(re.search(r"\d", cell)))
                    continue
                above.append(v)
            if unreadable:
                continue
            if len(above) < 2:
                continue
            tolerance = max(0.5 * 10 ** -max([total[2], *(a[2] for a in above)]) * (len(above) + 1), 1e-9)
            sums, running = [], 0.0
            for a in above:
                running += a[0]
                sums.append(running)
            if any(abs(s - total[0]) <= tolerance for s in sums):
                continue
            text = row.cells[col]
            start = doc.text.find(text, row.span.start, row.span.end)
            if start < 0:
                continue
            parts = len(above)
            computed = sums[-1]
            shown = _shown(computed, total[1], total[2])
            where = f"Table {number}, row '{row.cells[0][:60]}', column {col + 1}"
            out.append(TotalMismatch(
                label=row.cells[0][:120], location=where, span=Span(start=start, end=start + len(text)), page=table.page,
                stated=total[0], computed=computed, parts=[f"{parts} rows above"],
                note=f"{row.cells[0][:80]} (p. {table.page}) states {text.strip()}, but the {parts} rows above it sum to {shown}",
            ))
    return out


def _shown(value: float, unit: str, decimals: int) -> str:
    currency = unit[:1] if unit[:1] in "£€$" else ""
    suffix = unit[1:] if currency else unit
    scale = {"k": 1e3, "m": 1e6}.get(suffix, 1)
    number = f"{abs(value) / scale:,.{decimals}f}"
    return ("-" if value < 0 else "") + currency + number + suffix


# "12 of 200 (6%)", "12/200 (6.0%)", "12 of 200 patients (6%)": a count, its denominator and the percentage given for them
_PERCENT_OF = re.compile(
    r"(?<![\d.,])(?P<n>\d{1,3}(?:,\d{3})+|\d+)\s*(?:/|of|out of)\s*(?P<d>\d{1,3}(?:,\d{3})+|\d+)"
    r"(?:\s+[a-z][a-z-]*){0,2}\s*\(\s*(?P<p>\d{1,3}(?:\.\d+)?)\s?%"
)


def percent_checks(doc: Document) -> list[TotalMismatch]:
    """Percentages in a supplier's document that are not their count over its denominator, beyond rounding.

    A percentage written with d decimals may be rounded or cut: it is consistent within one unit of its last digit
    (12/200 = 6.0% may be written 6% or 6.0%; 1/3 may be written 33% or 34%). A paper's figures are evidence, not the
    offer, and are not checked.
    """
    if doc.kind is DocumentKind.clinical_paper:
        return []
    out: list[TotalMismatch] = []
    for m in _PERCENT_OF.finditer(doc.text):
        n, d = float(m.group("n").replace(",", "")), float(m.group("d").replace(",", ""))
        if d <= 0 or n > d:
            continue
        stated = float(m.group("p"))
        decimals = len(m.group("p").split(".")[1]) if "." in m.group("p") else 0
        computed = 100 * n / d
        if abs(computed - stated) <= 10 ** -decimals + 1e-9:
            continue
        page = doc.page_at(m.start())
        start = m.start("p")
        shown = f"{computed:.{max(decimals, 1)}f}%"
        out.append(TotalMismatch(
            kind="percent", label=m.group(0)[:120] + ")", location=f"p. {page}", span=Span(start=start, end=m.end()), page=page,
            stated=stated, computed=round(computed, 3), parts=[m.group("n"), m.group("d")],
            note=f"'{m.group(0)})' (p. {page}) gives {m.group('p')}%, but {m.group('n')} of {m.group('d')} is {shown}",
        ))
    return out


# ------------------------------------------------------------------------------------------------ one figure, two ways

_CONTENT = re.compile(r"[a-z][a-z-]{2,}")
_MARKER = re.compile(r"\[\s*\d+(?:\s*[,–-]\s*\d+)*\s*\]")
_STOP = frozenset(
    "the and for with from that this than were was are has have had its our their per into over under after before during "
    "which who when where while also both each more less fewer most least about around approximately compared against "
    "versus than all any one two three four five six seven eight nine ten".split()
)
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
RESTATED_SIMILARITY = 0.75
"""How alike (word-set Jaccard, numbers and markers aside) two sentences must be to be read as one statement twice."""


def _content(text: str) -> set[str]:
    return {w for w in _CONTENT.findall(_MARKER.sub(" ", text).lower()) if w not in _STOP}


def restated_checks(doc: Document) -> list[TotalMismatch]:
    """One statement made twice with a different figure ("catheter failure fell by 45%" in the summary, "… by 38%" in
    the evidence section): two sentences of a supplier's document whose words are alike (``RESTATED_SIMILARITY``), that
    cite the same sources, and whose figures are of the same kinds in the same order and differ in exactly one, which is
    not a count. A second difference (another timepoint, another group) makes them two statements, and nothing is
    reported; neither are footnotes with links.
    """
    if doc.kind is DocumentKind.clinical_paper:
        return []
    from extractor.quantities import extract_quantities

    groups: dict[tuple, list] = {}  # only sentences citing the same sources, with figures of the same kinds, are compared
    for s in doc.sentences:
        if s.in_table or (s.section or "").lower().startswith("references"):
            continue
        if _URL.search(s.text):
            continue  # a footnote's link: its leading number is the note's, not a figure
        words = _content(s.text)
        quantities = [q for q in extract_quantities(s.text) if q.kind.value != "p_value"]
        if len(words) >= 4 and quantities:
            key = (tuple(sorted(_MARKER.findall(s.text))), tuple((q.kind, q.unit, q.per) for q in quantities))
            groups.setdefault(key, []).append((s, words, quantities))
    out: list[TotalMismatch] = []
    for rows in groups.values():
        out.extend(_restated(rows))
    return out


def _restated(rows: list) -> list[TotalMismatch]:
    """The restated figures among sentences that cite the same sources and give figures of the same kinds in order."""
    out: list[TotalMismatch] = []
    for i, (a, wa, qa) in enumerate(rows):
        for b, wb, qb in rows[i + 1:]:
            if len(wa & wb) / len(wa | wb) < RESTATED_SIMILARITY:
                continue
            differ = [(x, y) for x, y in zip(qa, qb) if abs(x.value - y.value) > 1e-9]
            if len(differ) != 1:
                continue
            first, second = differ[0]
            if first.kind.value in ("count", "sample_size"):
                continue  # a count differs between sites, years and groups far more often than it is misquoted
            start = b.span.start + b.text.find(second.text)
            if start < b.span.start:
                continue
            out.append(TotalMismatch(
                kind="restated", label=" ".join(b.text.split())[:120], location=f"p. {b.page}", page=b.page,
                span=Span(start=start, end=start + len(second.text)), stated=second.value, computed=first.value,
                parts=[f"p. {a.page}: {' '.join(a.text.split())[:160]}"],
                note=f"the same statement gives {first.text} on p. {a.page} (\u201c{' '.join(a.text.split())[:100]}\u201d) and "
                     f"{second.text} on p. {b.page}",
            ))
    return out
