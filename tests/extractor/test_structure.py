"""Sentences, sections, tables, references and kind, on small hand-written documents."""

from pathlib import Path

import pytest

from extractor.errors import DamagedFileError, EmptyFileError, NotAPdfError, UnsupportedFileTypeError
from extractor.parsing.structure import split_sentences
from extractor.pipeline import parse_file
from extractor.schema import DocumentKind
from tests.helpers import assert_grounded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The rate fell. It then rose.", ["The rate fell.", "It then rose."]),
        ("As shown by Smith et al. the rate fell. Next one.", ["As shown by Smith et al. the rate fell.", "Next one."]),
        ("See Fig. 2 for details. Then stop.", ["See Fig. 2 for details.", "Then stop."]),
        ("Values were 0.72 (95% CI 0.60 to 0.86). P was 0.03.", ["Values were 0.72 (95% CI 0.60 to 0.86).", "P was 0.03."]),
        ("Drugs (e.g. aspirin) vs. placebo were tested. Done.", ["Drugs (e.g. aspirin) vs. placebo were tested.", "Done."]),
        ("Written by J. Smith in 2010. Later work followed.", ["Written by J. Smith in 2010.", "Later work followed."]),
        ("It worked (p<0.001). 12 patients withdrew.", ["It worked (p<0.001).", "12 patients withdrew."]),
        ("He said “it works.” Then left.", ["He said “it works.”", "Then left."]),
        ("No final stop", ["No final stop"]),
    ],
)
def test_structure_splits_sentences(text: str, expected: list[str]) -> None:
    assert [text[a:b] for a, b in split_sentences(text, 0, len(text))] == expected


MARKDOWN = """# Kelderfoam Ag: value proposition

Northbridge Medical Ltd is the supplier of this tender submission.

## Executive summary

Kelderfoam Ag may reduce dressing changes by up to 40% [1]. It costs £12.40 per dressing (2024/25 prices).

## Whole-life cost

| Item | Unit price | Annual cost |
|---|---|---|
| Dressing | £12.40 | £18,600 |
| Training | £0 | £0 |

## References

1. Smith J, Jones K. A trial of foam dressings. J Wound Care 2019;28:1-9.
2. Data on file, Northbridge Medical, 2025.
3. Brown A. Another study of dressings. BMJ 2020;370:m1.
"""


@pytest.fixture()
def md_doc(tmp_path: Path):
    path = tmp_path / "submission.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    return parse_file(path)


def test_structure_markdown_sections_and_grounding(md_doc) -> None:
    assert_grounded(md_doc)
    assert [s.label for s in md_doc.sections] == ["kelderfoam-ag-value-proposition", "abstract", "whole-life-cost", "references"]
    assert md_doc.media_type == "text/markdown"
    assert md_doc.title == "Kelderfoam Ag: value proposition"


def test_structure_markdown_table_rows_keep_their_labels(md_doc) -> None:
    [table] = md_doc.tables
    assert table.header == ["Item", "Unit price", "Annual cost"]
    assert [r.cells for r in table.rows[1:]] == [["Dressing", "£12.40", "£18,600"], ["Training", "£0", "£0"]]
    rows = [s for s in md_doc.sentences if s.in_table]
    assert any("Dressing" in s.text and "£18,600" in s.text for s in rows)


def test_structure_numbered_references(md_doc) -> None:
    assert [r.key for r in md_doc.references] == ["1", "2", "3"]
    assert md_doc.references[0].year == 2019
    assert md_doc.references[2].text.startswith("3. Brown A.")


