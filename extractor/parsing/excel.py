"""Excel (.xlsx, .xlsm) reading: each sheet a page, each row a table row, each cell a location ``Sheet!C7``.

openpyxl reads the workbook twice in read-only mode: once for the values Excel cached when the file was last saved
(what a reader of the file sees) and once for the formulas, which are kept beside their values. Nothing is
recalculated and no macro is run. Numbers are displayed as their number format displays them ("£4,200", "12.5%"),
so a row such as "Year 2 maintenance  £4,200" reads as one fact, as it does on screen.

Totals are checked against their parts: a cell labelled as a total (its row or its column) whose value does not
equal the sum of the cells it totals is reported with both figures. A cell whose formula is a ``SUM`` is checked
against that range; a typed number against the cells above it (or to its left) back to the previous total.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from io import BytesIO

from extractor.errors import EmptyFileError, LimitExceededError
from extractor.parsing.assemble import PAGE_SEP, Block
from extractor.parsing.normalise import collapse_spaces, normalise_chars
from extractor.schema import Location, Span, TotalMismatch
from extractor.settings import ParsingSettings

_TOTAL = re.compile(r"\b(?:sub-?\s?)?totals?\b", re.IGNORECASE)
_SUM = re.compile(r"^=\s*SUM\(\s*\$?([A-Z]{1,3})\$?(\d+)\s*:\s*\$?([A-Z]{1,3})\$?(\d+)\s*\)\s*$", re.IGNORECASE)
_PLUS = re.compile(r"^=\s*\$?[A-Z]{1,3}\$?\d+(?:\s*\+\s*\$?[A-Z]{1,3}\$?\d+)+\s*$", re.IGNORECASE)
_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)", re.IGNORECASE)


@dataclass(slots=True)
class Workbook:
    """What the Excel reader gives the common build."""

    page_texts: list[str]
    blocks: list[Block]
    locations: list[Location]
    warnings: list[str]
    total_mismatches: list[TotalMismatch]
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Cell:
    row: int
    col: int
    value: object
    text: str
    formula: str | None
    fmt: str  # its number format, to show a computed figure as the cell shows its own

    @property
    def percent(self) -> bool:
        return "%" in _strip_literals(self.fmt.split(";")[0])


def read_excel(data: bytes, name: str, settings: ParsingSettings, started: float) -> Workbook:
    """Read a workbook from its bytes.

    Raises:
        EmptyFileError: no sheet holds a value.
        LimitExceededError: too many cells, or reading takes longer than ``settings.timeout_s``.
    """
    import openpyxl  # only workbooks need it

    values = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True, keep_links=False)
    formulas = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=False, keep_links=False)
    pages: list[str] = []
    blocks: list[Block] = []
    locations: list[Location] = []
    mismatches: list[TotalMismatch] = []
    warnings: list[str] = []
    offset, budget = 0, settings.max_sheet_cells
    uncached = 0
    try:
        for number, ws in enumerate(values.worksheets, start=1):
            grid, budget, missing = _cells(ws, formulas[ws.title], name, settings, started, budget)
            uncached += missing
            text, sheet_blocks, sheet_locations = _render(ws.title, grid, number, offset)
            pages.append(text)
            blocks += sheet_blocks
            locations += sheet_locations
            mismatches += _check_totals(ws.title, grid, number, sheet_locations)
            if ws.sheet_state != "visible":
                warnings.append(f"sheet '{ws.title}' is hidden in Excel; it was read like the others")
            offset += len(text) + len(PAGE_SEP)
        charts = len(getattr(values, "chartsheets", []))
        props = values.properties
        metadata = {k: str(v) for k, v in (("title", props.title), ("author", props.creator), ("created", props.created)) if v}
    finally:
        values.close()
        formulas.close()
    if not any(b.kind != "heading" for b in blocks):
        raise EmptyFileError(name, f"the workbook's {len(pages)} sheet{'s' if len(pages) != 1 else ''} hold no values.",
                             hint="Check that this is the right file, and that it was saved after its values were entered.")
    if charts:
        warnings.append(f"{charts} chart sheet{'s' if charts > 1 else ''} not read (charts hold no text to extract)")
    if uncached:
        warnings.append(f"{uncached} formula cell{'s' if uncached > 1 else ''} had no saved value (the file was written by a "
                        "program that does not calculate); they read as empty. Open and save the file in Excel to fill them")
    for m in mismatches:
        warnings.append(f"sheet '{m.location.split('!')[0]}': {m.note}")
    return Workbook(pages, blocks, locations, warnings, mismatches, {**metadata, "sheets": str(len(pages))})


def _cells(ws, fws, name: str, settings: ParsingSettings, started: float, budget: int) -> tuple[dict[tuple[int, int], _Cell], int, int]:
    """The sheet's non-empty cells by (row, column), with display text and formula."""
    grid: dict[tuple[int, int], _Cell] = {}
    formula_rows = fws.iter_rows()
    missing = 0
    for row in ws.iter_rows():
        frow = next(formula_rows, ())
        if time.monotonic() - started > settings.timeout_s:
            raise LimitExceededError(name, f"reading the workbook took over {settings.timeout_s:g} s.",
                                     hint="Split the workbook, or raise VBP_PARSING__TIMEOUT_S.")
        fcells = {getattr(c, "column", None): c for c in frow}
        for cell in row:
            col = getattr(cell, "column", None)
            if col is None:
                continue
            f = fcells.get(col)
            formula = f.value if f is not None and isinstance(f.value, str) and f.value.startswith("=") else None
            if cell.value is None and formula is None:
                continue
            if cell.value is None:
                missing += 1
                continue
            budget -= 1
            if budget < 0:
                raise LimitExceededError(name, f"the workbook has over {settings.max_sheet_cells:,} filled cells.",
                                         hint="Send the sheets that hold the cost model, or raise VBP_PARSING__MAX_SHEET_CELLS.")
            fmt = cell.number_format or "General"
            text = display(cell.value, fmt)
            if text:
                grid[(cell.row, col)] = _Cell(cell.row, col, cell.value, text, formula, fmt)
    return grid, budget, missing


