"""Page geometry on hand-made lines: columns, reading order, rows, running headers."""

import pytest

from extractor.parsing.layout import CELL_SEP, Line, cluster_rows, find_gutter, find_running_lines, reading_order

W, H = 600.0, 800.0


def prose(x0: float, x1: float, top: float, n: int, label: str, step: float = 12.0) -> list[Line]:
    """n lines of running text, top down, each naming its label and index."""
    return [Line(f"{label} line {i} with several words of text", x0, top - i * step - 9, x1, top - i * step) for i in range(n)]


@pytest.mark.parametrize("shuffle", [False, True])
def test_layout_reads_left_column_before_right(shuffle: bool) -> None:
    title = [Line("A title that spans both columns of the page", 50, 740, 550, 760, size=16)]
    left = prose(50, 290, 700, 20, "left")
    right = prose(310, 550, 700, 20, "right")
    lines = title + left + right
    if shuffle:  # content-stream order must not matter: interleave the columns
        lines = title + [ln for pair in zip(right, left) for ln in pair]
    rows, columns = reading_order(lines, W)
    texts = [r.text for r in rows]
    assert columns == 2
    assert texts[0].startswith("A title")
    assert texts[1:21] == [ln.text for ln in left]
    assert texts[21:] == [ln.text for ln in right]


def test_layout_full_width_element_splits_bands() -> None:
    above_l, above_r = prose(50, 290, 700, 10, "aboveL"), prose(310, 550, 700, 10, "aboveR")
    table = [Line("Table 1 a wide table row that spans the whole page", 50, 560, 550, 571)]
    below_l, below_r = prose(50, 290, 540, 10, "belowL"), prose(310, 550, 540, 10, "belowR")
    rows, _ = reading_order(above_r + below_r + table + below_l + above_l, W)
    order = [r.text.split()[0] for r in rows]
    assert order == ["aboveL"] * 10 + ["aboveR"] * 10 + ["Table"] + ["belowL"] * 10 + ["belowR"] * 10


def test_layout_three_columns_with_side_column() -> None:
    side = [Line(f"side note {i} about affiliations here", 30, 700 - 12 * i - 9, 130, 700 - 12 * i) for i in range(15)]
    left, right = prose(150, 360, 700, 15, "left"), prose(380, 580, 700, 15, "right")
    rows, columns = reading_order(right + left + side, W)
    order = [r.text.split()[0] for r in rows]
    assert columns == 3
    assert order == ["side"] * 15 + ["left"] * 15 + ["right"] * 15


def test_layout_table_cells_are_not_columns() -> None:
    cells = []
    for i in range(15):
        y = 700 - 12 * i
        cells += [Line(f"{i}.{i}", 100, y - 9, 130, y), Line(f"{i * 3}", 300, y - 9, 320, y), Line(f"0.{i}", 450, y - 9, 470, y)]
    assert find_gutter(cells, 0, W) is None
    rows, columns = reading_order(cells, W)
    assert columns == 1
    assert len(rows) == 15
    assert rows[0].text == f"0.0{CELL_SEP}0{CELL_SEP}0.0"
    assert all(r.is_table_row and r.cells == 3 for r in rows)


def test_layout_superscript_joins_its_line() -> None:
    line = Line("support during a future quit attempt.", 120, 607, 258, 616)
    sup = Line("9", 259, 612, 261, 615)
    nxt = Line("The internet could", 263, 607, 333, 616)
    rows = cluster_rows([nxt, sup, line])
    assert len(rows) == 1
    assert rows[0].text == "support during a future quit attempt.9 The internet could"
    assert not rows[0].is_table_row


def test_layout_drops_running_headers_footers_and_page_numbers() -> None:
    pages = []
    for n in range(1, 6):
        lines = [
            Line(f"www.thelancet.com Vol {n} January 2014", 50, 770, 400, 780),  # running header, changing digits
            Line(f"{n}", 295, 20, 305, 30),  # page number
            Line(f"Body text unique to page {n} " + "word " * n, 50, 400, 500, 410),
            Line("Results", 50, 700, 100, 712),  # repeated, but not in the header zone
        ]
        pages.append((lines, H))
    drops = find_running_lines(pages)
    assert drops == [{0, 1}] * 5


def test_layout_keeps_single_page_header_zone_text() -> None:
    lines = [Line("A title at the very top", 50, 770, 400, 780), Line("Body", 50, 400, 100, 410)]
    assert find_running_lines([(lines, H)]) == [set()]
