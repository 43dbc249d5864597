"""Write the corpus's Excel whole-life cost model: ``corpus/submissions/stanmoor-pressure-relieving-bed-system-wlc.xlsx``.

The workbook is the "AeroCare whole-life cost model for a 400-bed acute trust" that the Stanmoor submission cites
as reference 5, a fictional document written by the project like the submission itself. Its figures agree with
the submission's Table 2 (400 beds, 7 years, 2024/25 prices, excluding VAT): the AeroCare managed service costs
£7,547,000 and the current beds and hired mattresses £10,726,000, a net saving of £3,179,000 (the submission's
"£3.18 million", "£454,000 a year") that pays back in year 3.

Three sheets: "Read me" (title, supplier, price basis, the fictional-document notice), "Whole-life cost" (AeroCare,
cost element by year, with row totals, subtotals and a grand total) and "Comparison" (the current approach by year,
both totals, the net saving, its cumulative sum, a summary and four statements in words).

It is written with XlsxWriter because XlsxWriter stores each formula's value beside it (openpyxl cannot), and readers
of a workbook, the project's included, read those saved values. The values are computed here, in Python.

One cell is a **deliberate slip**, as in a real bid: the 7-year total of "Subtotal, running costs"
('Whole-life cost'!J15) is typed as £821,000, not a formula, while its parts (J10:J14) sum to £812,000. The
grand total is summed across its row, so it stays right (£7,547,000). The reader must flag the slip.

The output is deterministic: XlsxWriter dates every ZIP member 1980-01-01 and the workbook's created date is fixed.
Run ``python -m eval.corpus_workbook [OUT.xlsx]``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from eval.corpus_render import SUBMISSIONS, parse

SOURCE = SUBMISSIONS / "stanmoor-pressure-relieving-bed-system.md"
OUT = SUBMISSIONS / "stanmoor-pressure-relieving-bed-system-wlc.xlsx"
CREATED = dt.datetime(2025, 6, 2, 9, 0)

BEDS = 400
YEARS = 7  # Year 0 (purchase and installation) then Years 1 to 7 of the managed service
YEAR_COLS = "BCDEFGHI"  # Year 0 .. Year 7
TOTAL_COL = "J"
MISMATCH_CELL, MISMATCH_STATED = "J15", 821_000  # the deliberate slip: its parts J10:J14 sum to 812,000

MONEY = '"£"#,##0'
GRID = '"£"#,##0;("£"#,##0);"-"'  # year cells: negatives in brackets, zero as a dash
SIGNED = '"£"#,##0;("£"#,##0)'
PENCE = "£#,##0.00"

WLC = "Whole-life cost"
COMPARISON = "Comparison"


def _years(year0: float = 0, yearly: float = 0, last: float = 0) -> list[float]:
    """Eight yearly amounts: ``year0`` in Year 0, ``yearly`` in Years 1 to 7, plus ``last`` in Year 7."""
    values = [year0] + [yearly] * YEARS
    values[-1] += last
    return values


# AeroCare managed service, by cost element (row, label, amounts for Year 0..Year 7)
AEROCARE_CAPITAL = [
    (5, f"Purchase of beds with integrated dynamic mattresses ({BEDS} × £6,500)", _years(year0=BEDS * 6_500)),
    (6, f"Delivery and installation ({BEDS} × £300)", _years(year0=BEDS * 300)),
    (7, "Training: ward sessions and super-user days (implementation)", _years(year0=60_000)),
]
AEROCARE_RUNNING = [
    (10, "Managed maintenance and decontamination service", _years(yearly=88_000)),
    (11, "Consumables: mattress covers and pump filters", _years(yearly=14_000)),
    (12, "Energy: pump electricity (operation)", _years(yearly=12_000)),
    (13, "Dynamic mattress rental", _years()),
    (14, "Decommissioning and disposal (take-back scheme, Year 7)", _years(last=14_000)),
]
AEROCARE_CLINICAL = [
    (17, "Pressure ulcer treatment (trust reference costs)", _years(yearly=565_000)),
]
CURRENT = [
    (5, f"Standard beds with static foam mattresses ({BEDS} × £2,400)", _years(year0=BEDS * 2_400)),
    (6, "Maintenance, decontamination and service", _years(yearly=168_000)),
    (7, "Dynamic mattress rental for high-risk patients", _years(yearly=220_000)),
    (8, "Pressure ulcer treatment (trust reference costs)", _years(yearly=7_050_000 / YEARS)),
]


def front_matter() -> dict[str, str]:
    """The Stanmoor submission's front matter (``supplier``, ``title``)."""
    meta, _ = parse(SOURCE.read_text(encoding="utf-8"))
    return meta