def test_structure_reference_number_inside_an_entry_is_not_an_entry(tmp_path: Path) -> None:
    path = tmp_path / "bid.md"
    path.write_text("# Bid\n\n## Results\n\nIt worked [1].\n\n## References\n\n"
                    "1. Data on file. Dressing audit. Northbridge Medical, 2024.\n"
                    "2. Data on file. Kelderfoam Ag cost model, version 3. Northbridge Medical, 2025.\n"
                    "3. Data on file. Delivery report. Northbridge Medical, 2025.\n")
    refs = parse_file(path).references
    assert [r.key for r in refs] == ["1", "2", "3"]
    assert refs[1].text.endswith("version 3. Northbridge Medical, 2025.") and refs[2].text.startswith("3. Data on file. Delivery")


def test_structure_a_reference_list_of_one_entry(tmp_path: Path) -> None:
    path = tmp_path / "bid.md"
    path.write_text("# Bid\n\n## Results\n\nIt worked in 12 of 20 patients [1].\n\n## References\n\n"
                    "1. Smith J. A trial of the dressing. BJOG. 2020;127:100-108.\n")
    [ref] = parse_file(path).references
    assert ref.key == "1" and ref.text == "1. Smith J. A trial of the dressing. BJOG. 2020;127:100-108." and ref.year == 2020
    # a number inside the entry's line does not make it a list, and prose under the heading is no entry
    path.write_text("# Bid\n\n## Results\n\nIt worked.\n\n## References\n\nAvailable on request from 3 sites.\n")
    assert parse_file(path).references == []


def test_structure_guesses_supplier_kind_and_honours_override(md_doc, tmp_path: Path) -> None:
    assert md_doc.kind is DocumentKind.supplier_submission
    path = tmp_path / "submission.md"
    forced = parse_file(path, kind="other")
    assert (forced.kind, forced.kind_source) == (DocumentKind.other, "user")


def test_structure_author_year_references(tmp_path: Path) -> None:
    text = (
        "Abstract\nA short paper.\n\nMethods\nWe did a thing.\n\nResults\nIt worked.\n\nReferences\n"
        "Atkinson S, Lubaczewski S, Ramaker S. Desvenlafaxine in children. J Child Adolesc Psychopharmacol 2017;28:55–65. "
        "Birmaher B, Brent D. Practice parameter for depressive disorders. J Am Acad Child Adolesc Psychiatry 2007;46:1503–1526. "
        "Cohen J. Statistical Power Analysis. Hillsdale, NJ: Erlbaum; 1988.\n"
    )
    path = tmp_path / "paper.txt"
    path.write_text(text)
    doc = parse_file(path)
    assert_grounded(doc)
    assert [r.key for r in doc.references] == ["Atkinson 2017", "Birmaher 2007", "Cohen 1988"]
    assert {"abstract", "methods", "results", "references"} <= {s.label for s in doc.sections}


def test_structure_passages_stay_in_one_section_and_page(md_doc) -> None:
    for p in md_doc.passages:
        assert md_doc.text[p.span.start : p.span.end] == p.text
        assert md_doc.section_at(p.span.start) == md_doc.section_at(p.span.end - 1)


def test_structure_text_pages_split_on_form_feed(tmp_path: Path) -> None:
    path = tmp_path / "two.txt"
    path.write_text("First page sentence one. Sentence two.\fSecond page sentence.")
    doc = parse_file(path)
    assert [p.number for p in doc.pages] == [1, 2]
    assert [s.page for s in doc.sentences] == [1, 1, 2]
    assert_grounded(doc)


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("empty.txt", b"   \n\n", EmptyFileError),
        ("notes.docx", b"PK\x03\x04rest of a zip", DamagedFileError),
        ("empty.xlsx", b"", EmptyFileError),
        ("image.png", b"\x89PNG\r\n\x1a\n", NotAPdfError),
        ("data.bin", b"", EmptyFileError),
        ("table.csv", b"a,b\n1,2\n", UnsupportedFileTypeError),
        ("page.htm", b"<!DOCTYPE html><html><body>paywall</body></html>", NotAPdfError),
    ],
)
def test_structure_bad_text_inputs_name_the_file(tmp_path: Path, name: str, content: bytes, error: type) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error) as info:
        parse_file(path)
    assert name in str(info.value)
