"""Page geometry: columns, reading order, rows, running headers and footers.

Works on ``Line`` records (text plus a bounding box in PDF points, y growing upwards), so it
can be unit-tested with hand-made lines and does not depend on the PDF library.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from statistics import median

CELL_SEP = "\t"  # written between table cells; whitespace, so quotes still match across it


@dataclass(slots=True)
class Line:
    """A run of text on one baseline, as the PDF library segments it."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float = 10.0
    bold: bool = False
    hyphen_break: bool = False  # the PDF marked a hyphen at the end of this line

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 0.1)

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(slots=True)
class Row:
    """Lines that share a baseline within one column, left to right."""

    lines: list[Line]
    column: int = 0  # 0: spans the page or single column; 1: left; 2: right
    text: str = ""
    x0: float = 0.0
    y0: float = 0.0
    x1: float = 0.0
    y1: float = 0.0
    size: float = 10.0
    bold: bool = False
    cells: int = 1
    hyphen_break: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def is_table_row(self) -> bool:
        return self.cells >= 2


def find_gutter(lines: list[Line], x_lo: float, x_hi: float, page_width: float | None = None) -> float | None:
    """Return the x of a gutter between two text columns within ``[x_lo, x_hi]``, or None.

    A gutter is an x position that few lines cross while many lines lie wholly on each side
    of it, and the lines on each side are wide for their side (running text), not the narrow
    cells of a table.
    """
    body = [ln for ln in lines if len(ln.text.strip()) >= 3]
    if len(body) < 8:
        return None
    width = x_hi - x_lo
    best: tuple[int, int, float, float] | None = None
    rights = sorted(ln.x1 for ln in body)
    lefts = sorted(ln.x0 for ln in body)
    for g in range(int(x_lo + 0.12 * width), int(x_hi - 0.12 * width) + 1, 2):
        left = bisect_right(rights, g)  # lines wholly left of g
        right = len(lefts) - bisect_left(lefts, g)  # lines wholly right of g
        cross = len(body) - left - right
        if min(left, right) < max(4, 0.1 * len(body)) or cross > 0.6 * len(body):
            continue
        key = (cross, -min(left, right), abs(g - (x_lo + x_hi) / 2), float(g))
        if best is None or key < best:
            best = key
    if best is None:
        return None
    g = best[3]
    if not _prose_columns(body, g, page_width or width):
        return None
    return g


def _prose_columns(lines: list[Line], g: float, page_width: float) -> bool:
    """Columns hold running text: wide lines, or lines of words; the cells of a table are
    narrow and mostly numbers."""
    for side in ([ln for ln in lines if ln.x1 <= g], [ln for ln in lines if ln.x0 >= g]):
        widths = sorted(ln.x1 - ln.x0 for ln in side)
        if widths[len(widths) // 2] >= 0.18 * page_width:
            continue
        wordy = sum(1 for ln in side if len(_WORD.findall(ln.text)) >= 3)
        if wordy < 0.5 * len(side):
            return False
    return True


_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]{2,}")


def cluster_rows(lines: list[Line], column: int = 0) -> list[Row]:
    """Group lines whose vertical extents overlap into rows, top to bottom."""
    rows: list[Row] = []
    for ln in sorted(lines, key=lambda l: (-l.y1, l.x0)):
        if rows:
            row = rows[-1]
            overlap = min(row.y1, ln.y1) - max(row.y0, ln.y0)
            if overlap >= 0.5 * min(ln.height, row.y1 - row.y0 or 0.1):
                row.lines.append(ln)
                row.y0, row.y1 = min(row.y0, ln.y0), max(row.y1, ln.y1)
                continue
        rows.append(Row(lines=[ln], column=column, y0=ln.y0, y1=ln.y1))
    for row in rows:
        _finish_row(row)
    return rows


def _finish_row(row: Row) -> None:
    members = sorted(row.lines, key=lambda l: l.x0)
    main = max(members, key=lambda l: len(l.text))
    row.size, row.bold = main.size, members[0].bold
    parts: list[str] = []
    prev: Line | None = None
    for ln in members:
        text = ln.text.strip(" ")
        if prev is not None:
            gap = ln.x0 - prev.x1
            if gap > 1.2 * max(row.size, 4.0):
                parts.append(CELL_SEP)
            elif gap > 0.12 * row.size and not parts[-1].endswith((" ", CELL_SEP)):
                parts.append(" ")
        parts.append(text)
        prev = ln
    row.text = "".join(parts)
    row.cells = row.text.count(CELL_SEP) + 1
    row.x0, row.x1 = members[0].x0, max(l.x1 for l in members)
    row.hyphen_break = members[-1].hyphen_break


