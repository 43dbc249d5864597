"""Pandoc's space-aligned Markdown tables become tables with cells, like a PDF's; nothing around them is lost."""

from __future__ import annotations

from pathlib import Path

from extractor.parsing.text import space_aligned_tables
from extractor.pipeline import parse_file

SIMPLE = """# Results

Table 2. Outcomes at 12 weeks

                      Drug A (n = 120)   Placebo (n = 118)   P value
  ------------------- ------------------ ------------------- ---------
  Wound infection     12 (10.0)          22 (18.6)           0.04
  Pain score          45.2 ± 3.1                             0.21

The table above is read as a grid.
"""

MULTILINE = """# Results

  -----------------------------------------------------------------------
  Group       Group (P)      Group (E)      Group (D/E)    *P* value
  Variable    (n = 30)       (n = 30)       (n = 30)
  ----------- -------------- -------------- -------------- ----------
  Pain at     5 (4-5)        4 (3-4)        3 (3-4)        0.0001
  rest

  Morphine    12.1 ± 2.0     10.2 ± 1.9     6.3 ± 1.1      0.001
  -----------------------------------------------------------------------

After the table, the text goes on.
"""

FENCED = """# Results

::::table-wrap
                 Control     Treated
  -------------- ----------- -----------
  Relapse        9 (39)      4 (17)::::  Box 1 describes the tool.

Next paragraph.
"""


def _parse(tmp_path: Path, text: str):
    path = tmp_path / "paper.md"
    path.write_text(text, encoding="utf-8")
    return parse_file(path)


def _cells(doc, table_index: int = 0) -> list[list[str]]:
    return [row.cells for row in doc.tables[table_index].rows]


def test_simple_table_rows_keep_their_columns_and_empty_cells(tmp_path: Path) -> None:
    doc = _parse(tmp_path, SIMPLE)
    assert _cells(doc) == [
        ["", "Drug A (n = 120)", "Placebo (n = 118)", "P value"],
        ["Wound infection", "12 (10.0)", "22 (18.6)", "0.04"],
        ["Pain score", "45.2 ± 3.1", "", "0.21"],  # the missing placebo value stays a column, not a shift
    ]
    assert "The table above is read as a grid." in doc.text
    assert not any(set(line.strip()) <= {"-", " "} and line.strip() for line in doc.text.split("\n"))  # rules are gone


def test_multiline_table_joins_wrapped_rows_and_headers(tmp_path: Path) -> None:
    doc = _parse(tmp_path, MULTILINE)
    rows = _cells(doc)
    assert rows[0] == ["Group Variable", "Group (P) (n = 30)", "Group (E) (n = 30)", "Group (D/E) (n = 30)", "*P* value"]
    assert rows[1] == ["Pain at rest", "5 (4-5)", "4 (3-4)", "3 (3-4)", "0.0001"]
    assert rows[2] == ["Morphine", "12.1 ± 2.0", "10.2 ± 1.9", "6.3 ± 1.1", "0.001"]
    assert "After the table, the text goes on." in doc.text


def test_text_after_a_table_on_its_last_line_is_kept_as_text(tmp_path: Path) -> None:
    doc = _parse(tmp_path, FENCED)
    assert _cells(doc)[-1] == ["Relapse", "9 (39)", "4 (17)"]
    assert "Box 1 describes the tool." in doc.text
    table_text = doc.text[doc.tables[0].span.start : doc.tables[0].span.end]
    assert "Box 1" not in table_text


def test_every_cell_slices_back_from_the_document_text(tmp_path: Path) -> None:
    doc = _parse(tmp_path, MULTILINE)
    for table in doc.tables:
        for row in table.rows:
            line = doc.text[row.span.start : row.span.end]
            assert line.split("\t") == row.cells


def test_a_rule_without_a_table_around_it_is_left_alone() -> None:
    lines = ["Some prose.", "  ----- -----", "More prose."]
    assert space_aligned_tables(lines) == {}