def _render(title: str, grid: dict[tuple[int, int], _Cell], number: int, offset: int) -> tuple[str, list[Block], list[Location]]:
    """The sheet's text: its name, then one line per row (cells joined by tabs from the first used column)."""
    lines = [title]
    blocks = [Block("heading", number, offset, offset + len(title), size=16.0, bold=True)]
    locations: list[Location] = []
    pos = offset + len(title) + 1
    first_col = min((c for _, c in grid), default=1)
    column_labels: dict[int, str] = {}
    order = sorted({r for r, _ in grid})
    rows = {r: {c: cell for (rr, c), cell in grid.items() if rr == r} for r in order}
    previous = ""
    for i, r in enumerate(order):
        if i and r - order[i - 1] > 1:  # an empty row between tables is kept as an empty line
            lines.append("")
            pos += 1
            previous = ""
        row = rows[r]
        last = max(row)
        texts = [row[c].text if c in row else "" for c in range(first_col, last + 1)]
        line = "\t".join(texts)
        kind, labels = _row_kind(row, [rows[n] for n in order[i + 1 : i + 3]], previous)
        lone = kind == "para" and len(row) == 1  # a sentence in one cell: the line is that cell's text alone
        if lone:
            line = next(iter(row.values())).text
        lines.append(line)
        previous = kind
        if labels:
            column_labels = {c: cell.text for c, cell in row.items()}
        row_label = next((row[c].text for c in sorted(row) if isinstance(row[c].value, str)), "")
        blocks.append(Block(kind, number, pos, pos + len(line), cells=len(texts) if kind == "table_row" else 1, header=labels))
        if not lone:
            locations.append(Location(span=Span(start=pos, end=pos + len(line)), page=number,
                                      label=f"{title}!{_letter(first_col)}{r}:{_letter(last)}{r}"))
        placed, at = [], pos  # each cell with where its text starts on the line
        for c in range(first_col, last + 1):
            if c in row:
                placed.append((row[c], pos if lone else at))
            at += len(texts[c - first_col]) + 1
        for cell, start in placed:
            names = [] if labels or kind == "para" else [x for x in (row_label, column_labels.get(cell.col, "")) if x and x != cell.text]
            locations.append(Location(span=Span(start=start, end=start + len(cell.text)), page=number,
                                      label=f"{title}!{_letter(cell.col)}{r}", formula=cell.formula, context=" · ".join(names) or None))
        pos += len(line) + 1
    return "\n".join(lines), blocks, locations


