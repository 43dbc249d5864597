"""Assertions shared by the tests."""

from __future__ import annotations

from extractor.schema import Document

# A small trial report with a two-arm results table, shared by the arm-number and rct-numeric tests.
TRIAL_RESULTS_MD = """# Results

A total of 400 patients were randomised, 200 to Drug A and 200 to placebo.

Table 2. Outcomes at 30 days

| Outcome | Drug A (n = 200) | Placebo (n = 200) |
|---|---|---|
| Mortality at 30 days | 12/200 (6.0%) | 22/200 (11.0%) |
| Length of stay, days, mean ± SD | 5.2 ± 1.1 | 6.8 ± 2.0 |
"""


def assert_grounded(doc: Document) -> None:
    """Every span of the document slices back to its text, on the page it names."""
    text = doc.text
    for page in doc.pages:
        assert text[page.offset : page.offset + len(page.text)] == page.text, f"page {page.number} offset is wrong"
    for kind, items in (("sentence", doc.sentences), ("passage", doc.passages)):
        for item in items:
            assert text[item.span.start : item.span.end] == item.text, f"{kind} span does not slice back: {item.text[:60]!r}"
            page = doc.pages[item.page - 1]
            assert page.offset <= item.span.start and item.span.end <= page.offset + len(page.text), (
                f"{kind} {item.text[:60]!r} is not on page {item.page}"
            )
            assert item.text.strip() == item.text and item.text, f"{kind} has untrimmed or empty text: {item.text[:60]!r}"
    for section in doc.sections:
        assert text[section.heading_span.start : section.heading_span.end] == section.title
        assert doc.page_at(section.heading_span.start) == section.page
    for ref in doc.references:
        assert text[ref.span.start : ref.span.end] == ref.text
        assert doc.page_at(ref.span.start) == ref.page
    for table in doc.tables:
        for row in table.rows:
            assert doc.page_at(row.span.start) == table.page
            raw = text[row.span.start : row.span.end]
            if "\t" not in raw:  # a Markdown row: pipes separate the cells
                raw = raw.replace("|", " ")
            assert " ".join(" ".join(row.cells).split()) == " ".join(raw.split())


def hostile_pdfs():
    """The hostile-PDF generator, ``bench/hostile_pdfs.py`` (a script, not a package), as a module."""
    import importlib.util
    import sys
    from pathlib import Path

    if "hostile_pdfs" not in sys.modules:
        path = Path(__file__).resolve().parent.parent / "bench" / "hostile_pdfs.py"
        spec = importlib.util.spec_from_file_location("hostile_pdfs", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["hostile_pdfs"] = module
        spec.loader.exec_module(module)
    return sys.modules["hostile_pdfs"]
