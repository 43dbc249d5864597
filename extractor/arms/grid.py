"""A parsed document's tables as grids of cells, each cell located in ``Document.text``.

The arm reader finds a comparison's columns by their headers and its row by its label; for that it needs each
table as rows of cells with their offsets, and the header rows told from the data rows. PDF tables arrive as
tab-separated rows, Markdown tables as pipe rows or (Pandoc's space-aligned tables) as tab-separated rows too
(``extractor.parsing.text``), so one reader serves both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.schema import Document

__all__ = ["Grid", "GridRow", "grids"]

_VALUE = re.compile(r"\d")
_SIZE_ONLY = re.compile(r"^[\s(\[]*(?:[nN]|no\.?)\s*[=:]\s*[\d,]+[\s)\]]*$")
_SIZE = re.compile(r"[(\[]?\s*\b[nN]\s*[=:]\s*[\d,]+\s*[)\]]?")
_DOSE = re.compile(r"^\s*\d+(?:\.\d+)?\s?(?:mg|mcg|µg|g|ml|IU|units?)(?:/\w+)?\b", re.IGNORECASE)
_STAT_ONLY = re.compile(r"^[\s(\[]*(?:mean|median|sd|s\.d\.|iqr|n|no\.?|%|n\s*\(%\)|range|\d+\s*%\s*ci|ci)[\s)\]±,/%()]*$",
                        re.IGNORECASE)


@dataclass(frozen=True)
class GridRow:
    """One table row: its span and each cell's span, left to right (an empty cell is an empty span)."""

    start: int
    end: int
    cells: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Grid:
    """One table: header rows (column labels, group sizes) and data rows, with its caption as the parser found it."""

    header: tuple[GridRow, ...]
    body: tuple[GridRow, ...]
    caption: str
    page: int


def _row(text: str, start: int, end: int) -> GridRow:
    """A row's cells: split on tabs (PDF and space-aligned Markdown rows) or on pipes (Markdown pipe rows)."""
    line = text[start:end]
    sep = "\t" if "\t" in line else "|"
    cells = []
    pos = start
    parts = line.split(sep)
    if sep == "|":  # '| a | b |': the outer pipes open and close the row, they do not make empty cells
        if parts and not parts[0].strip():
            pos += len(parts[0]) + 1
            parts = parts[1:]
        if parts and not parts[-1].strip():
            parts = parts[:-1]
    for part in parts:
        lead = len(part) - len(part.lstrip())
        body = part.strip()
        cells.append((pos + lead, pos + lead + len(body)))
        pos += len(part) + 1
    return GridRow(start, end, tuple(cells))


def _is_header(text: str, row: GridRow, first: bool) -> bool:
    """A header row names columns: beyond its first cell, no cell holds a value (group sizes and 'mean (SD)' aside).
    After the first, a row with nothing beyond its label is a sub-heading of the body, not a header."""
    if not first and not any(e > s for s, e in row.cells[1:]):
        return False
    for s, e in row.cells[1:]:
        cell = text[s:e]
        if _VALUE.search(cell) and not _SIZE_ONLY.match(cell) and not _STAT_ONLY.match(cell):
            # "Group 1 (n = 30)", "Week 12", "2400 mg (N = 123)": a label with a number in it, not a value
            named = _SIZE.sub(" ", cell)
            if re.search(r"[A-Za-z]{3,}", named) and not re.match(r"^[\s\-−]*\d", named) or _DOSE.search(named):
                continue
            return False
    return True


def grids(doc: Document) -> list[Grid]:
    """Each table of ``doc`` as a grid: the leading rows that hold no values are its header (up to four)."""
    out = []
    for table in doc.tables:
        rows = [_row(doc.text, r.span.start, r.span.end) for r in table.rows]
        k = 0
        while k < min(4, len(rows) - 1) and _is_header(doc.text, rows[k], k == 0):
            k += 1
        head, body = rows[:k], rows[k:]
        width = max((len(r.cells) for r in head), default=0)
        # '| | Median time (IQR) | 25.0 | 25.3 |' under a header one cell narrower: the empty first cell is no column
        body = [GridRow(r.start, r.end, r.cells[1:]) if width and len(r.cells) == width + 1 and r.cells[0][1] == r.cells[0][0]
                and not _VALUE.search(doc.text[r.cells[1][0] : r.cells[1][1]]) else r for r in body]
        out.append(Grid(tuple(head), tuple(body), table.caption or "", table.page))
    return out