def _row_kind(row: dict[int, _Cell], following: list[dict[int, _Cell]], previous: str) -> tuple[str, bool]:
    """A row's block kind, and whether it holds column labels.

    A row with numbers is a table row. A row of text cells is the header of the table below it when the next row has
    numbers; otherwise it is prose ("Scope | 400 beds with delivery and installation"), read as a sentence. A single
    short label inside a table ("Capital costs") keeps the table together; a single longer cell is a paragraph.
    ``following`` is the next two rows (a header may sit above a label row such as "Capital costs").
    """
    def has_numbers(cells: dict[int, _Cell]) -> bool:
        return any(not isinstance(cell.value, str) for cell in cells.values())

    if has_numbers(row):
        return "table_row", False
    numbers_below = any(has_numbers(f) for f in following)
    if len(row) == 1:
        text = next(iter(row.values())).text
        inside = previous == "table_row" and numbers_below
        return ("table_row" if inside and len(text) <= 60 and not text.endswith(".") else "para"), False
    if numbers_below:
        return "table_row", True
    return "para", False


def _check_totals(title: str, grid: dict[tuple[int, int], _Cell], number: int, locations: list[Location]) -> list[TotalMismatch]:
    """Totals (by row label or column header) that do not equal the sum of their parts."""
    numeric = {k: c for k, c in grid.items() if isinstance(c.value, (int, float)) and not isinstance(c.value, bool) and not c.percent}
    spans = {loc.label: loc.span for loc in locations}
    label_of = {r: _row_label(grid, r) for r in {r for r, _ in grid}}
    total_rows = {r for r, label in label_of.items() if label and _TOTAL.search(label)}
    header_row, total_cols = _total_columns(grid)
    out: list[TotalMismatch] = []
    for (r, c), cell in sorted(numeric.items()):
        parts: list[tuple[int, int]] | None = None
        if cell.formula:
            parts = _formula_parts(cell.formula)
        elif r in total_rows:
            parts = _parts_above(numeric, total_rows, header_row, r, c)
        elif c in total_cols and r != header_row:
            parts = _parts_left(numeric, total_cols, r, c)
        if not parts or len(parts) < 2:
            continue
        present = [p for p in parts if p in numeric]
        if len(present) < 2:
            continue
        computed = sum(float(numeric[p].value) for p in present)
        stated = float(cell.value)
        if abs(stated - computed) <= max(1.0, 0.001 * abs(computed)):
            continue
        where = f"{title}!{_letter(c)}{r}"
        label = label_of.get(r) if r in total_rows or cell.formula else grid.get((header_row, c), cell).text
        label = label or where
        parts_text = _range_text(title, present)
        sum_text = display(computed, cell.fmt)
        out.append(TotalMismatch(
            label=label, location=where, span=spans.get(where, Span(start=0, end=0)), page=number, stated=stated, computed=computed,
            parts=[f"{title}!{_letter(pc)}{pr}" for pr, pc in present],
            note=f"{label} ({where}) states {cell.text}, but its parts ({parts_text}) sum to {sum_text}",
        ))
    return out


def _row_label(grid: dict[tuple[int, int], _Cell], r: int) -> str:
    cells = sorted((c, cell) for (rr, c), cell in grid.items() if rr == r)
    for _, cell in cells:
        if isinstance(cell.value, str):
            return cell.text
    return ""


def _total_columns(grid: dict[tuple[int, int], _Cell]) -> tuple[int | None, set[int]]:
    """The header row (the first row with two or more text cells) and its columns labelled 'Total'."""
    for r in sorted({r for r, _ in grid}):
        texts = {c: cell for (rr, c), cell in grid.items() if rr == r and isinstance(cell.value, str)}
        if len(texts) >= 2:
            return r, {c for c, cell in texts.items() if _TOTAL.search(cell.text)}
    return None, set()


def _parts_above(numeric, total_rows: set[int], header_row: int | None, r: int, c: int) -> list[tuple[int, int]]:
    """The numbers above a total row's cell, back to the previous total (or, for a grand total, the totals above)."""
    above = sorted((rr for (rr, cc) in numeric if cc == c and rr < r and (header_row is None or rr > header_row)), reverse=True)
    items: list[tuple[int, int]] = []
    for rr in above:
        if rr in total_rows:
            break
        items.append((rr, c))
    if items:
        return items
    return [(rr, c) for rr in above if rr in total_rows]  # a grand total over subtotals


def _parts_left(numeric, total_cols: set[int], r: int, c: int) -> list[tuple[int, int]]:
    items: list[tuple[int, int]] = []
    for cc in sorted((cc for (rr, cc) in numeric if rr == r and cc < c), reverse=True):
        if cc in total_cols:
            break
        items.append((r, cc))
    return items