def write(out: Path = OUT) -> Path:
    """Write the workbook to ``out`` and return its path."""
    import xlsxwriter

    meta = front_matter()
    supplier, tender = meta["supplier"], meta["title"]
    title = f"AeroCare whole-life cost model for a {BEDS}-bed acute trust"
    notice = (f"Fictional document written by the vbp-evidence project as test material. {supplier}, AeroCare, all prices "
              "and all data on file are invented.")
    book = xlsxwriter.Workbook(str(out))
    book.set_properties({"title": title, "subject": "Whole-life cost model (fictional demo document)", "author": supplier,
                         "company": supplier, "comments": notice, "created": CREATED})
    f = {
        "title": book.add_format({"bold": True, "font_size": 14, "font_color": "#1f3a5f"}),
        "bold": book.add_format({"bold": True}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "label": book.add_format({"bold": True, "valign": "top"}),
        "head": book.add_format({"bold": True, "bg_color": "#e3eaf2", "bottom": 1, "align": "center"}),
        "head_left": book.add_format({"bold": True, "bg_color": "#e3eaf2", "bottom": 1}),
        "section": book.add_format({"bold": True, "italic": True, "font_color": "#1f3a5f"}),
        "grid": book.add_format({"num_format": GRID}),
        "money": book.add_format({"num_format": MONEY}),
        "signed": book.add_format({"num_format": SIGNED}),
        "pence": book.add_format({"num_format": PENCE}),
        "sub_label": book.add_format({"bold": True, "top": 1}),
        "sub_grid": book.add_format({"bold": True, "top": 1, "num_format": GRID}),
        "sub_money": book.add_format({"bold": True, "top": 1, "num_format": MONEY}),
        "total_label": book.add_format({"bold": True, "top": 1, "bottom": 6}),
        "total_grid": book.add_format({"bold": True, "top": 1, "bottom": 6, "num_format": GRID}),
        "total_money": book.add_format({"bold": True, "top": 1, "bottom": 6, "num_format": MONEY}),
        "total_signed": book.add_format({"bold": True, "top": 1, "bottom": 6, "num_format": SIGNED}),
    }
    _read_me(book, f, title, notice, supplier, tender)
    aerocare = _whole_life_cost(book, f)
    _comparison(book, f, aerocare)
    book.close()
    return out


def _read_me(book, f, title: str, notice: str, supplier: str, tender: str) -> None:
    ws = book.add_worksheet("Read me")
    ws.set_column("A:A", 16)
    ws.set_column("B:B", 100)
    ws.write("A1", title, f["title"])
    ws.write("A2", notice)
    rows = [
        ("Supplier", supplier),
        ("Document", f"{tender}: whole-life cost model (reference 5 of the response)"),
        ("Scope", f"{BEDS} AeroCare beds with integrated dynamic mattresses, delivery and installation, staff training "
                  f"and a {YEARS}-year managed maintenance service"),
        ("Prices", "Prices at 2024/25 levels, excluding VAT, undiscounted"),
        ("Comparator", "The trust's current approach: standard beds with static foam mattresses, plus hired dynamic "
                       "mattresses for high-risk patients"),
        ("Sheets", f"'{WLC}': the AeroCare managed service by cost element and year. '{COMPARISON}': the current "
                   "approach by year, the net saving and the payback."),
    ]
    for i, (label, text) in enumerate(rows, start=4):
        ws.write(f"A{i}", label, f["label"])
        ws.write(f"B{i}", text, f["wrap"])
    notes = [
        "The capital price per bed in the response (Table 2) includes delivery, installation and training: rows 5 to 7 "
        f"of '{WLC}'.",
        "Maintenance, decontamination and service in the response (Table 2) is the sum of the managed service, "
        f"consumables, energy and decommissioning rows of '{WLC}'.",
        "Pressure ulcer treatment costs use the trust's own reference costs and the incidence rates of the 12-month "
        "ward evaluation (Table 1 of the response).",
    ]
    ws.write("A11", "Notes", f["label"])
    for i, text in enumerate(notes, start=11):
        ws.write(f"B{i}", text, f["wrap"])


def _header(ws, f, row: int, first: str) -> None:
    ws.write(f"A{row}", first, f["head_left"])
    for i, col in enumerate(YEAR_COLS):
        ws.write(f"{col}{row}", f"Year {i}", f["head"])
    ws.write(f"{TOTAL_COL}{row}", "Total", f["head"])


def _item_rows(ws, f, items) -> dict[int, list[float]]:
    """Cost rows: typed yearly amounts and a ``=SUM(B5:I5)`` total; returns each row's yearly amounts."""
    out = {}
    for row, label, values in items:
        ws.write(f"A{row}", label)
        for col, value in zip(YEAR_COLS, values):
            ws.write_number(f"{col}{row}", value, f["grid"])
        ws.write_formula(f"{TOTAL_COL}{row}", f"=SUM({YEAR_COLS[0]}{row}:{YEAR_COLS[-1]}{row})", f["money"], sum(values))
        out[row] = values
    return out


def _sum_rows(ws, row: int, label: str, rows: dict[int, list[float]], label_fmt, grid_fmt, money_fmt,
              typed_total: float | None = None) -> list[float]:
    """A subtotal row: ``=SUM(B5:B7)`` down each column; the Total column typed when ``typed_total`` is given."""
    first, last = min(rows), max(rows)
    ws.write(f"A{row}", label, label_fmt)
    sums = [sum(values[i] for values in rows.values()) for i in range(len(YEAR_COLS))]
    for col, value in zip(YEAR_COLS, sums):
        ws.write_formula(f"{col}{row}", f"=SUM({col}{first}:{col}{last})", grid_fmt, value)
    if typed_total is None:
        ws.write_formula(f"{TOTAL_COL}{row}", f"=SUM({TOTAL_COL}{first}:{TOTAL_COL}{last})", money_fmt, sum(sums))
    else:
        ws.write_number(f"{TOTAL_COL}{row}", typed_total, money_fmt)
    return sums


def _whole_life_cost(book, f) -> list[float]:
    """The AeroCare sheet; returns the grand total by year (Year 0..Year 7)."""
    ws = book.add_worksheet(WLC)
    ws.set_column("A:A", 58)
    ws.set_column("B:J", 12)
    ws.freeze_panes(3, 1)
    ws.write("A1", f"AeroCare managed service: whole-life cost of {BEDS} beds over {YEARS} years "
                   "(£, 2024/25 prices, excluding VAT)", f["title"])
    _header(ws, f, 3, "Cost element")
    ws.write("A4", "Capital costs", f["section"])
    capital = _sum_rows(ws, 8, "Subtotal, capital", _item_rows(ws, f, AEROCARE_CAPITAL),
                        f["sub_label"], f["sub_grid"], f["sub_money"])
    ws.write("A9", "Running costs", f["section"])
    running = _sum_rows(ws, 15, "Subtotal, running costs", _item_rows(ws, f, AEROCARE_RUNNING),
                        f["sub_label"], f["sub_grid"], f["sub_money"], typed_total=MISMATCH_STATED)
    ws.write("A16", "Clinical costs", f["section"])
    clinical = _item_rows(ws, f, AEROCARE_CLINICAL)[17]
    total = [a + b + c for a, b, c in zip(capital, running, clinical)]
    ws.write("A19", "Total whole-life cost", f["total_label"])
    for col, value in zip(YEAR_COLS, total):
        ws.write_formula(f"{col}19", f"={col}8+{col}15+{col}17", f["total_grid"], value)
    ws.write_formula(f"{TOTAL_COL}19", f"=SUM({YEAR_COLS[0]}19:{YEAR_COLS[-1]}19)", f["total_money"], sum(total))
    ws.write("A20", "Cost per bed per year")
    ws.write_formula(f"{TOTAL_COL}20", f"={TOTAL_COL}19/({BEDS}*{YEARS})", f["pence"], sum(total) / (BEDS * YEARS))
    return total


def _comparison(book, f, aerocare: list[float]) -> None:
    ws = book.add_worksheet(COMPARISON)
    ws.set_column("A:A", 58)
    ws.set_column("B:J", 12)
    ws.freeze_panes(3, 1)
    ws.write("A1", f"Current beds and hired mattresses compared with the AeroCare managed service, {BEDS} beds over "
                   f"{YEARS} years (£, 2024/25 prices, excluding VAT)", f["title"])
    _header(ws, f, 3, "Cost element")
    ws.write("A4", "Current approach: standard beds and hired dynamic mattresses", f["section"])
    current_rows = _item_rows(ws, f, CURRENT)
    current = _sum_rows(ws, 9, "Total, current approach", current_rows, f["sub_label"], f["sub_grid"], f["sub_money"])
    ws.write("A10", "Total, AeroCare managed service", f["bold"])
    for col, value in zip(YEAR_COLS, aerocare):
        ws.write_formula(f"{col}10", f"='{WLC}'!{col}19", f["grid"], value)
    ws.write_formula(f"{TOTAL_COL}10", f"=SUM({YEAR_COLS[0]}10:{YEAR_COLS[-1]}10)", f["money"], sum(aerocare))
    saving = [c - a for c, a in zip(current, aerocare)]
    ws.write("A11", "Net saving with AeroCare", f["total_label"])
    for col, value in zip(YEAR_COLS, saving):
        ws.write_formula(f"{col}11", f"={col}9-{col}10", f["total_grid"], value)
    ws.write_formula(f"{TOTAL_COL}11", f"=SUM({YEAR_COLS[0]}11:{YEAR_COLS[-1]}11)", f["total_signed"], sum(saving))
    ws.write("A12", "Cumulative net saving")
    running = 0.0
    for i, (col, value) in enumerate(zip(YEAR_COLS, saving)):
        running += value
        formula = f"={col}11" if i == 0 else f"={YEAR_COLS[i - 1]}12+{col}11"
        ws.write_formula(f"{col}12", formula, f["grid"], running)

    ws.write("A14", "Summary", f["head_left"])
    for col, text in zip("BCD", ("AeroCare managed service", "Current approach", "Difference")):
        ws.write(f"{col}14", text, f["head"])
    pressure_ulcers = sum(AEROCARE_CLINICAL[0][2]), sum(current_rows[8])
    rental = sum(AEROCARE_RUNNING[3][2]), sum(current_rows[7])
    summary = [
        (15, f"Whole-life cost over {YEARS} years", f"={TOTAL_COL}10", f"={TOTAL_COL}9", (sum(aerocare), sum(current)), "money"),
        (16, "Cost per bed per year", f"=B15/({BEDS}*{YEARS})", f"=C15/({BEDS}*{YEARS})",
         (sum(aerocare) / (BEDS * YEARS), sum(current) / (BEDS * YEARS)), "pence"),
        (17, f"Pressure ulcer treatment over {YEARS} years", f"='{WLC}'!{TOTAL_COL}17", f"={TOTAL_COL}8", pressure_ulcers, "money"),
        (18, f"Dynamic mattress rental over {YEARS} years", f"='{WLC}'!{TOTAL_COL}13", f"={TOTAL_COL}7", rental, "money"),
    ]
    for row, label, formula_b, formula_c, (b, c), fmt in summary:
        ws.write(f"A{row}", label)
        ws.write_formula(f"B{row}", formula_b, f[fmt], b)
        ws.write_formula(f"C{row}", formula_c, f[fmt], c)
        ws.write_formula(f"D{row}", f"=C{row}-B{row}", f[fmt], c - b)

    payback = next(i for i in range(len(saving)) if sum(saving[: i + 1]) >= 0)
    statements = [
        f"Net saving over {YEARS} years versus current beds and hired mattresses: £{sum(saving):,.0f}, an average of "
        f"£{sum(saving) / YEARS:,.0f} a year.",
        f"The extra capital outlay of £{-saving[0]:,.0f} in Year 0 is recovered in Year {payback}, through avoided "
        "mattress rental and pressure ulcer treatment.",
        f"Fewer hospital-acquired pressure ulcers with AeroCare avoid £{pressure_ulcers[1] - pressure_ulcers[0]:,.0f} of "
        f"treatment costs over {YEARS} years.",
        f"AeroCare removes the need to hire dynamic mattresses, saving £{CURRENT[2][2][1]:,.0f} a year.",
    ]
    for row, text in enumerate(statements, start=20):
        ws.write(f"A{row}", text)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print(write(Path(args[0]) if args else OUT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
