"""Assertions shared by the tests."""

from __future__ import annotations

from extractor.schema import Document


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