def reading_order(lines: list[Line], width: float) -> tuple[list[Row], int]:
    """Put a page's lines in reading order.

    Columns are found recursively (a narrow side column beside two text columns, as on a BMJ
    first page, is three columns). Each band between full-width elements (title, wide tables,
    figure captions) is read left column first, then right column.

    Returns:
        The rows in reading order and the largest number of columns side by side.
    """
    if not lines:
        return [], 1
    return _order(lines, 0.0, width, width, depth=0)


def _order(lines: list[Line], x_lo: float, x_hi: float, page_width: float, depth: int) -> tuple[list[Row], int]:
    gutter = find_gutter(lines, x_lo, x_hi, page_width) if depth < 3 else None
    if gutter is None:
        return cluster_rows(lines), 1
    spanning = [ln for ln in lines if ln.x0 < gutter < ln.x1]
    span_rows = cluster_rows(spanning)
    left = [ln for ln in lines if ln.x1 <= gutter]
    right = [ln for ln in lines if ln.x0 >= gutter]
    ordered: list[Row] = []
    columns = 2
    cuts = [(r.y0 + r.y1) / 2 for r in span_rows] + [float("-inf")]
    top = float("inf")
    for i, cut in enumerate(cuts):
        for side, lo, hi, col in ((left, x_lo, gutter, 1), (right, gutter, x_hi, 2)):
            band = [ln for ln in side if cut < ln.cy <= top]
            if band:
                rows, n = _order(band, lo, hi, page_width, depth + 1)
                for r in rows:
                    r.column = r.column * 3 + col if depth else col
                ordered.extend(rows)
                columns = max(columns, n + 1)
        if i < len(span_rows):
            ordered.append(span_rows[i])
        top = cut
    return ordered, columns


_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(
    r"^\s*(?:page\s*)?[\divxlc]{1,6}(?:\s*(?:of|/)\s*\d{1,5})?\s*$|^\s*[-–—]\s*\d{1,4}\s*[-–—]\s*$", re.IGNORECASE
)


def repeat_key(text: str) -> str:
    """Key under which a header or footer line repeats across pages (page numbers ignored)."""
    return _DIGITS.sub("#", " ".join(text.lower().split()))


def find_running_lines(pages: list[tuple[list[Line], float]], *, zone: float = 0.1) -> list[set[int]]:
    """Find running headers, footers and page numbers.

    Args:
        pages: For each page, its lines and its height.
        zone: Share of the page height at the top and at the bottom where headers and footers live.

    Returns:
        For each page, the indices of its lines to drop.
    """
    n = len(pages)
    candidates: list[list[tuple[int, str]]] = []
    counts: Counter[str] = Counter()
    for lines, height in pages:
        found = []
        for i, ln in enumerate(lines):
            if ln.y0 >= height * (1 - zone) or ln.y1 <= height * zone:
                found.append((i, repeat_key(ln.text)))
        candidates.append(found)
        counts.update({key for _, key in found})
    need = 2 if n <= 3 else max(3, int(0.3 * n + 0.999))
    repeated = [key for key, c in counts.items() if c >= need] if n >= 2 else []
    drop: list[set[int]] = []
    for found, (lines, _) in zip(candidates, pages):
        gone = set()
        for i, key in found:
            # a fragment of a repeated line counts too: the first page often sets the same
            # footer in other pieces ("https://e-kcj.org  898")
            if key in repeated or all(_running_piece(cell, repeated) for cell in lines[i].text.split(CELL_SEP)):
                gone.add(i)
        drop.append(gone)
    return drop


def _running_piece(text: str, repeated: list[str]) -> bool:
    key = repeat_key(text)
    return bool(_PAGE_NUMBER.match(text)) or (len(key) >= 8 and any(key in r for r in repeated))


def body_size(rows: list[Row]) -> float:
    """The font size of running text: the size carrying the most characters."""
    weights: Counter[float] = Counter()
    for row in rows:
        weights[round(row.size, 1)] += len(row.text)
    if not weights:
        return 10.0
    return weights.most_common(1)[0][0]


def line_pitch(rows: list[Row]) -> float:
    """Typical distance between baselines of consecutive rows in the same column."""
    gaps = [
        a.y0 - b.y0
        for a, b in zip(rows, rows[1:])
        if a.column == b.column and 0 < a.y0 - b.y0 < 3 * max(a.size, 1)
    ]
    return median(gaps) if gaps else 12.0