def _formula_parts(formula: str) -> list[tuple[int, int]] | None:
    """The cells a ``=SUM(B5:G5)`` or ``=B5+C5+D5`` formula adds; None for any other formula (not a sum of parts)."""
    m = _SUM.match(formula)
    if m:
        c1, r1, c2, r2 = _column(m.group(1)), int(m.group(2)), _column(m.group(3)), int(m.group(4))
        return [(r, c) for r in range(min(r1, r2), max(r1, r2) + 1) for c in range(min(c1, c2), max(c1, c2) + 1)]
    if _PLUS.match(formula):
        return [(int(row), _column(col)) for col, row in _REF.findall(formula)]
    return None


def _range_text(title: str, cells: list[tuple[int, int]]) -> str:
    rows = {r for r, _ in cells}
    cols = {c for _, c in cells}
    if len(rows) == 1 or len(cols) == 1:
        (r1, c1), (r2, c2) = min(cells), max(cells)
        return f"{_letter(c1)}{r1}:{_letter(c2)}{r2}"
    return ", ".join(f"{_letter(c)}{r}" for r, c in cells)


def _letter(col: int) -> str:
    s = ""
    while col:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def _column(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


# --- number formats --------------------------------------------------------------------------------------------------

_CURRENCY_TAG = re.compile(r"\[\$([^\]-]*)(?:-[0-9A-Fa-f]+)?\]")
_BRACKETS = re.compile(r"\[[^\]]*\]")  # colours and conditions: [Red], [>=1000]
_QUOTED = re.compile(r'"([^"]*)"')
_NUMBER_PART = re.compile(r"[#0?][#0?,]*(?:\.[#0?]*)?|\.[#0?]+")


def _strip_literals(fmt: str) -> str:
    return _QUOTED.sub("", fmt)


def display(value: object, fmt: str = "General") -> str:
    """A cell's value as Excel shows it under its number format (the common formats; others fall back to General)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if not isinstance(value, (int, float)):
        return collapse_spaces(normalise_chars(str(value)).replace("\t", " ").replace("\n", " ")).strip()
    sections = fmt.split(";")
    section = sections[1] if value < 0 and len(sections) > 1 else sections[2] if value == 0 and len(sections) > 2 else sections[0]
    explicit_sign = value < 0 and len(sections) > 1
    number = abs(value) if explicit_sign else value
    section = _CURRENCY_TAG.sub(lambda m: '"' + m.group(1) + '"', section)
    section = _BRACKETS.sub("", section)
    section = re.sub(r"_.", "", section)  # "_)" leaves room for a parenthesis: nothing shown
    section = re.sub(r"\*.", "", section)  # "* " repeats a fill character
    section = re.sub(r"\\(.)", r'"\1"', section)
    if section.strip().lower() in ("general", "") or "e+" in section.lower() or "@" in section:
        return _general(number) if not explicit_sign else "-" + _general(number)
    unquoted = _strip_literals(section)
    m = _NUMBER_PART.search(unquoted)
    if m is None:  # a section of text only, such as accounting's zero: "£ -"
        return _QUOTED.sub(lambda q: q.group(1), section).strip() or _general(number)
    pattern = m.group(0)
    decimals = len(pattern.split(".")[1]) if "." in pattern else 0
    if "%" in unquoted:
        number = number * 100
    grouped = "," in pattern.split(".")[0]
    body = f"{abs(number):,.{decimals}f}" if grouped else f"{abs(number):.{decimals}f}"
    # the literal text before and after the number part, in order, quotes removed
    marker = "\x00"
    marked = _place_number(section, marker)
    rendered = _QUOTED.sub(lambda q: q.group(1), marked).replace(marker, body)
    sign = "-" if number < 0 and not explicit_sign else ""
    return (sign + rendered.strip()) if rendered.strip() else sign + body


def _place_number(section: str, marker: str) -> str:
    """The format section with its number part replaced by ``marker`` (quoted text left alone)."""
    out, i, placed = [], 0, False
    while i < len(section):
        ch = section[i]
        if ch == '"':
            j = section.find('"', i + 1)
            j = len(section) - 1 if j < 0 else j
            out.append(section[i : j + 1])
            i = j + 1
            continue
        m = _NUMBER_PART.match(section, i)
        if m and not placed:
            out.append(marker)
            placed = True
            i = m.end()
            continue
        if m:  # a second number part (fractions, codes): not shown
            i = m.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _general(number: float | int) -> str:
    if isinstance(number, int) or float(number).is_integer():
        return str(int(number))
    return f"{number:.10g}"
